"""A training run: one architecture on one dataset, leaving a complete run directory behind.

``run_train(TrainConfig(arch="conv", noise=0.5))`` trains and writes encoder/decoder/autoencoder
(.keras), history.csv, the pictures and metrics.json (last: its presence marks a finished run).
`keras-ae-train` is this function behind argparse.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Any

from keras_ae.errors import UsageError
from keras_ae.runs.common import (
    dataset_sizes,
    load_with_fallback,
    options_of,
    require_finite,
    run_directory,
    unfinished_marker,
)
from keras_ae.runs.train_config import TrainConfig  # noqa: F401  (public here: run_train(TrainConfig(...)))


@dataclasses.dataclass
class TrainResult:
    run_dir: pathlib.Path
    metrics: dict[str, Any]
    bundle: Any
    history: dict[str, list[float]]


def load_data(config: TrainConfig):
    """The dataset of `config` (a `StreamDataset` when streamed), with the registry's offline fallback."""
    size = (config.image_size, config.image_size) if config.image_size else None
    if config.streams:
        from keras_ae.data import DownloadError
        from keras_ae.data.stream import TEST_LIMIT, load_stream

        try:
            return load_stream(config.dataset, value_range=config.value_range, image_size=size,
                               channels=config.channels, seed=config.seed, test_limit=config.test_size or TEST_LIMIT,
                               train_limit=config.train_size)
        except DownloadError as err:  # a streamed dataset has no offline fallback
            raise UsageError(str(err)) from None  # it names the dataset
    from keras_ae.models.registry import ARCHITECTURES

    pairs = ARCHITECTURES.get(config.arch).variational and config.pairs  # pairs only for a VAE (smileys)
    return load_with_fallback(config.dataset, value_range=config.value_range, image_size=size,
                              channels=config.channels or 1, seed=config.seed, pairs=pairs, path=config.data_path)


def build_model(config: TrainConfig, input_shape: tuple[int, ...]):
    """The architecture of `config` for `input_shape`, with the options its builder takes."""
    from keras_ae.models.registry import ARCHITECTURES

    arch = ARCHITECTURES.get(config.arch)
    extra = dict(config.model_options or {})
    if config.value_range == "-1,1":
        extra["output_activation"] = "tanh"
    if arch.variational:
        extra.update(beta=config.beta, seed=config.seed, **({"capacity": config.capacity} if config.capacity else {}))
    from keras_ae.models.base import ModelTooLarge

    try:
        return arch.build_fn()(input_shape=input_shape, **arch.options(latent_dim=config.latent_dim, **extra))
    except ModelTooLarge as err:
        raise UsageError(str(err)) from None
    except (ValueError, TypeError) as err:  # a builder's own check (or Keras's) of a value model_options gave
        if not config.model_options:
            raise
        import json

        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UsageError(f"model_options={json.dumps(config.model_options)}: the {config.arch!r} builder refused "
                         f"them: {first}", param="model_options") from None


def run_train(config: TrainConfig) -> TrainResult:
    """Train `config.arch` on `config.dataset` and write the run directory; returns what was made.

    Seeds, op determinism and the mixed-precision policy are restored when the run ends, also on failure.
    """
    config.check()
    config = config.resolved()
    from keras_ae import training

    training.configure_gpus()  # before TensorFlow touches a GPU
    # Keras refuses XLA while TensorFlow's op determinism is on, so jit gives up bitwise-repeatable runs.
    with training.global_state(seed=config.seed, deterministic=not config.jit,
                               mixed_precision=config.mixed_precision):
        return _run(config)


