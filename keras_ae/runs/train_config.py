"""What a training run takes: `TrainConfig`, each option checked by one specification (`keras_ae.options`), and
the defaults it resolves to (the dataset's training preset, then the architecture's).
"""

from __future__ import annotations

import dataclasses
import os
from typing import ClassVar

from keras_ae.errors import UsageError
from keras_ae.options import FLOAT32_MAX, OPTIONAL_POSITIVE_INT, POSITIVE_INT, SEED, Spec, check_fields, check_verbose

DEFAULT_SHUFFLE_BUFFER = 10_000  # images, for streamed data


# the VAE's options, each with the value that changes nothing, which a run of another architecture records: given
# to one, that value is accepted (options copied from its metrics.json load again), any other is refused
VAE_ONLY = {"capacity": 0.0, "capacity_epochs": None, "ae_epochs": 0, "beta": 1.0, "kl_warmup": 0}


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run takes; None means the dataset's training preset (`DatasetEntry.train_defaults`,
    used when `arch` is None) or else the architecture's default."""

    arch: str | None = None
    dataset: str = "mnist"
    data_path: str | None = None  # pneumonia, medmnist:NAME: a local copy of the set's file
    image_size: int | None = None
    channels: int | None = None
    stream: bool = False
    cache: bool | None = None
    shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER
    value_range: str = "0,1"
    noise: float | None = None
    noise_kind: str = "gaussian"
    epochs: int | None = None
    batch_size: int | None = None
    latent_dim: int | None = None
    lr: float | None = None
    beta: float | None = None
    kl_warmup: int | None = None
    capacity: float | None = None  # nats; the VAE's KL term becomes beta * |KL - C|, C annealed from 0
    capacity_epochs: int | None = None  # epochs over which C rises (default: all of them)
    ae_epochs: int | None = None  # VAE: epochs as a plain autoencoder (beta 0, single images) before `epochs`
    model_options: dict | None = None
    pairs: bool = True  # a VAE trains on the dataset's pairs of images sharing factors, where it has them
    seed: int = 0
    train_size: int | None = None
    test_size: int | None = None
    out: str | None = None
    mixed_precision: bool = False
    jit: bool | None = None
    strategy: str = "auto"
    steps_per_execution: int = 1
    verbose: int | str = 1  # or "auto" (Keras's choice)

    # What every numeric field accepts: the argparse type of its option in `keras-ae-train` and the check here.
    SPECS: ClassVar[dict[str, Spec]] = {
        "image_size": OPTIONAL_POSITIVE_INT,
        "channels": OPTIONAL_POSITIVE_INT,  # and 1 or 3 (checked below)
        "shuffle_buffer": POSITIVE_INT,
        "noise": Spec(float, 0, 1, optional=True),
        "epochs": OPTIONAL_POSITIVE_INT,
        "batch_size": OPTIONAL_POSITIVE_INT,
        "latent_dim": OPTIONAL_POSITIVE_INT,
        # the model keeps these in float32 variables: a larger number could not be held
        "lr": Spec(float, 0, FLOAT32_MAX, low_open=True, optional=True),  # options.LEARNING_RATE, or None
        "beta": Spec(float, 0, FLOAT32_MAX, optional=True),
        "kl_warmup": Spec(int, 0, optional=True),
        "capacity": Spec(float, 0, FLOAT32_MAX, optional=True),
        "capacity_epochs": OPTIONAL_POSITIVE_INT,
        "ae_epochs": Spec(int, 0, optional=True),
        "seed": SEED,
        "train_size": OPTIONAL_POSITIVE_INT,
        "test_size": OPTIONAL_POSITIVE_INT,
        "steps_per_execution": Spec(int, 1, 2**31 - 1),  # Keras counts the steps in a 32-bit integer
    }

    # builder arguments the run sets from its own options or data (the last three for a VAE only): given in
    # model_options too, one would be lost
    RUN_SET: ClassVar[dict[str, str]] = {"input_shape": "from the dataset's images",
                                         "output_activation": "by its value_range, which its loss is chosen for",
                                         "seed": "by its seed", "beta": "by its beta", "capacity": "by its capacity"}

    def _check_model_options(self, arch) -> None:
        """model_options must name arguments the architecture's builder takes, none of them set by the run."""
        import inspect

        params = arch.parameters()
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        plain = ("input_shape", "output_activation")
        run_set = self.RUN_SET if arch.variational else {key: self.RUN_SET[key] for key in plain}
        for key in self.model_options or {}:
            # the code size is latent_dim's (a sequence, "filters", only has its last entry set by latent_dim)
            default = params[key].default if key in params else None
            code_size = key == arch.latent_arg and not isinstance(default, (tuple, list))
            if key in run_set or code_size:
                raise UsageError(f"model_options: {key!r} is set by the run "
                                 f"({run_set.get(key, 'by its latent_dim: give the code size there')})",
                                 param="model_options")
            if not takes_any and key not in params:
                known = ", ".join(k for k in params if k not in run_set)
                raise UsageError(f"model_options: the {self._arch_name()!r} builder takes no argument {key!r} "
                                 f"(it takes: {known})", param="model_options")

    def check(self) -> None:
        """UsageError naming the first field out of range (the rule of its `SPECS` entry), before any work."""
        from keras_ae.data.noise import NOISE_KINDS
        from keras_ae.models.registry import ARCHITECTURES
        from keras_ae.training.strategy import STRATEGIES

        check_fields(self)
        check_verbose(self.verbose)
        if self.channels is not None and self.channels not in (1, 3):
            raise UsageError(f"channels must be 1 or 3, received {self.channels}")
        arch = ARCHITECTURES.get(self._arch_name())  # the one that will train (named, the dataset's preset, conv)
        if not arch.variational:  # options that would be ignored: say so (not the values every run records)
            for field, neutral in VAE_ONLY.items():
                if getattr(self, field) is not None and getattr(self, field) != neutral:
                    raise UsageError(f"{field} is for a VAE (--arch vae or conv-vae), received arch="
                                     f"{self._arch_name()!r}", param=field)
        if not arch.variational and not self.pairs:  # an option that would be ignored: say so
            raise UsageError(f"--no-pairs (pairs=False) is for a VAE (--arch vae or conv-vae), received arch="
                             f"{self._arch_name()!r}", param="pairs")
        if arch.variational and self.value_range == "-1,1":
            raise UsageError("value_range='-1,1' is for the plain autoencoders: a VAE's reconstruction term is a "
                             "Bernoulli likelihood (binary cross-entropy), which needs pixels in [0, 1]",
                             param="value_range")
        if self.capacity_epochs is not None and not self.capacity:  # options that would be ignored: say so
            raise UsageError("capacity_epochs sets how fast the KL target rises: it needs capacity > 0",
                             param="capacity_epochs")
        if self.noise_kind != "gaussian" and (self.noise == 0 or (self.noise is None and not arch.noise)):
            raise UsageError(f"noise_kind={self.noise_kind!r} is the kind of noise of a denoiser: it needs noise > 0",
                             param="noise_kind")
        STRATEGIES.get(self.strategy)
        if self.model_options is not None and not isinstance(self.model_options, dict):
            raise ValueError(f"Expected model_options to be a dict, received model_options={self.model_options!r}")
        self._check_model_options(arch)
        if self.noise_kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise_kind {self.noise_kind!r} (known: {', '.join(NOISE_KINDS)})")
        if self.value_range not in ("0,1", "-1,1"):
            raise ValueError(f"Expected value_range '0,1' or '-1,1', received value_range={self.value_range!r}")
        from keras_ae.data.registry import PREFIXES, prefixed

        backend = os.environ.get("KERAS_BACKEND", "tensorflow")  # keras_ae sets it (default tensorflow)
        if self.streams and backend != "tensorflow":
            raise UsageError(f"dataset={self.dataset!r} is streamed: streaming needs the TensorFlow backend "
                             f"(KERAS_BACKEND=tensorflow); Keras runs on {backend}", param="dataset")
        found = prefixed(self.dataset)
        if self.data_path is not None and not self._takes_path():
            raise UsageError(f"data_path is for datasets read from a file (pneumonia, medmnist:NAME), received "
                             f"dataset={self.dataset!r}", param="data_path")
        for field in ("image_size", "channels"):
            if getattr(self, field) is not None and found is None:
                prefixes = ", ".join(prefix + entry.placeholder for prefix, entry in PREFIXES.items())
                raise UsageError(f"{field} applies to the images of {prefixes}; dataset {self.dataset!r} has its own "
                                 "size and channels", param=field)
        if self.stream and (found is None or not found[0].stream):
            names = " or ".join(prefix + entry.placeholder for prefix, entry in PREFIXES.items() if entry.stream)
            raise UsageError(f"stream reads {names}, received dataset {self.dataset!r}", param="stream")
        if self.cache and not self.streams:
            raise UsageError(f"cache applies to streamed images (stream=True); dataset {self.dataset!r} is held in "
                             "memory", param="cache")
        # values away from the default that would be ignored: say so (the defaults themselves are what every run
        # records, so options copied from an earlier run still load)
        if self.shuffle_buffer != DEFAULT_SHUFFLE_BUFFER and not self.streams:
            raise UsageError(f"shuffle_buffer applies to streamed images (stream=True); dataset {self.dataset!r} is "
                             "held in memory and fully shuffled", param="shuffle_buffer")

    def _takes_path(self) -> bool:
        """Whether the dataset's loader reads a local copy of its file (an unknown name is refused here)."""
        from keras_ae.data.registry import dataset_entry, prefixed

        found = prefixed(self.dataset)
        if found is not None and not found[0].entry:  # folder:PATH, tfds:NAME: no file of their own
            return False
        return dataset_entry(self.dataset).takes_path

    def _preset(self) -> dict:
        """The dataset's training preset, which applies when the architecture is left out (naming one asks for its
        own defaults); {} otherwise."""
        from keras_ae.data.registry import DATASETS

        preset = DATASETS.get(self.dataset).train_defaults if self.dataset in DATASETS and self.arch is None else None
        return dict(preset or {})

    def _arch_name(self) -> str:
        """The architecture this config trains: the one named, else the dataset's training preset's, else conv."""
        return self.arch or self._preset().get("arch", "conv")

    def resolved(self) -> TrainConfig:
        """A copy with the defaults filled in: the dataset's training preset when no architecture is named
        (smileys: the conv VAE of `keras_ae.data.smileys.TRAIN_DEFAULTS`), then the architecture's (epochs,
        batch size, the denoiser's noise), then lr 1e-3, beta 1, no KL warm-up."""
        from keras_ae.models.registry import ARCHITECTURES

        preset, name = self._preset(), self._arch_name()
        arch = ARCHITECTURES.get(name)
        noise = arch.noise if self.noise is None else self.noise

        def pick(field, fallback):
            value = getattr(self, field)
            return value if value is not None else preset.get(field, fallback)

        return dataclasses.replace(
            self, arch=name, epochs=self.epochs or preset.get("epochs", arch.epochs),
            batch_size=self.batch_size or preset.get("batch_size", arch.batch_size), noise=noise,
            latent_dim=pick("latent_dim", None), lr=pick("lr", 1e-3), beta=pick("beta", 1.0),
            kl_warmup=pick("kl_warmup", 0), capacity=pick("capacity", 0.0),
            capacity_epochs=pick("capacity_epochs", None), ae_epochs=pick("ae_epochs", 0),
            model_options={**preset.get("model_options", {}), **(self.model_options or {})} or None)  # yours win

    @property
    def streams(self) -> bool:
        from keras_ae.data.registry import prefixed

        found = prefixed(self.dataset)
        return self.stream or (found is not None and found[0].always_streams)
