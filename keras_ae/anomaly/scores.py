"""Image anomaly scores from a trained autoencoder: one score per image, higher = more anomalous.

- `reconstruction_errors(model, x, metric="mse" | "mae" | "bce" | "ssim")` (or on arrays)
- `vae_negative_elbo(bundle, x)`: -ELBO of a VAE (reconstruction BCE + KL), a bound on -log p(x)
- `LatentDensity`: Mahalanobis (or k-nearest-neighbour) distance of an image's code from the codes of the
  normal training images
- `detail_energy(x)` + `typicality_distance`: how far an image's fine-detail energy lies from that of normal
  images, in either direction (hazy and over-sharp both count)
- `normalize_contrast(x)`: per-image contrast normalisation applied before the autoencoder, and
  `combine_scores` to put scores on one scale and average them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

ERROR_METRICS = ("mse", "mae", "bce", "ssim")


def _is_model(obj: Any) -> bool:
    """True for a keras.Model or an Autoencoder bundle (anything with `predict` or an `autoencoder`)."""
    return hasattr(obj, "predict") or hasattr(obj, "autoencoder")


def _network(model: Any):
    return model.autoencoder if hasattr(model, "autoencoder") else model


def predict_reconstructions(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """`model(x)` in batches (a VAE decodes z_mean, so this is deterministic)."""
    return np.asarray(_network(model).predict(np.asarray(x), batch_size=batch_size, verbose=0))


def reconstruction_errors(x: Any, reconstruction: Any, metric: str = "mse", batch_size: int = 256,
                          value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Per-example error between `x` and its `reconstruction`, averaged over every other axis.

    Two forms: ``reconstruction_errors(x, reconstruction)`` on arrays, and
    ``reconstruction_errors(model, x)`` which reconstructs `x` with a trained autoencoder (a
    `keras.Model` or an `Autoencoder` bundle) `batch_size` images at a time.

    Args:
        metric: "mse" (squared error), "mae", "bce" (binary cross-entropy, values in [0, 1]) or
            "ssim" (1 - structural similarity, images (n, h, w[, c]) only).
        value_range: range of the pixel values (used by "ssim" for its constants).
    """
    if _is_model(x):
        model, x = x, np.asarray(reconstruction)
        reconstruction = predict_reconstructions(model, x, batch_size=batch_size)
    if metric == "ssim":
        return 1.0 - ssim(x, reconstruction, data_range=value_range[1] - value_range[0])
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    r = np.asarray(reconstruction, dtype=np.float64).reshape(len(reconstruction), -1)
    if x.shape != r.shape:
        raise ValueError(f"x and reconstruction differ in shape: {x.shape} vs {r.shape}")
    if metric == "mse":
        return np.mean((x - r) ** 2, axis=1)
    if metric == "mae":
        return np.mean(np.abs(x - r), axis=1)
    if metric == "bce":
        r = np.clip(r, 1e-7, 1 - 1e-7)
        return np.mean(-(x * np.log(r) + (1 - x) * np.log(1 - r)), axis=1)
    raise ValueError(f"unknown error metric {metric!r} (known: {', '.join(ERROR_METRICS)})")


def ssim(x: np.ndarray, y: np.ndarray, data_range: float = 1.0, sigma: float = 1.5) -> np.ndarray:
    """Mean structural similarity of each pair of images (n, h, w[, c]) with an 11x11 Gaussian window."""
    if np.shape(x) != np.shape(y):
        raise ValueError(f"x and reconstruction differ in shape: {np.shape(x)} vs {np.shape(y)}")
    x, y = as_images(x, "ssim"), as_images(y, "ssim")

    def blur(a):
        return blur_images(a, sigma, truncate=3.5)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    value = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return value.reshape(len(x), -1).mean(axis=1)


CONTRAST_NORMS = ("none", "standardize")