def _run(config: TrainConfig) -> TrainResult:
    from keras_ae import artifacts, training
    from keras_ae.data import add_noise
    from keras_ae.models.registry import ARCHITECTURES
    from keras_ae.runs import train_pictures, train_vae

    arch = ARCHITECTURES.get(config.arch)
    strategy = training.get_strategy(config.strategy)  # first: multi-worker must exist before other TF work
    run_dir = run_directory(config.out, config.arch)
    data = load_data(config)
    factors = data.info.pop("factors", None)  # known generative factors (smileys): arrays, not metadata
    if factors is not None:
        data.info["factor_names"] = factors["names"]
    if config.streams:
        x_train, train_images = data.train, data.train_size
    else:
        x_train = data.x_train[: config.train_size]
        train_images = len(x_train)
    if train_images is not None and train_images < 2:
        raise UsageError(f"dataset {config.dataset}: {train_images} training image(s); at least 2 are needed")
    # weak supervision: pairs of training images that share some factors (smileys), for a VAE
    pairs = getattr(data, "x_pairs", None) if arch.variational and config.pairs else None
    pairs = pairs[: config.train_size] if pairs is not None else None
    pair_changes = None if pairs is None else data.pair_changes  # a StreamDataset has no pairs
    x_test = data.x_test[: config.test_size]
    if not config.streams:
        require_finite(config.dataset, training=x_train, test=x_test)
    if len(x_test) < 1:
        raise UsageError(f"dataset {config.dataset}: no test images (the validation curve and the test scores need "
                         "at least 1)")
    y_test = data.y_test[: config.test_size] if data.y_test is not None else None
    value_range = (-1.0, 1.0) if config.value_range == "-1,1" else (0.0, 1.0)
    noise = (config.noise_kind, config.noise) if config.noise else None

    with strategy.scope():  # variables (weights, optimizer slots) live where the strategy puts them
        bundle = build_model(config, data.image_shape)
        loss = "mse" if config.value_range == "-1,1" else arch.loss
        training.compile_model(bundle.autoencoder, loss=loss, learning_rate=config.lr,
                               jit_compile="auto" if config.jit is None else config.jit,
                               steps_per_execution=config.steps_per_execution)
    with unfinished_marker(run_dir, 'train'):
        print(f"run directory: {run_dir}")
        try:
            options = dict(batch_size=config.batch_size, noise=noise, seed=config.seed, verbose=config.verbose,
                           value_range=value_range, shuffle_buffer=config.shuffle_buffer,
                           cache=config.streams and (data.cacheable if config.cache is None else config.cache))
            if arch.variational:
                result = train_vae.fit_vae(bundle, x_train, pairs, x_test, config, pair_changes, **options)
            else:
                result = training.fit(bundle, x_train, x_test, epochs=config.epochs, **options)
        except Exception as err:  # a streamed image that cannot be decoded: tf.errors.InvalidArgumentError
            if not (config.streams and type(err).__name__ == "InvalidArgumentError"):
                raise
            found = data.undecodable() if hasattr(data, "undecodable") else None
            if found is not None:
                raise found from None
            raise UsageError(f"dataset {config.dataset}: cannot decode an image while streaming: "
                             f"{err.message.splitlines()[0]}") from None
        x_test_in = add_noise(x_test, noise[0], noise[1], seed=config.seed + 1, low=value_range[0],
                              high=value_range[1]) if noise else x_test
        scores = training.evaluate_reconstruction(bundle.autoencoder, x_test_in, x_test, value_range=value_range)

        artifacts.save_models(bundle, run_dir)
        artifacts.save_history(result.history, run_dir / "history.csv")
        reports, codes, dim_names = ({}, None, None)
        if arch.variational:  # one pass of the encoder over the test images for every VAE report
            reports, codes, dim_names = train_pictures.vae_metrics(bundle, x_train, x_test, factors, run_dir,
                                                                   config.seed, config.streams)
        pictures = train_pictures.write(config, bundle, result.history, x_test_in, x_test, y_test, run_dir,
                                        value_range, codes, dim_names, dataset=data.info.get("name"),
                                        label_names=data.info.get("label_names"),
                                        label_title=data.info.get("label_title", "label"),
                                        stages=result.stages)
        if "latent_factors" in reports:
            pictures.append("factor_correlation.png")
        metrics = {
            "arch": config.arch, "test_bce": scores["bce"], "test_mse": scores["mse"],
            "test_inputs": f"{noise[0]} noise {noise[1]:g} added, clean targets" if noise else "clean",
            "final_loss": result.history["loss"][-1], "final_val_loss": result.history.get("val_loss", [None])[-1],
            "parameters": int(bundle.autoencoder.count_params()), "epochs": result.epochs,
            "seconds": round(result.seconds, 3), "seconds_per_epoch": round(result.seconds / result.epochs, 3),
            "device": training.device_name(), "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
            "strategy": type(strategy).__name__,
            "replicas": int(strategy.num_replicas_in_sync), "mixed_precision": bool(config.mixed_precision),
            "jit_compile": bool(bundle.autoencoder.jit_compile), "deterministic": not config.jit,
            "images_per_second": round(train_images * (result.epochs + (0 if pairs is None else config.epochs))
                                       / result.seconds, 1),  # a pair is two images
            "weak_supervision": None if pairs is None else train_vae.weak_supervision(len(pairs), pair_changes),
            "dataset": dataset_sizes(data.info, train_images, len(x_test)), "train_images": int(train_images),
            "test_images": int(len(x_test)),
            "seed": config.seed, "noise": {"kind": config.noise_kind, "amount": config.noise} if noise else None,
            "options": options_of(config), "pictures": pictures,
        }
        metrics.update(reports)
        artifacts.write_json(run_dir / "metrics.json", metrics)  # last: its presence marks a finished run
        return TrainResult(run_dir, metrics, bundle, result.history)
