"""How big the fraud detector's autoencoders are, sized from the table: code width, hidden width, batch size."""

from __future__ import annotations

import math

import numpy as np


def components_for_variance(x: np.ndarray, share: float) -> int:
    """Principal components needed to explain `share` of the variance of the (centred) rows `x`."""
    variance = np.linalg.svd(x - x.mean(axis=0), compute_uv=False) ** 2
    return int(np.searchsorted(np.cumsum(variance) / variance.sum(), share) + 1)


def hidden_for(latent: int, n_features: int) -> tuple[int, ...]:
    """One hidden layer twice the code, at least the feature count on small tables, at most 14."""
    return (int(max(2 * latent, min(n_features, 14))),)


def auto_architecture(n_features: int, x: np.ndarray | None = None) -> tuple[tuple[int, ...], int]:
    """Hidden widths and bottleneck sized from the feature count: 30 -> (14,) and 6, 8 -> (8,) and 2.

    A narrow code matters more than anything else for reconstruction detectors: a wide one learns to
    reconstruct the anomalies too. The code grows with the features up to 7, the hidden layer is twice
    the code (at least the feature count on small tables, at most 14), like the d-14-7-14-d notebook model.
    Given the (standardised) training rows `x`, the code is also kept no wider than the number of
    principal components that explain 90% of their variance.
    """
    latent = int(min(7, max(2, math.ceil(n_features / 5))))
    if x is not None and len(x) > n_features:
        latent = max(2, min(latent, components_for_variance(x, 0.9)))
    return hidden_for(latent, n_features), latent


def member_architectures(n_features: int, x: np.ndarray | None, n_models: int) -> list[tuple[tuple[int, ...], int]]:
    """(hidden, code) of every ensemble member: narrow codes, with every second member as wide as the
    90%-variance components (at most 7 and below the feature count).

    Some tables hide anomalies in low-variance directions that a narrow code throws away (ADBench Wilt:
    5 features, 4 components for 90%), others need a narrow code; mixing both kinds of member covers both.
    """
    hidden, narrow = auto_architecture(n_features, x)
    k90 = components_for_variance(x, 0.9) if x is not None and len(x) > n_features else narrow
    wide = int(max(2, min(7, k90, n_features - 1)))
    return [(hidden, narrow) if k % 2 == 0 else (hidden_for(wide, n_features), wide) for k in range(n_models)]


def batch_size_for(n_rows: int) -> int:
    """Batches of 32 on small tables (reconstruction detectors need many updates to fit the normal rows
    tightly), growing to 512 on large ones (about 100+ steps an epoch either way)."""
    return int(min(512, max(32, 2 ** round(math.log2(max(1, n_rows / 100))))))
