"""Corruptions for denoising: Gaussian (the lecture's noise_factor) and salt-and-pepper."""

from __future__ import annotations

import numpy as np

NOISE_KINDS = ("gaussian", "salt-pepper")


def check_noise(kind: str, amount: float) -> None:
    """Raise ValueError naming the option unless `kind` is known and 0 <= amount <= 1."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r} (known: {', '.join(NOISE_KINDS)})")
    if not 0.0 <= amount <= 1.0:
        what = "the Gaussian noise factor" if kind == "gaussian" else "the share of salt-and-pepper pixels"
        raise ValueError(f"noise (amount: {what}) must be between 0 and 1, received {amount}")


def gaussian_noise(x: np.ndarray, factor: float = 0.5, seed: int | None = 0, low: float = 0.0,
                   high: float = 1.0) -> np.ndarray:
    """Return clip(x + factor * N(0, 1), low, high), the lecture's corruption (noise_factor=0.5)."""
    check_noise("gaussian", factor)
    rng = np.random.default_rng(seed)
    noisy = x + factor * rng.standard_normal(x.shape).astype(np.float32)
    return np.clip(noisy, low, high).astype(np.float32)


def salt_and_pepper(x: np.ndarray, fraction: float = 0.2, seed: int | None = 0, low: float = 0.0,
                    high: float = 1.0) -> np.ndarray:
    """Set a `fraction` of the values of each example to `low` or `high` (half each, on average)."""
    check_noise("salt-pepper", fraction)
    rng = np.random.default_rng(seed)
    hit = rng.random(x.shape) < fraction
    salt = rng.random(x.shape) < 0.5
    noisy = np.where(hit, np.where(salt, high, low), x)
    return noisy.astype(np.float32)


def add_noise(x: np.ndarray, kind: str, amount: float, seed: int | None = 0, low: float = 0.0,
              high: float = 1.0) -> np.ndarray:
    """Apply the noise `kind` ("gaussian" or "salt-pepper") with its `amount`."""
    check_noise(kind, amount)
    fn = gaussian_noise if kind == "gaussian" else salt_and_pepper
    return fn(x, amount, seed=seed, low=low, high=high)
