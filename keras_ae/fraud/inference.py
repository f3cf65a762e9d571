"""The fraud detector's forward pass in NumPy, from the stored Dense weights (no TensorFlow needed).

Small dense nets run as fast in NumPy as in TensorFlow, and scoring then needs no graph or device
memory, which keeps chunked scoring of large files lean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ACTIVATIONS = {"relu": lambda a: np.maximum(a, 0, out=a), "linear": lambda a: a}

# A member: its Dense layers, input to output, as (kernel, bias, activation name).
Member = list[tuple[np.ndarray, np.ndarray, str]]


def member_errors(weights: Sequence[Member], x: np.ndarray) -> list[np.ndarray]:
    """Squared errors (rows x features) of each member on the standardised rows `x`."""
    x = np.asarray(x, dtype=np.float32)
    errors = []
    for member in weights:
        h = x
        for kernel, bias, act in member:
            if act not in ACTIVATIONS:
                raise ValueError(f"unsupported activation {act!r} in a fraud detector member")
            h = ACTIVATIONS[act](h @ kernel + bias)
        errors.append((h.astype(np.float64) - x) ** 2)
    return errors


def ensemble_errors(weights: Sequence[Member], scales: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Per-row, per-feature squared errors in units of each member's mean normal error, averaged over members."""
    total = np.zeros(np.shape(x), dtype=np.float64)
    for errors, scale in zip(member_errors(weights, x), scales, strict=True):
        total += errors / scale
    return total / len(weights)
