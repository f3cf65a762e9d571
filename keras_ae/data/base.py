"""The one small container every loader returns."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import numpy as np


@dataclasses.dataclass
class Dataset:
    """Images scaled to float32 in [0, 1] (or [-1, 1]), shape (n, height, width, channels).

    ``x_val``/``y_val`` hold an official validation split where the dataset has one (PneumoniaMNIST).
    ``x_pairs`` (n, 2, height, width, channels) holds pairs of training images that share some generative
    factors, where the dataset can make them (smileys): a VAE trains on them weakly supervised.
    ``pair_changes`` is the number of factors in which every pair differs, when the dataset knows it
    (smileys: 1); None when it varies or is unknown.
    ``info`` records where the data came from (``name``, ``source``, ``value_range``, ...) and is
    copied into every run's ``metrics.json``.
    """

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    x_pairs: np.ndarray | None = None
    pair_changes: int | None = None

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


VALUE_RANGES = ("0,1", "-1,1")


def check_value_range(value_range: str) -> None:
    """Raise ValueError naming `value_range` unless it is "0,1" or "-1,1"."""
    if value_range not in VALUE_RANGES:
        raise ValueError(f"Expected value_range '0,1' or '-1,1', received value_range={value_range!r}")


def to_value_range(x: np.ndarray, value_range: str = "0,1") -> np.ndarray:
    """Values in [0, 1] -> the same in [0, 1], or rescaled to [-1, 1] when value_range="-1,1"."""
    check_value_range(value_range)
    return x * 2.0 - 1.0 if value_range == "-1,1" else x


PIXELS = "integers 0..255, floats up to 255 or floats in [0, 1]"


def nonfinite_pixels(images: np.ndarray) -> tuple[int, int] | None:
    """(how many pixels of `images` (n, ...) are NaN or infinite, the first image holding one), or None when every
    pixel is a number."""
    x = np.asarray(images)
    if x.dtype.kind not in "fc" or not len(x):
        return None
    finite = np.isfinite(x.reshape(len(x), -1))
    bad = int(finite.size - np.count_nonzero(finite))
    return (bad, int(np.flatnonzero(~finite.all(axis=1))[0])) if bad else None


def pixel_scale(images: np.ndarray) -> float:
    """What `images` are divided by to lie in [0, 1]: 255 for 8-bit levels (integers 0..255, or floats up to 255
    with some above 1), 1 for floats already in [0, 1] (and booleans). Values that are not numbers (NaN,
    infinity) are left for the runs to refuse, naming the image.

    Raises:
        ValueError: the values are neither (negative, or above 255); the message gives their range.
    """
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return 255.0
    if x.dtype == bool:
        return 1.0
    if x.dtype.kind == "f":
        x = x[np.isfinite(x)]
    if not x.size:
        return 1.0 if x.dtype.kind == "f" else 255.0
    low, high = x.min(), x.max()
    if x.dtype.kind in "iu" and low >= 0 and high <= 255:
        return 255.0
    slack = 1e-3  # the overshoot of a float resize or an interpolation (clipped by `scale_images`)
    if x.dtype.kind == "f" and low >= -slack and high <= 255 + slack:
        return 1.0 if high <= 1 + slack else 255.0
    raise ValueError(f"pixel values from {float(low):g} to {float(high):g} ({x.dtype}), expected {PIXELS}")


def scale_images(images: np.ndarray, value_range: str = "0,1") -> np.ndarray:
    """8-bit levels (uint8, or other integers 0..255) or floats in [0, 1], shape (n, h, w[, c]) -> float32
    (n, h, w, c) in [0, 1], or in [-1, 1] when value_range="-1,1" (see `pixel_scale`)."""
    scale = pixel_scale(images)
    x = np.asarray(images, dtype=np.float32)
    x = x / 255.0 if scale == 255.0 else x
    if np.asarray(images).dtype.kind == "f":
        x = np.clip(x, 0.0, 1.0, out=x, where=np.isfinite(x))  # a float resize's overshoot; NaN stays for the runs
    if x.ndim == 3:
        x = x[..., None]
    return to_value_range(x, value_range)


def shipped_file(name: str) -> pathlib.Path:
    """A small real sample shipped with keras-ae (data/ of the repository; installed as keras_ae/_shipped/)."""
    package = pathlib.Path(__file__).resolve().parents[1]
    checkout = package.parent / "data" / name
    return checkout if checkout.exists() else package / "_shipped" / name
