"""Array arguments of the models and the latent tools, checked: each names the argument and what it must be (a
ValueError) before any array reaches Keras, whose own messages name neither."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from keras_ae.options import FLOAT32_MAX  # noqa: F401  (the bound of values held in float32 variables)

MAX_BYTES = 4 * 2**30  # the images one call makes at once: more would take the machine's memory, not make a picture


def images(model: Any, x: Any, name: str = "x") -> np.ndarray:
    """`x` as float32 images of the model's input shape with a batch axis, at least one, all finite."""
    shape = tuple(model_input_shape(model))
    raw = np.asarray(x)
    if raw.dtype.kind in "iu" and raw.size and raw.max() > 1:  # 8-bit pixels 0-255: not the [0, 1] a model sees
        raise ValueError(f"Expected {name} as floats in the model's pixel range ([0, 1] as the loaders give them), "
                         f"received integers up to {raw.max()}; scale them first ({name} / 255)")
    x = np.asarray(real(name, x), dtype=np.float32)
    given = x.shape
    if shape and shape[-1] == 1 and x.ndim == len(shape):  # (n, 28, 28) for (28, 28, 1): as Keras adjusts it
        x = x[..., None]
    elif x.ndim == len(shape) + 2 and x.shape[-1] == 1:  # (n, 784, 1) for (784,)
        x = x[..., 0]
    if x.ndim != len(shape) + 1 or any(d is not None and d != got for d, got in zip(shape, x.shape[1:])):
        raise ValueError(f"Expected {name} of shape (n, {', '.join('?' if d is None else str(d) for d in shape)}), "
                         f"received {name}.shape={given}")
    if not len(x):
        raise ValueError(f"Expected at least one image in {name}, received {name}.shape={x.shape}")
    finite(name, x)
    return x


def image(model: Any, a: Any, name: str) -> np.ndarray:
    """One image `a` of the model's input shape (no batch axis, or a batch axis of one), finite; returned with a
    batch axis of 1."""
    a = np.asarray(a)
    shape = tuple(model_input_shape(model))
    batch_of_one = a.ndim == len(shape) + 1 and len(a) == 1 and (a.ndim > 2 or shape != (1,))
    return images(model, a if batch_of_one else a[None], name)


def codes(shape: tuple[int, ...], z: Any, name: str = "codes") -> np.ndarray:
    """`z` as float32 codes of `shape` with a batch axis, finite."""
    z = np.asarray(real(name, z), dtype=np.float32)
    if z.ndim != len(shape) + 1 or z.shape[1:] != tuple(shape) or not len(z):
        raise ValueError(f"Expected {name} of shape (n, {', '.join(map(str, shape))}) with n >= 1, received "
                         f"{name}.shape={z.shape}")
    finite(name, z)
    return z


def real(name: str, values: Any) -> np.ndarray:
    """`values` as an array of real numbers (booleans, integers, floats); complex numbers, objects, text refused."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"Expected {name} of real numbers, received an array of dtype {values.dtype}")
    return values


def finite(name: str, values: Any) -> None:
    values = np.asarray(values)  # no float64 copy of a large float32 array: its overflows are inf already
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        raise ValueError(f"{name} holds NaN or infinite values (or values beyond float32's range)")


def is_int(value: Any) -> bool:
    """An integer (Python or NumPy), not a bool and not a float."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def count(name: str, value: Any, low: int = 1) -> int:
    """An integer >= `low` (a bool, a float, a NumPy float are refused)."""
    if not is_int(value) or value < low:
        raise ValueError(f"Expected {name} to be an integer >= {low}, received {name}={value!r}")
    return int(value)


def number(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    """A finite number (>= `low`, <= `high` when given): an int, a float, a NumPy number, anything with `__float__`
    but text."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or not hasattr(value, "__float__") or \
            not math.isfinite(float(value)) or (low is not None and float(value) < low) or \
            (high is not None and float(value) > high):
        rule = "a finite number" + (f" in [{low}, {high:.3g}]" if low is not None and high is not None else
                                    f" >= {low}" if low is not None else f" <= {high:.3g}" if high is not None else "")
        raise ValueError(f"Expected {name} to be {rule}, received {name}={value!r}")
    return float(value)


def room(model: Any, n: int, name: str) -> None:
    """`n` images of the model's output size must fit in `MAX_BYTES`."""
    size = math.prod(int(d) for d in model.decoder.outputs[0].shape[1:] if d is not None) * 4
    if n * size > MAX_BYTES:
        raise ValueError(f"{name}: {n:,} images of {size:,} bytes take {n * size / 2**30:.3g} GiB; at most "
                         f"{MAX_BYTES // size:,} at once ({MAX_BYTES / 2**30:.0f} GiB)")


def model_input_shape(model: Any) -> list:
    encoder = model.encoder if hasattr(model, "encoder") else model
    return [None if d is None else int(d) for d in encoder.inputs[0].shape[1:]]