def standardize_images(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Each image (the first axis counts images) shifted and scaled to mean 0 and standard deviation 1 over all
    its pixels and channels; `eps` keeps a flat image finite (it becomes zeros)."""
    axes = tuple(range(1, x.ndim))
    return (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + eps)


def normalize_contrast(x: np.ndarray, kind: str = "standardize", eps: float = 1e-6) -> np.ndarray:
    """Per-image contrast normalisation: "standardize" maps every image to mean 0.5 and standard
    deviation 0.125, clipped to [0, 1] (so sigmoid decoders and BCE still apply); "none" returns `x`.

    A hazy image (low contrast, few edges) is stretched to the same contrast as a sharp one, so
    "easy to reconstruct because it is flat" no longer passes for "normal".
    """
    if kind == "none":
        return np.asarray(x)
    if kind != "standardize":
        raise ValueError(f"unknown contrast normalisation {kind!r} (known: {', '.join(CONTRAST_NORMS)})")
    z = standardize_images(np.asarray(x, dtype=np.float32), eps)
    return np.clip(0.5 + z / 8.0, 0.0, 1.0).astype(np.float32)


class LatentDensity:
    """How far a code lies from the codes of normal training images.

    method="mahalanobis": squared Mahalanobis distance under a Gaussian fitted to the training codes
    (Ledoit-Wolf shrunk covariance, stable when codes outnumber images); method="knn": mean Euclidean
    distance to the `k` nearest training codes after standardising each code dimension.
    """

    METHODS = ("mahalanobis", "knn")

    def __init__(self, method: str = "mahalanobis", k: int = 5):
        self.method = method
        self.k = k

    def fit(self, codes: np.ndarray) -> LatentDensity:
        if self.method not in self.METHODS:
            raise ValueError(f"unknown latent method {self.method!r} (known: {', '.join(self.METHODS)})")
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        if len(codes) < 2:
            raise ValueError(f"LatentDensity needs at least 2 training codes, received {len(codes)}")
        if self.method == "mahalanobis":
            from sklearn.covariance import LedoitWolf

            self.model_ = LedoitWolf().fit(codes)
        else:
            if not 0 < self.k <= len(codes):
                raise ValueError(f"k must be between 1 and {len(codes)}, received k={self.k}")
            self.mean_, self.scale_ = codes.mean(axis=0), codes.std(axis=0) + 1e-8
            self.model_ = (codes - self.mean_) / self.scale_  # the reference codes, standardised
        return self

    def training_scores(self) -> np.ndarray:
        """The knn distances of the training codes themselves, each left out of its own neighbours."""
        from keras_ae.neighbours import leave_one_out

        if self.method != "knn" or not hasattr(self, "model_"):
            raise RuntimeError("training_scores needs a fitted LatentDensity with method='knn'")
        return leave_one_out(self.model_, self.k).mean(axis=1)

    def score_samples(self, codes: np.ndarray) -> np.ndarray:
        """One distance per code; higher = less like the training codes."""
        if not hasattr(self, "model_"):
            raise RuntimeError("LatentDensity is not fitted; call fit(training_codes) first")
        codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
        if self.method == "mahalanobis":
            return self.model_.mahalanobis(codes)
        from keras_ae.neighbours import nearest

        _, distances = nearest(self.model_, (codes - self.mean_) / self.scale_, self.k)
        return distances.mean(axis=1)


def vae_negative_elbo(bundle: Any, x: np.ndarray, samples: int = 1, seed: int = 0,
                      batch_size: int = 256) -> np.ndarray:
    """-ELBO per image for a VAE bundle: summed pixel BCE of the decoded samples + KL(q(z|x) || N(0, I)).

    The bound on -log p(x) that the VAE was trained to minimise; `samples` draws of z are averaged
    (fixed `seed`, so the scores are reproducible). Pixels must be in [0, 1].
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1, received {samples}")
    x = np.asarray(x, dtype=np.float32)
    out = bundle.encoder.predict(x, batch_size=batch_size, verbose=0)
    if not isinstance(out, (list, tuple)) or len(out) < 2:
        raise ValueError("vae_negative_elbo needs a VAE whose encoder returns [z_mean, z_log_var]")
    from keras_ae.models.vae_losses import kl_divergence, reconstruction_bce

    z_mean, z_log_var = (np.asarray(o, dtype=np.float64) for o in out[:2])
    kl = np.asarray(kl_divergence(z_mean, z_log_var), dtype=np.float64)
    rng = np.random.default_rng(seed)
    bce = np.zeros(len(x))
    for _ in range(samples):
        z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
        r = bundle.decoder.predict(z.astype(np.float32), batch_size=batch_size, verbose=0)
        bce += np.asarray(reconstruction_bce(x, r), dtype=np.float64)
    return bce / samples + kl


def robust_scale(reference: np.ndarray) -> tuple[float, float]:
    """(median, spread) of scores of normal examples: the spread is their interquartile range, else the mean
    absolute deviation from the median (when most examples score the same), else 1."""
    ref = np.asarray(reference, dtype=np.float64)
    q1, median, q3 = np.percentile(ref, [25, 50, 75])
    spread = q3 - q1
    if not spread > 0:
        spread = float(np.mean(np.abs(ref - median)))
    return float(median), float(spread) if spread > 0 else 1.0


def combine_scores(scores: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> np.ndarray:
    """Average of scores put on one scale: each is centred by the median of its `reference` scores
    (normal images) and divided by their interquartile range, so no single score dominates by its units."""
    if not scores:
        raise ValueError("combine_scores needs at least one score")
    total = 0.0
    for name, values in scores.items():
        median, spread = robust_scale(reference[name])
        total = total + (np.asarray(values, dtype=np.float64) - median) / spread
    return np.asarray(total) / len(scores)


def as_images(x: np.ndarray, who: str, dtype: Any = np.float64) -> np.ndarray:
    """`x` as (n, height, width, channels): a channel axis added to (n, height, width); else a ValueError naming
    `who`."""
    x = np.asarray(x, dtype=dtype)
    x = x.reshape(*x.shape, 1) if x.ndim == 3 else x
    if x.ndim != 4:
        raise ValueError(f"{who} needs images (n, height, width[, channels]), received shape {x.shape}")
    return x


def blur_images(x: np.ndarray, sigma: float, **options: Any) -> np.ndarray:
    """Each image (n, height, width, channels) blurred by a Gaussian of `sigma` pixels over height and width only,
    never across images or channels (reflected at the edges; `options` go to scipy's gaussian_filter)."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(x, (0, sigma, sigma, 0), mode="reflect", **options)


def image_views(shape: tuple[int, ...], shift: int = 1, rotate: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """A function that turns a block of flattened images of `shape` (height, width[, channels]) into its views,
    stacked on a new first axis (views, n, features): each image rotated by -rotate, 0 and +rotate degrees (0: no
    rotation), each of those shifted by every whole number of pixels up to `shift` in each direction (edges
    repeated). The identity comes first; (2 shift + 1)^2 views per angle."""
    from scipy.ndimage import rotate as rotated

    shape = tuple(shape) if len(shape) == 3 else (*shape, 1)
    height, width = shape[:2]
    angles = [0.0] + ([180.0] if rotate == 180 else [-rotate, rotate] if rotate else [])
    steps = sorted(range(-shift, shift + 1), key=abs)  # 0 first: the identity leads

    def views(block: np.ndarray) -> np.ndarray:
        x = block.reshape(len(block), *shape)
        out = []
        for angle in angles:
            turned = rotated(x, angle, axes=(1, 2), reshape=False, order=1, mode="nearest") if angle else x
            padded = np.pad(turned, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
            out += [padded[:, shift - dy:shift - dy + height, shift - dx:shift - dx + width].reshape(len(block), -1)
                    for dy in steps for dx in steps]
        return np.stack(out)

    return views


def detail_energy(x: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Log energy of each image's fine detail: mean squared difference between the contrast-normalised
    image and its Gaussian blur (`sigma` pixels). Sharp images score high, hazy ones low."""
    x = as_images(x, "detail_energy")
    axes = (1, 2, 3)
    z = standardize_images(x)
    detail = z - blur_images(z, sigma)
    return np.log(np.mean(detail**2, axis=axes) + 1e-12)


def typicality_distance(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Two-sided distance of each value from the median of `reference` (normal examples), in units of
    their interquartile range: unusual in either direction counts, so no anomaly labels are assumed."""
    median, spread = robust_scale(reference)
    return np.abs(np.asarray(values, dtype=np.float64) - median) / spread
