"""Grids of training configurations read from JSON, run with several seeds, summarised per configuration.

A sweep file looks like this (every grid entry is a list of values to try; a single value is allowed)::

    {"dataset": "font5x7", "arch": "font", "batch_size": 8, "n_runs": 3, "metric": "wrong_pixels",
     "grid": {"layers": [[25, 10]], "activation": ["tanh", "relu"], "initializer": ["glorot", "he"],
              "loss": ["bce"], "learning_rate": [0.005, {"initial": 0.01, "decay_rate": 0.5,
              "decay_epochs": 1000}], "latent_dim": [2], "epochs": [2000]}}

``learning_rate`` is a number (constant) or an exponential decay: the rate is multiplied by
``decay_rate`` every ``decay_epochs`` epochs.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import pathlib
import re
from typing import Any, ClassVar

import numpy as np

from keras_ae.data.registry import local_inputs
from keras_ae.errors import UsageError
from keras_ae.models.registry import ARCHITECTURES, INITIALIZERS
from keras_ae.options import OPTIONAL_POSITIVE_INT, POSITIVE, POSITIVE_INT, SEED, Each, Spec

ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSSES = {"mse": "mse", "bce": "binary_crossentropy"}
METRICS = ("final_loss", "final_val_loss", "test_mse", "test_bce", "wrong_pixels", "max_wrong_pixels")
GRID_DEFAULTS: dict[str, Any] = {"layers": [[25, 10]], "activation": ["tanh"], "initializer": ["glorot"],
                                 "loss": ["bce"], "learning_rate": [0.001], "latent_dim": [2], "epochs": [10]}
TOP_DEFAULTS: dict[str, Any] = {"dataset": "font5x7", "arch": "font", "batch_size": 32, "n_runs": 1, "seed": 0,
                                "metric": "test_mse", "train_size": None, "test_size": None, "image_size": 28,
                                "channels": 1, "passes_per_epoch": 1, "name": None, "grid": None}
MAX_CONFIGURATIONS = 10_000  # a grid is expanded in memory before anything runs
MAX_RUNS = 100_000  # configurations x seeds: more is no sweep one machine finishes (and no table one reads)
# An exponential decay of the learning rate: what each of its keys accepts.
DECAY_SPECS: dict[str, Spec] = {"initial": POSITIVE, "decay_rate": Spec(float, 0, 1, low_open=True),
                                "decay_epochs": POSITIVE_INT}
DECAY_KEYS = set(DECAY_SPECS)


@dataclasses.dataclass(frozen=True)
class Config:
    """One point of the grid."""

    layers: tuple[int, ...]
    activation: str
    initializer: str
    loss: str
    learning_rate: float | dict
    latent_dim: int
    epochs: int

    # What each numeric grid entry accepts (`learning_rate`: a number, or a decay object checked by DECAY_SPECS).
    SPECS: ClassVar[dict[str, Spec | Each]] = {
        "layers": Each(POSITIVE_INT, empty=True),  # [] is no hidden layer
        "learning_rate": POSITIVE,
        "latent_dim": POSITIVE_INT,
        "epochs": POSITIVE_INT,
    }

    def label(self) -> str:
        lr = self.learning_rate
        lr_text = f"lr {lr:g}" if not isinstance(lr, dict) else \
            f"lr {lr['initial']:g}x{lr['decay_rate']:g}/{lr['decay_epochs']}ep"
        layers = "-".join(map(str, self.layers)) or "none"
        return (f"{layers} z{self.latent_dim} {self.activation} {self.initializer} {self.loss} {lr_text} "
                f"{self.epochs}ep")


@dataclasses.dataclass
class Sweep:
    settings: dict[str, Any]
    configs: list[Config]

    # What each numeric top-level setting of a sweep file accepts.
    SPECS: ClassVar[dict[str, Spec]] = {
        "batch_size": POSITIVE_INT,
        "n_runs": POSITIVE_INT,
        "seed": SEED,  # and seed + n_runs - 1 too: run r uses seed + r
        "train_size": OPTIONAL_POSITIVE_INT,
        "test_size": OPTIONAL_POSITIVE_INT,
        "image_size": POSITIVE_INT,
        "channels": POSITIVE_INT,
        "passes_per_epoch": POSITIVE_INT,
    }


def _fail(source: str, key: str, value: Any, why: str) -> UsageError:
    return UsageError(f"config file {source}: {key}={value!r}: {why}")


def _checked(source: str, key: str, spec: Spec | Each, value: Any) -> Any:
    """`value` checked by `spec`: "config file S: 'key' must be <rule>, received <value>" as for any config file."""
    return spec.check(f"config file {source}: {key!r}", value)


def _check_learning_rate(source: str, key: str, value: Any) -> float | dict:
    if isinstance(value, dict):
        if set(value) != DECAY_KEYS:
            raise _fail(source, key, value, f"an exponential decay needs exactly the keys "
                                            f"{', '.join(sorted(DECAY_KEYS))}")
        return {name: _checked(source, f"{key}.{name}", spec, value[name]) for name, spec in DECAY_SPECS.items()}
    return _checked(source, key, Config.SPECS["learning_rate"], value)


def _check_value(source: str, key: str, value: Any) -> Any:
    """Check one grid value; returns it in canonical form."""
    name = f"grid.{key}"
    if key == "layers":
        return tuple(_checked(source, name, Config.SPECS["layers"], value))
    if key in ("activation", "initializer", "loss") and not isinstance(value, str):
        raise _fail(source, name, value, "must be a name (a string)")
    if key == "activation" and value not in ACTIVATIONS:
        raise _fail(source, name, value, f"unknown activation (known: {', '.join(ACTIVATIONS)})")
    if key == "initializer" and value not in INITIALIZERS:
        raise _fail(source, name, value, f"unknown initializer (known: {', '.join(INITIALIZERS)})")
    if key == "loss" and value not in LOSSES:
        raise _fail(source, name, value, f"unknown loss (known: {', '.join(LOSSES)})")
    if key == "learning_rate":
        return _check_learning_rate(source, name, value)
    if key in ("latent_dim", "epochs"):
        return _checked(source, name, Config.SPECS[key], value)
    return value


def parse_sweep(config: Any, source: str = "<dict>") -> Sweep:
    """Check a sweep (the parsed JSON) and expand its grid; UsageError naming the key and value otherwise."""
    if not isinstance(config, dict):
        raise UsageError(f"config file {source}: must hold a JSON object, received {type(config).__name__}")
    for key in config:
        if key not in TOP_DEFAULTS:
            raise _fail(source, key, config[key], f"unknown key (known: {', '.join(TOP_DEFAULTS)})")
    settings = {**TOP_DEFAULTS, **config}
    grid = settings.pop("grid")
    if not isinstance(grid, dict) or not grid:
        raise _fail(source, "grid", grid, "must be a non-empty object of lists of values to try")
    for key, values in grid.items():
        if key not in GRID_DEFAULTS:
            raise _fail(source, f"grid.{key}", values, f"unknown key (known: {', '.join(GRID_DEFAULTS)})")
    if not isinstance(settings["arch"], str):
        raise _fail(source, "arch", settings["arch"], "must be an architecture name")
    if settings["arch"] not in ARCHITECTURES:
        raise _fail(source, "arch", settings["arch"], f"unknown architecture (known: {', '.join(ARCHITECTURES)})")
    if settings["metric"] not in METRICS:
        raise _fail(source, "metric", settings["metric"], f"unknown metric (known: {', '.join(METRICS)})")
    if not isinstance(settings["dataset"], str):
        raise _fail(source, "dataset", settings["dataset"], "must be a dataset name")
    from keras_ae.data.registry import DATASETS, PREFIXES, prefixed

    if settings["dataset"] not in DATASETS and prefixed(settings["dataset"]) is None:  # known before any run
        known = ", ".join([*DATASETS, *(prefix + entry.placeholder for prefix, entry in PREFIXES.items())])
        raise _fail(source, "dataset", settings["dataset"], f"unknown dataset (known: {known})")
    for key, spec in Sweep.SPECS.items():
        settings[key] = _checked(source, key, spec, settings[key])
    name = settings["name"]
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"[\w.-]+", name) and name.strip(".")):
        raise _fail(source, "name", name, "must be a plain name (letters, digits, '.', '-', '_'): it names the "
                                          "run directory runs/experiment-<name>")
    if settings["channels"] not in (1, 3):
        raise _fail(source, "channels", settings["channels"], "must be 1 or 3")
    if prefixed(settings["dataset"]) is None and (settings["image_size"], settings["channels"]) != (28, 1):
        raise _fail(source, "image_size" if settings["image_size"] != 28 else "channels",
                    settings["image_size"] if settings["image_size"] != 28 else settings["channels"],
                    "applies to the images of folder:, tfds: and medmnist: datasets, not to "
                    f"{settings['dataset']!r}")
    for folder in local_inputs(settings["dataset"]):  # a folder: dataset, found by --dry-run too
        if not pathlib.Path(folder).is_dir():
            raise _fail(source, "dataset", settings["dataset"], "no such folder")
    last = settings["seed"] + settings["n_runs"] - 1
    if last >= 2**32:  # run r is seeded with seed + r
        raise UsageError(f"config file {source}: 'seed' + 'n_runs' - 1 (the last run's seed) must be < {2**32}, "
                         f"received {last}")

    sizes = [len(v) if isinstance(v, list) and not (k == "layers" and v and not isinstance(v[0], list)) else 1
             for k, v in grid.items()]
    if math.prod(sizes) > MAX_CONFIGURATIONS:
        raise UsageError(f"config file {source}: the grid makes {math.prod(sizes):,} configurations, more than "
                         f"{MAX_CONFIGURATIONS:,}; try fewer values")
    if math.prod(sizes) * settings["n_runs"] > MAX_RUNS:
        raise UsageError(f"config file {source}: {math.prod(sizes):,} configurations x {settings['n_runs']:,} seeds "
                         f"('n_runs') make {math.prod(sizes) * settings['n_runs']:,} runs, more than {MAX_RUNS:,}; "
                         "try fewer values or seeds")
    axes = {}
    for key, default in GRID_DEFAULTS.items():
        values = grid.get(key, default)
        if not isinstance(values, list) or (key == "layers" and values and not isinstance(values[0], list)):
            values = [values]  # a single value
        if not values:
            raise _fail(source, f"grid.{key}", values, "is empty: give at least one value")
        axes[key] = [_check_value(source, key, v) for v in values]
        seen = []
        for value in axes[key]:  # 2 and 2.0, or "tanh" twice: the same configuration run twice
            if value in seen:
                raise _fail(source, f"grid.{key}", values, f"lists {value!r} twice")
            seen.append(value)
    passes = settings["passes_per_epoch"]
    if any(epochs % passes for epochs in axes["epochs"]):  # a Keras epoch holds that many passes: no part of one
        raise _fail(source, "grid.epochs", grid.get("epochs", GRID_DEFAULTS["epochs"]),
                    f"each must be a multiple of passes_per_epoch ({passes}): every Keras epoch makes {passes} "
                    "passes over the images")
    if ARCHITECTURES[settings["arch"]].variational and () in axes["layers"]:  # a VAE needs a layer before its code
        raise _fail(source, "grid.layers", grid.get("layers"), "a VAE needs at least one hidden layer in each")
    if ARCHITECTURES[settings["arch"]].variational and axes["loss"] != ["bce"]:
        raise _fail(source, "grid.loss", grid.get("loss"), "a VAE is trained on BCE + KL; use [\"bce\"]")
    configs = [Config(*values) for values in itertools.product(*axes.values())]
    return Sweep(settings, configs)


def learning_rate_for(config: Config, steps_per_epoch: float):
    """A float, or a keras ExponentialDecay schedule for a decay object (decay counted in epochs of
    `steps_per_epoch` optimizer steps, a fraction where several passes share one Keras epoch)."""
    lr = config.learning_rate
    if not isinstance(lr, dict):
        return lr
    import keras

    return keras.optimizers.schedules.ExponentialDecay(
        lr["initial"], decay_steps=lr["decay_epochs"] * steps_per_epoch, decay_rate=lr["decay_rate"])


def build_model(arch: str, config: Config, input_shape: tuple[int, ...], seed: int):
    """The autoencoder of one configuration: `layers` go to the builder argument the registry names for
    layer widths (dense widths, or conv filters), with the configuration's code size, activation and
    initializer."""
    entry = ARCHITECTURES[arch]
    options = entry.options(latent_dim=config.latent_dim, layers=config.layers,  # () is no hidden layer
                            activation=config.activation, kernel_initializer=INITIALIZERS[config.initializer],
                            seed=seed)
    return entry.build_fn()(input_shape=input_shape, **options)


def run_one(settings: dict, config: Config, x_train: np.ndarray, x_test: np.ndarray,
            seed: int) -> tuple[dict, dict]:
    """Train one configuration with one seed; returns (a results row, its per-epoch history)."""
    from keras_ae import training
    from keras_ae.lectures import characters

    training.set_seed(seed)
    passes = settings["passes_per_epoch"]
    if ARCHITECTURES[settings["arch"]].flat:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    model = build_model(settings["arch"], config, x_train.shape[1:], seed)
    train = np.concatenate([x_train] * passes) if passes > 1 else x_train
    steps = math.ceil(len(train) / settings["batch_size"])
    training.compile_model(model.autoencoder, loss=LOSSES[config.loss],
                           learning_rate=learning_rate_for(config, steps / passes))
    result = training.fit(model, train, x_test, epochs=math.ceil(config.epochs / passes),
                          batch_size=settings["batch_size"], seed=seed, verbose=0, train_loss_after_epoch=False,
                          refuse_divergence=None)  # a configuration that diverges is a result: its row says NaN
    scores = training.evaluate_reconstruction(model.autoencoder, x_test, x_test)
    reconstruction = model.autoencoder.predict(x_test, verbose=0)
    errors = characters.pixel_errors(reconstruction, x_test)
    row = {"final_loss": result.history["loss"][-1], "final_val_loss": result.history.get("val_loss", [np.nan])[-1],
           "test_mse": scores["mse"], "test_bce": scores["bce"], "wrong_pixels": float(errors.mean()),
           "max_wrong_pixels": int(errors.max()), "epochs_run": result.epochs * passes,
           "seconds": round(result.seconds, 2)}
    if not np.isfinite(row["final_loss"]) or not np.isfinite(reconstruction).all():  # diverged: no result to rank
        row.update({name: np.nan for name in METRICS})
    return row, result.history
