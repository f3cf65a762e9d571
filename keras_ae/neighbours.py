"""The package's one nearest-neighbour search: exact Euclidean distances in NumPy (brute force in chunks; no
scikit-learn needed to score). Used by the fraud detector, the neighbour image scores and the latent tools.

The fraud detector keeps a reference sample of its normal rows (standardised) and scores a row by its squared
distance to the k nearest of them: a row far from every normal row is suspicious even when the autoencoders
reconstruct it well (anomalies along the normal manifold). Per-feature parts of those distances explain a flag.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CHUNK = 512  # rows scored at once: a (CHUNK x reference rows) distance block in memory


Views = Callable[[np.ndarray], np.ndarray]  # a block of rows (n, features) -> its views (views, n, features)


def nearest(reference: np.ndarray, x: np.ndarray, k: int, self_index: np.ndarray | None = None,
            chunk: int = CHUNK, views: Views | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rows x k) of the k nearest reference rows of every row of `x`, and their Euclidean distances.

    `self_index[i]` >= 0 marks row i of `x` as reference row `self_index[i]`, which is then skipped
    (leave-one-out distances of rows that are in the reference). `views` turns a block of rows of `x` into views of
    them, stacked on a new first axis (the rows themselves, shifted, rotated: the identity counts only if it is
    one of them); a row's distance to a reference row is then the smallest over its views, and its k neighbours
    are k different reference rows.
    """
    reference = np.asarray(reference, dtype=np.float32)
    x = np.asarray(x, dtype=np.float32)
    k = int(min(k, len(reference) - (self_index is not None)))
    n_views = len(views(x[:1])) if views is not None and len(x) else 1
    # the exact recompute below holds chunk x k x features float64 values and the views chunk x views x features
    # float32 ones: at most about 128 MB and 64 MB
    features = max(1, reference.shape[1])
    chunk = max(1, min(chunk, 2**24 // (k * features), 2**24 // (n_views * features)))
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    idx_out = np.empty((len(x), k), dtype=np.int64)
    dist_out = np.empty((len(x), k), dtype=np.float64)
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        seen = [block] if views is None else np.asarray(views(block), dtype=np.float32)
        d2 = _squared_distances(reference, ref_sq, seen, with_row_norm=views is not None)
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
        near = np.min([((view.astype(np.float64)[:, None, :] - reference[part]) ** 2).sum(axis=2) for view in seen],
                      axis=0)
        order = np.argsort(near, axis=1, kind="stable")
        idx_out[start:start + chunk] = np.take_along_axis(part, order, axis=1)
        dist_out[start:start + chunk] = np.sqrt(np.take_along_axis(near, order, axis=1))
    return idx_out, dist_out


def _squared_distances(reference: np.ndarray, ref_sq: np.ndarray, views, with_row_norm: bool) -> np.ndarray:
    """(rows x reference rows): |r|^2 - 2 v.r, plus |v|^2 when `with_row_norm` (needed to compare views, whose
    norms differ; without it the values order each row's reference rows as the distance does), the smallest over
    the views."""
    best = None
    for view in views:
        d2 = view @ reference.T
        d2 *= -2.0
        d2 += ref_sq[None, :]
        if with_row_norm:
            d2 += np.einsum("ij,ij->i", view, view)[:, None]
        best = d2 if best is None else np.minimum(best, d2, out=best)
    return best


def leave_one_out(reference: np.ndarray, k: int, views: Views | None = None) -> np.ndarray:
    """Distances (rows x k) of every reference row to its k nearest other reference rows (itself left out, in every
    view: `nearest`)."""
    return nearest(reference, reference, k, self_index=np.arange(len(reference)), views=views)[1]


def feature_parts(reference: np.ndarray, x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Per feature, the mean squared difference between each row and its nearest reference rows `index`
    (rows x features): which features put a row far from its normal neighbours."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape, dtype=np.float64)
    for j in range(index.shape[1]):
        out += (x - reference[index[:, j]]) ** 2
    return out / index.shape[1]
