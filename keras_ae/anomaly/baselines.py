"""Baselines that one-class image runs report beside their own score, on the same split."""

from __future__ import annotations

import numpy as np


def fit_pca(x_train: np.ndarray, variance: float = 0.9, seed: int = 0):
    """PCA of the flattened images keeping `variance` of their variance (the optimal linear autoencoder)."""
    from sklearn.decomposition import PCA

    flat = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    return PCA(n_components=variance, svd_solver="full", random_state=seed).fit(flat)


def pca_errors(pca, x: np.ndarray) -> np.ndarray:
    """Mean squared error of each image's reconstruction through `pca`."""
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return np.mean((flat - pca.inverse_transform(pca.transform(flat))) ** 2, axis=1)


def pca_reconstruction_scores(x_train: np.ndarray, *xs: np.ndarray, variance: float = 0.9,
                              seed: int = 0) -> list[np.ndarray]:
    """PCA reconstruction error fitted on the normal training images: the classic linear baseline of
    one-class detection. Returns one score array per array of `xs`."""
    pca = fit_pca(x_train, variance, seed)
    return [pca_errors(pca, x) for x in xs]
