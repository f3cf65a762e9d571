"""Latent-space tools for a trained autoencoder: encode, interpolate, sample, traverse, factor correlations.

Every function takes the `Autoencoder` bundle a builder returns (or `artifacts.load_models` loads).
For a VAE the encoder gives ``[z_mean, z_log_var]`` and the code used here is ``z_mean``; for a plain
autoencoder it is the encoder's output, of any shape (a conv code of (4, 4, 8) is handled flat).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from keras_ae.models import arguments as check
from keras_ae.models.base import Autoencoder, encode


class Decoded(NamedTuple):
    """Codes and the images the decoder makes of them."""

    codes: np.ndarray
    images: np.ndarray


def is_variational(model: Autoencoder) -> bool:
    """True when the encoder returns (z_mean, z_log_var), i.e. the bundle is a VAE."""
    return len(model.encoder.outputs) == 2


def decode(model: Autoencoder, codes: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Images the decoder makes from `codes` (shape (n, *code_shape))."""
    codes, batch_size = check.codes(code_shape(model), codes), check.count("batch_size", batch_size)
    return np.asarray(model.decoder.predict(codes, batch_size=batch_size, verbose=0), dtype=np.float32)


def code_shape(model: Autoencoder) -> tuple[int, ...]:
    """Shape of one code, without the batch axis."""
    return tuple(int(d) for d in model.decoder.inputs[0].shape[1:])


def interpolate(model: Autoencoder, a: np.ndarray, b: np.ndarray, steps: int = 10) -> Decoded:
    """The concept vector from input `a` to input `b`: `steps` codes on the line between their codes.

    The first and last codes are exactly the codes of `a` and `b`, so the first and last images are
    their reconstructions.
    """
    steps = check.count("steps", steps, 2)
    check.room(model, steps, "steps")
    ends = encode(model, np.concatenate([check.image(model, a, "a"), check.image(model, b, "b")]))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * (ends.ndim - 1)))
    codes = (1.0 - t) * ends[0] + t * ends[1]
    return Decoded(codes, decode(model, codes))


def manifold_grid(codes: np.ndarray, n: int = 15, coverage: float = 96.0) -> tuple[np.ndarray, tuple]:
    """The (n*n, 2) points of a 2-D latent grid over the region where `codes` lie (the central `coverage` %
    of each coordinate, not a fixed square): rows from the top (largest z1) down, as the picture shows
    them; returns (points, extent (z0 low, z0 high, z1 low, z1 high))."""
    codes = check.codes((2,), codes).astype(np.float64)
    n = check.count("n", n)
    if n * n * 8 > check.MAX_BYTES:  # n x n points of two float32 (each then decoded into an image)
        raise ValueError(f"n={n:,} makes {n * n:,} grid points; at most {math.isqrt(check.MAX_BYTES // 8):,} a side")
    coverage = check.number("coverage", coverage, 0)
    if not 0 < coverage <= 100:
        raise ValueError(f"Expected coverage to be a percentage in (0, 100], received coverage={coverage!r}")
    tail = (100.0 - coverage) / 2
    (x0, y0), (x1, y1) = np.percentile(codes, tail, axis=0), np.percentile(codes, 100 - tail, axis=0)
    if x1 - x0 < 1e-6:  # collapsed codes (an untrained model): a unit-wide window around them
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 - y0 < 1e-6:
        y0, y1 = y0 - 0.5, y1 + 0.5
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    points = np.stack(np.meshgrid(xs, ys[::-1]), axis=-1).reshape(-1, 2).astype(np.float32)
    return points, (float(x0), float(x1), float(y0), float(y1))


