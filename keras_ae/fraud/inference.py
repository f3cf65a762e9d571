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


def _reconstruct(member: Member, x: np.ndarray) -> np.ndarray:
    h = x
    for kernel, bias, act in member:
        if act not in ACTIVATIONS:
            raise ValueError(f"unsupported activation {act!r} in a fraud detector member")
        h = ACTIVATIONS[act](h @ kernel + bias)
    return h


def member_errors(weights: Sequence[Member], x: np.ndarray) -> list[np.ndarray]:
    """Squared errors (rows x features) of each member on the standardised rows `x`."""
    x = np.asarray(x, dtype=np.float32)
    return [(_reconstruct(member, x).astype(np.float64) - x) ** 2 for member in weights]


def ensemble_errors(weights: Sequence[Member], scales: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Per-row, per-feature squared errors in units of each member's mean normal error, averaged over members.

    Accumulated member by member (one member's errors in memory at a time), in place.
    """
    x = np.asarray(x, dtype=np.float32)
    total = np.zeros(x.shape, dtype=np.float64)
    for member, scale in zip(weights, scales, strict=True):
        errors = _reconstruct(member, x).astype(np.float64)
        errors -= x
        np.square(errors, out=errors)
        errors /= scale
        total += errors
    total /= len(weights)
    return total
