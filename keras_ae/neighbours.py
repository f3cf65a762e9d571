"""The package's one nearest-neighbour search: exact Euclidean distances in NumPy (brute force in chunks; no
scikit-learn needed to score). Used by the fraud detector, the latent-density image score and the latent tools.

The fraud detector keeps a reference sample of its normal rows (standardised) and scores a row by its squared
distance to the k nearest of them: a row far from every normal row is suspicious even when the autoencoders
reconstruct it well (anomalies along the normal manifold). Per-feature parts of those distances explain a flag.
"""

from __future__ import annotations

import numpy as np

CHUNK = 512  # rows scored at once: a (CHUNK x reference rows) distance block in memory


def nearest(reference: np.ndarray, x: np.ndarray, k: int, self_index: np.ndarray | None = None,
            chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rows x k) of the k nearest reference rows of every row of `x`, and their Euclidean distances.

    `self_index[i]` >= 0 marks row i of `x` as reference row `self_index[i]`, which is then skipped
    (leave-one-out distances of rows that are in the reference).
    """
    reference = np.asarray(reference, dtype=np.float32)
    x = np.asarray(x, dtype=np.float32)
    k = int(min(k, len(reference) - (self_index is not None)))
    # the exact recompute below holds chunk x k x features float64 values: at most about 128 MB
    chunk = max(1, min(chunk, 2**24 // max(1, k * reference.shape[1])))
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    idx_out = np.empty((len(x), k), dtype=np.int64)
    dist_out = np.empty((len(x), k), dtype=np.float64)
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        d2 = block @ reference.T  # |r|^2 - 2 x.r orders the reference rows as the distance does
        d2 *= -2.0
        d2 += ref_sq[None, :]
        if self_index is not None:
            own = self_index[start:start + chunk]
            rows = np.flatnonzero(own >= 0)
            d2[rows, own[rows]] = np.inf
        if k == 1:
            part = d2.argmin(axis=1)[:, None]
        elif k < d2.shape[1]:
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(k), (len(d2), 1))
        # The chosen neighbours' distances again, directly and in float64: exact, whatever the chunking.
        near = ((block[:, None, :].astype(np.float64) - reference[part]) ** 2).sum(axis=2)
        order = np.argsort(near, axis=1, kind="stable")
        idx_out[start:start + chunk] = np.take_along_axis(part, order, axis=1)
        dist_out[start:start + chunk] = np.sqrt(np.take_along_axis(near, order, axis=1))
    return idx_out, dist_out


def leave_one_out(reference: np.ndarray, k: int) -> np.ndarray:
    """Distances (rows x k) of every reference row to its k nearest other reference rows (itself left out)."""
    return nearest(reference, reference, k, self_index=np.arange(len(reference)))[1]


def feature_parts(reference: np.ndarray, x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Per feature, the mean squared difference between each row and its nearest reference rows `index`
    (rows x features): which features put a row far from its normal neighbours."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape, dtype=np.float64)
    for j in range(index.shape[1]):
        out += (x - reference[index[:, j]]) ** 2
    return out / index.shape[1]