def fit_gaussian(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of flattened `codes` (a small ridge keeps the covariance positive definite)."""
    flat = np.asarray(check.real("codes", codes), dtype=np.float64)
    flat = flat[:, None] if flat.ndim == 1 else flat  # n codes of one value each
    if flat.ndim < 2 or len(flat) < 2 or not flat[0].size:
        raise ValueError(f"Expected at least 2 codes of at least one value each to fit a Gaussian, received "
                         f"codes.shape={np.shape(codes)}")
    flat = flat.reshape(len(flat), -1)
    check.finite("codes", flat)
    mean = flat.mean(axis=0)
    cov = np.atleast_2d(np.cov(flat, rowvar=False)) + 1e-6 * np.eye(flat.shape[1])
    return mean, cov


def sample(model: Autoencoder, n: int, codes: np.ndarray | None = None, seed: int = 0) -> Decoded:
    """Generate `n` new images: codes drawn from the prior N(0, I) for a VAE, or from a Gaussian fitted
    to `codes` (e.g. the training set's codes) for a plain autoencoder, which has no prior.
    """
    n = check.count("n", n)
    if not (seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence))):
        seed = check.count("seed", seed, 0)
    check.room(model, n, "n")
    rng = np.random.default_rng(seed)
    shape = code_shape(model)
    if is_variational(model):
        z = rng.standard_normal((n, *shape))
    else:
        if codes is None:
            raise ValueError("a plain autoencoder has no prior: pass the training codes to fit a Gaussian")
        mean, cov = fit_gaussian(check.codes(shape, codes))
        z = rng.multivariate_normal(mean, cov, size=n, method="cholesky").reshape(n, *shape)
    z = z.astype(np.float32)
    return Decoded(z, decode(model, z))


def traverse(model: Autoencoder, dims: Sequence[int] | None = None, span: float = 2.0, steps: int = 7,
             base: np.ndarray | None = None) -> tuple[np.ndarray, Decoded]:
    """Vary one latent dimension at a time around `base` (default: the zero code, the VAE prior's mean).

    Returns ``(offsets, Decoded)`` with codes and images of shape (len(dims), steps, ...): row i moves
    flat dimension ``dims[i]`` by each of ``offsets = linspace(-span, span, steps)``; the others stay
    at `base`.
    """
    shape = code_shape(model)
    size = int(np.prod(shape))
    if dims is not None and (isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__")):
        raise ValueError(f"Expected dims as a list of latent dimensions, received dims={dims!r}")
    dims = list(range(size)) if dims is None else [check.count("dims", d, 0) for d in dims]
    bad = [d for d in dims if not 0 <= d < size]
    if bad or not dims or len(set(dims)) != len(dims):
        raise ValueError(f"Expected dims in [0, {size}), received dims={dims}")
    steps, span = check.count("steps", steps, 2), check.number("span", span, 0)
    check.room(model, len(dims) * steps, "dims x steps")
    if base is not None and np.asarray(base).size != size:
        raise ValueError(f"Expected base of {size} values (one code), received base.shape={np.asarray(base).shape}")
    base_flat = np.zeros(size, np.float32) if base is None else check.codes((size,), np.reshape(base, (1, size)),
                                                                            "base")[0]
    offsets = np.linspace(-span, span, steps, dtype=np.float32)
    codes = np.repeat(base_flat[None, None], len(dims), axis=0).repeat(steps, axis=1)
    for row, d in enumerate(dims):
        codes[row, :, d] += offsets
    images = decode(model, codes.reshape(-1, *shape))
    return offsets, Decoded(codes.reshape(len(dims), steps, *shape),
                            images.reshape(len(dims), steps, *images.shape[1:]))


def factor_correlation(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """|Pearson correlation| of every latent dimension (rows) with every known factor (columns).

    A dimension or factor that does not vary correlates 0 with everything.
    """
    z, f = (np.asarray(check.real(n, v), dtype=np.float64) for n, v in (("codes", codes), ("factors", factors)))
    if len(z) != len(f) or not len(z) or not z.size or not f.size:
        raise ValueError(f"Expected as many codes as factor rows (at least one), received {len(z)} and {len(f)}")
    z, f = z.reshape(len(z), -1), f.reshape(len(f), -1)
    check.finite("codes", z), check.finite("factors", f)
    z = z - z.mean(axis=0)
    f = f - f.mean(axis=0)
    norms = np.outer(np.linalg.norm(z, axis=0), np.linalg.norm(f, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(norms > 0, (z.T @ f) / np.where(norms > 0, norms, 1.0), 0.0)
    return np.abs(r)


def _check_names(names: Sequence[str], count: int) -> None:
    """One distinct string for each of `count` factors, or a ValueError naming `names`."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"Expected names as strings, received names={names!r}")
    if len(names) != count:
        raise ValueError(f"Expected one name for each of the {count} factors, received {len(names)} names")
    if len(set(names)) != len(names):
        raise ValueError(f"Expected a different name for each factor, received names={list(names)!r}")


def factor_report(codes: np.ndarray, factors: np.ndarray, names: Sequence[str]) -> dict:
    """How well each known factor is tracked by one latent dimension.

    For each factor: the dimension with the highest |r|, that |r|, and the gap to the second-best
    dimension (near 1: one dimension alone tracks the factor; near 0: spread over several or none).
    """
    corr = factor_correlation(codes, factors)
    _check_names(names, corr.shape[1])
    report = {"abs_correlation": corr.round(4).tolist(), "factors": list(names), "per_factor": {}}
    for j, name in enumerate(names):
        order = np.argsort(corr[:, j])[::-1]
        second = corr[order[1], j] if len(order) > 1 else 0.0
        report["per_factor"][name] = {"best_dim": int(order[0]), "abs_r": round(float(corr[order[0], j]), 4),
                                      "gap": round(float(corr[order[0], j] - second), 4)}
    report["mean_best_abs_r"] = round(float(corr.max(axis=0).mean()), 4)
    report["one_to_one"] = one_to_one(corr, names)
    report["mig"] = mutual_information_gap(codes, factors, names)
    return report


def mutual_information_gap(codes: np.ndarray, factors: np.ndarray, names: Sequence[str], bins: int = 20) -> dict:
    """Mutual information gap (Chen et al. 2018): per factor, the mutual information of the best latent
    dimension minus that of the second best, divided by the factor's entropy; MIG is their mean (1: each
    factor told by one dimension alone, 0: by none or spread evenly). Codes and factors are discretised
    into `bins` equal-width bins, as in disentanglement_lib."""
    from sklearn.metrics import mutual_info_score

    _check_names(names, factor_correlation(codes, factors).shape[1])  # codes and factors checked there
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"Expected bins to be an integer >= 2, received bins={bins!r}")

    def binned(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
        return np.stack([np.digitize(col, np.histogram_bin_edges(col, bins)[1:-1]) for col in a.T], axis=1)

    z, f = binned(codes), binned(factors)
    per_factor = {}
    for j, name in enumerate(names):
        entropy = mutual_info_score(f[:, j], f[:, j])
        mi = np.sort([mutual_info_score(z[:, d], f[:, j]) for d in range(z.shape[1])])[::-1]
        gap = (mi[0] - (mi[1] if len(mi) > 1 else 0.0)) / entropy if entropy > 0 else 0.0
        per_factor[name] = round(float(gap), 4)
    return {"mig": round(float(np.mean(list(per_factor.values()))), 4), "per_factor": per_factor, "bins": bins}


def one_to_one(corr: np.ndarray, names: Sequence[str], threshold: float = 0.8) -> dict:
    """Each factor matched to a dimension of its own: the one-to-one assignment of dimensions (rows of
    `corr`) to factors (columns) with the largest total |r| (Hungarian method); how many factors reach
    |r| >= `threshold` under it."""
    from scipy.optimize import linear_sum_assignment

    corr = np.asarray(check.real("corr", corr), dtype=np.float64)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) or not 0 <= threshold <= 1:
        raise ValueError(f"Expected threshold in [0, 1] (an |r|), received threshold={threshold!r}")
    if corr.ndim != 2 or corr.shape[1] != len(names):
        raise ValueError(f"Expected corr of shape (dims, {len(names)}) (a column per name), received "
                         f"corr.shape={corr.shape}")
    check.finite("corr", corr)
    _check_names(names, corr.shape[1])
    rows, cols = linear_sum_assignment(corr, maximize=True)
    dims = {names[c]: {"dim": int(r), "abs_r": round(float(corr[r, c]), 4)} for r, c in zip(rows, cols)}
    tracked = sum(v["abs_r"] >= threshold for v in dims.values())
    return {"dims": dims, "threshold": threshold, "factors_tracked": int(tracked),
            "all_tracked": bool(tracked == len(names) and len(dims) == len(names))}


def nearest_distance(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance of every image to its nearest image of `reference` (pixels flattened); the fraud
    detector's exact, chunked nearest-neighbour search."""
    from keras_ae.neighbours import nearest

    a, b = (np.asarray(check.real(name, v), dtype=np.float32) for name, v in (("images", images),
                                                                             ("reference", reference)))
    if a.ndim < 1 or b.ndim < 1 or not len(a) or not len(b) or a.shape[1:] != b.shape[1:]:
        raise ValueError(f"Expected images and reference of the same shape but their first axis, each with at least "
                         f"one row, received images.shape={a.shape}, reference.shape={b.shape}")
    check.finite("images", a), check.finite("reference", b)
    return nearest(b.reshape(len(b), -1), a.reshape(len(a), -1), k=1)[1][:, 0]


def prior_sample_report(model: Autoencoder, x_train: np.ndarray, x_test: np.ndarray, n: int = 500,
                        seed: int = 0) -> dict:
    """Do samples from the prior look like the data? Mean distance of `n` prior samples to their nearest
    training image, against the same for the reconstructions of `n` test images (ratio 1: samples sit
    as close to real images as reconstructions do)."""
    x_train, x_test = check.images(model, x_train, "x_train"), check.images(model, x_test, "x_test")
    drawn = sample(model, n, seed=seed).images
    test = x_test[:n]
    recon = decode(model, encode(model, test))
    d_sample, d_recon = nearest_distance(drawn, x_train).mean(), nearest_distance(recon, x_train).mean()
    return {"samples": n, "reconstructions": int(len(test)), "sample_distance": round(float(d_sample), 4),
            "reconstruction_distance": round(float(d_recon), 4),
            "ratio": round(float(d_sample / d_recon), 4) if d_recon > 0 else None}


def latent_usage(z_mean: np.ndarray, z_log_var: np.ndarray, threshold: float = 0.01) -> dict:
    """Which latent dimensions a VAE uses: per dimension the mean KL to N(0, 1) and the variance of z_mean
    over the inputs; a dimension is active when that variance exceeds `threshold` (Burda et al. 2016),
    i.e. its code changes with the input instead of collapsing to the prior."""
    m, lv = (np.asarray(check.real(n, v), dtype=np.float64) for n, v in (("z_mean", z_mean), ("z_log_var", z_log_var)))
    if m.shape != lv.shape or m.ndim != 2 or not len(m):
        raise ValueError(f"Expected z_mean and z_log_var of one shape (n, latent_dim), received {m.shape} and "
                         f"{lv.shape}")
    check.finite("z_mean", m), check.finite("z_log_var", lv), check.number("threshold", threshold, 0)
    kl = (-0.5 * (1.0 + lv - m**2 - np.exp(lv))).mean(axis=0)
    activity = m.var(axis=0)
    active = activity > threshold
    return {"kl_per_dim": kl.round(4).tolist(), "activity": activity.round(4).tolist(), "threshold": threshold,
            "active": [bool(a) for a in active], "active_dims": int(active.sum()), "all_active": bool(active.all())}
