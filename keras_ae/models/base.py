"""What every builder returns, and the argument checks they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import keras
import numpy as np

from keras_ae.models import arguments
from keras_ae.models.arguments import is_int
from keras_ae.models.registry import INITIALIZERS, initializer_name  # noqa: F401  (builders import them here)


class Autoencoder(NamedTuple):
    """Three models that share weights; unpacks as ``encoder, decoder, autoencoder``.

    ``autoencoder(x)`` equals ``decoder(encoder(x))`` (for a VAE: ``decoder(z_mean)`` at inference).
    """

    encoder: keras.Model
    decoder: keras.Model
    autoencoder: keras.Model


def compiled(model: keras.Model, output_activation: str = "sigmoid") -> keras.Model:
    """`model` compiled the way the lecture trains it, so ``autoencoder.fit(x, x)`` works right after building:
    Adam (learning rate 1e-3) and binary cross-entropy for sigmoid outputs (pixels in [0, 1]), mean squared
    error otherwise; a VAE brings its own loss. Compile again to change either (the training command does).
    """
    if getattr(model, "brings_own_loss", False):
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    else:
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="binary_crossentropy" if output_activation == "sigmoid" else "mse")
    return model


def check_input_shape(input_shape: Sequence[int], rank: int | None = None) -> tuple[int, ...]:
    """Return `input_shape` as a tuple of positive ints, or raise ValueError naming it."""
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__iter__") or \
            not all(is_int(d) for d in input_shape):
        raise ValueError(f"Expected input_shape as a tuple of integers, received input_shape={input_shape!r}")
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(f"Expected input_shape of positive sizes, received input_shape={input_shape}")
    if rank is not None and len(shape) != rank:
        raise ValueError(f"Expected input_shape with {rank} dimensions, received input_shape={input_shape}")
    return shape


def check_positive(name: str, value: int) -> int:
    """`value` as a Python int; a ValueError naming `name` unless it is a positive integer."""
    if not is_int(value) or int(value) <= 0:
        raise ValueError(f"Expected {name} to be a positive integer, received {name}={value!r}")
    return int(value)


MAX_WEIGHTS = 2**30  # weights a builder makes at most: 4 GiB as float32 (training with Adam holds three copies)


def dense_weights(widths: Sequence[int]) -> int:
    """Weights and biases of a chain of dense layers of these widths (the input's first)."""
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def conv_weights(kernel_size: int, channels: Sequence[int]) -> int:
    """Weights and biases of a chain of square convolutions with these channel counts (the input's first)."""
    return sum(kernel_size * kernel_size * a * b + b for a, b in zip(channels, channels[1:]))


class ModelTooLarge(ValueError):
    """The arguments of a builder describe a model of more than `MAX_WEIGHTS` weights."""


def check_weights(count: int, given: str) -> None:
    """A ValueError naming the arguments (`given`) if the model they describe would hold more than `MAX_WEIGHTS`
    weights (`count`, an estimate): checked before anything is allocated, where a model too large for memory
    would fail deep inside TensorFlow or get the process killed."""
    if count > MAX_WEIGHTS:
        raise ModelTooLarge(f"Expected a model of at most {MAX_WEIGHTS:,} weights ({MAX_WEIGHTS * 4 / 2**30:.0f} GiB "
                            f"as float32), received {given}: about {count:.3g} weights")


def check_widths(name: str, value: Sequence[int], empty: bool = False) -> tuple[int, ...]:
    """`value` as a tuple of Python ints; a ValueError naming `name` unless it is a list (tuple, array) of positive
    integers, non-empty unless `empty`."""
    items = None if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else list(value)
    if items is None or not (items or empty) or not all(is_int(v) and int(v) > 0 for v in items):
        raise ValueError(f"Expected {name} to be a list of positive integers, received {name}={value!r}")
    return tuple(int(v) for v in items)


def check_seed(value: int | None) -> int | None:
    """`value` as a Python int (or None); a ValueError unless it is None or an integer in [0, 2**32)."""
    if value is not None and (not is_int(value) or not 0 <= int(value) < 2**32):
        raise ValueError(f"Expected seed to be None or an integer in [0, 2**32), received seed={value!r}")
    return None if value is None else int(value)


def head_dtype() -> str | None:
    """"float32" under a mixed-precision policy, else None (the global policy).

    The layers that produce a model's outputs (the reconstruction, a VAE's z_mean and z_log_var)
    get this dtype so that, under ``mixed_float16``, the body computes in float16 while outputs and
    losses stay float32 (Keras's mixed-precision guide: keep the last layer in float32).
    """
    return "float32" if keras.config.dtype_policy().name.startswith("mixed") else None


def encode(model: Any, x: Any, batch_size: int = 256) -> np.ndarray:
    """Codes of `x` as float32: the encoder's output, or z_mean for a VAE (deterministic either way).

    `model` is an `Autoencoder` bundle or an encoder model.
    """
    encoder = model.encoder if hasattr(model, "encoder") else model
    x, batch_size = arguments.images(model, x), arguments.count("batch_size", batch_size)
    out = encoder.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(out[0] if isinstance(out, (list, tuple)) else out, dtype=np.float32)
