"""A run directory: the three models (.keras), history.csv and metrics.json, written and read back."""

from __future__ import annotations

import os
import pathlib
import zipfile

import keras
import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.io import atomic_path, read_json, write_json
from keras_ae.models.base import Autoencoder
from keras_ae.run_marker import check_finished

__all__ = ["load_models", "read_metrics", "save_history", "save_models", "write_json"]

MODEL_FILES = ("encoder", "decoder", "autoencoder")


def save_models(bundle: Autoencoder, run_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Save encoder, decoder and autoencoder as ``<run_dir>/<name>.keras`` (each written atomically)."""
    paths = []
    for name, model in zip(MODEL_FILES, bundle):
        path = pathlib.Path(run_dir) / f"{name}.keras"
        with atomic_path(path) as tmp:
            model.save(tmp)
        paths.append(path)
    return paths


def load_models(run_dir: str | os.PathLike, compile: bool = True) -> Autoencoder:
    """Load the three models of a run directory back into an Autoencoder (UsageError for an unfinished run, or
    model files of two runs); the encoder and decoder are the autoencoder's own parts, sharing its weights."""
    import keras_ae.models.vae  # noqa: F401  (registers the custom classes)
    run_dir = check_finished(run_dir)
    missing = [name for name in MODEL_FILES if not (run_dir / f"{name}.keras").is_file()]
    if missing:
        inside = sorted(p.name for p in run_dir.glob("normal-*") if (p / "encoder.keras").is_file())
        hint = f"; the models of a run of every class are in its normal-* folders ({inside[0]}, ...)" if inside else \
            "; load a run directory of train.py or anomaly.py"
        raise UsageError(f"{run_dir} holds no {missing[0]}.keras{hint}")
    models = []
    for name in MODEL_FILES:
        path = run_dir / f"{name}.keras"
        if not zipfile.is_zipfile(path):  # Keras says "File not found" of an empty or cut file
            raise UsageError(f"cannot load {path}: not a Keras model file (a .keras file is a zip archive; this one "
                             f"of {path.stat().st_size:,} bytes is not: empty, cut short or another kind of file)")
        try:
            models.append(keras.saving.load_model(path, compile=compile))
        except (ValueError, TypeError, OSError, KeyError) as err:  # a damaged file, a class Keras does not know
            text = " ".join(str(err).split())[:200]
            raise UsageError(f"cannot load {path}: damaged or not a Keras model file ({text})") from None
        if any(not np.isfinite(w).all() for w in models[-1].get_weights()):
            raise UsageError(f"cannot load {path}: some of its weights are not numbers (NaN or infinite)")
    encoder, decoder, autoencoder = models
    _check_roles(run_dir, encoder, decoder, autoencoder)
    # The autoencoder holds the encoder and decoder as layers (every shipped builder's): returned, they share its
    # weights again, so training the loaded autoencoder goes on moving them (the files loaded alone would not)
    inner = {layer.name: layer for layer in autoencoder.layers if isinstance(layer, keras.Model)}
    if encoder.name in inner and decoder.name in inner:
        _check_one_run(run_dir, (encoder, inner[encoder.name]), (decoder, inner[decoder.name]))
        encoder, decoder = inner[encoder.name], inner[decoder.name]
    return Autoencoder(encoder, decoder, autoencoder)


def _check_roles(run_dir: pathlib.Path, encoder: keras.Model, decoder: keras.Model, autoencoder: keras.Model) -> None:
    """A UsageError when encoder.keras and decoder.keras hold each other's model (the names inside move with the
    files), or when encoder.keras does not take what the autoencoder takes in. Shapes are compared where both are
    known (a None size fits any) and of one rank (an autoencoder may reshape before its encoder); a model that does
    not say its shapes (a subclassed one) is not compared."""
    if encoder.name == "decoder" and decoder.name == "encoder":
        raise UsageError(f"{run_dir}: encoder.keras holds the model named 'decoder' and decoder.keras the one named "
                         "'encoder': the two files are swapped")
    try:
        taken = autoencoder.input_shape
    except AttributeError:  # a VAE, a subclassed model, knows it through its encoder
        taken = getattr(getattr(autoencoder, "encoder", None), "input_shape", None)
    try:
        given = encoder.input_shape
    except AttributeError:
        return
    if _shape_clash(given, taken):
        raise UsageError(f"{run_dir / 'encoder.keras'} does not take what the autoencoder takes in (input {given}, "
                         f"the autoencoder's {taken}): are encoder.keras and decoder.keras swapped, or from another "
                         "run?")


def _shape_clash(a, b) -> bool:
    """Two shapes known, of one rank, that differ in a size both give."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
        return False
    return any(x is not None and y is not None and x != y for x, y in zip(a, b))


def _check_one_run(run_dir: pathlib.Path, *pairs) -> None:
    """Each (model file, the autoencoder's part of that name) pair holds the same weights: the parts are shared
    while a run trains, so the files one run saves agree; a file copied in from another run does not."""
    for alone, part in pairs:
        a, b = alone.weights, part.weights
        if len(a) != len(b) or any(tuple(x.shape) != tuple(y.shape) or
                                   not np.array_equal(x.numpy(), y.numpy(), equal_nan=True) for x, y in zip(a, b)):
            raise UsageError(f"the models in {run_dir} are not from one run: autoencoder.keras's {part.name} differs "
                             f"from {alone.name}.keras (a file copied in from another run?)")


def save_history(history: dict[str, list[float]], path: str | os.PathLike) -> pathlib.Path:
    """Write per-epoch history as CSV with an `epoch` column starting at 1."""
    frame = pd.DataFrame(history)
    frame.insert(0, "epoch", range(1, len(frame) + 1))
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return pathlib.Path(path)


def read_metrics(run_dir: str | os.PathLike) -> dict:
    """metrics.json of a finished run (UsageError for an unfinished one: interrupted, failed or still going)."""
    path = check_finished(run_dir) / "metrics.json"
    metrics = read_json(path, what="metrics file")
    if not isinstance(metrics, dict):
        raise UsageError(f"metrics file {path} holds no JSON object of metrics")
    return metrics
