"""Baselines that one-class image runs report beside their own score, on the same split."""

from __future__ import annotations

import numpy as np


def pca_reconstruction_scores(x_train: np.ndarray, *xs: np.ndarray, variance: float = 0.9,
                              seed: int = 0) -> list[np.ndarray]:
    """Mean squared error of PCA reconstruction (the components keeping `variance` of the training images'
    variance), fitted on the normal training images: the classic linear baseline of one-class detection.
    Returns one score array per array of `xs`."""
    from sklearn.decomposition import PCA

    flat = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    pca = PCA(n_components=variance, svd_solver="full", random_state=seed).fit(flat)
    out = []
    for x in xs:
        f = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        out.append(np.mean((f - pca.inverse_transform(pca.transform(f))) ** 2, axis=1))
    return out
