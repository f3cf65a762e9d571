"""The registry of image anomaly scores: what `--score` chooses from, and how `ImageScorer` computes each.

A score reads a `ScoreInputs` (the images, their contrast-normalised form, reconstructions and codes,
each computed once, on first use) and returns one value per image, higher = more anomalous. A score
that must learn something from the normal training images (a code density, a reference level) has a
`fit` that returns its state. A new score is one `register_score` call.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from keras_ae.anomaly import baselines, scores
from keras_ae.errors import UsageError
from keras_ae.registry import Registry


class ScoreInputs:
    """A batch of images and what scores compute from them with a trained bundle, each made once."""

    def __init__(self, bundle: Any, x: np.ndarray, contrast: str = "standardize", batch_size: int = 256):
        self.bundle, self.raw, self.contrast, self.batch_size = bundle, x, contrast, batch_size

    @functools.cached_property
    def prepared(self) -> np.ndarray:
        """The images as the autoencoder sees them (contrast-normalised)."""
        return scores.normalize_contrast(self.raw, self.contrast)

    @functools.cached_property
    def reconstruction(self) -> np.ndarray:
        return scores.predict_reconstructions(self.bundle, self.prepared, self.batch_size)

    @functools.cached_property
    def codes(self) -> np.ndarray:
        from keras_ae.models.base import encode

        codes = encode(self.bundle, self.prepared, self.batch_size)
        return codes.reshape(len(codes), -1).astype(np.float64)


@dataclasses.dataclass(frozen=True)
class ImageScore:
    """``score(inputs, state) -> (n,)``; ``fit(training_inputs, options) -> state`` when the score learns.

    Attributes:
        variational: needs a VAE bundle (encoder returning [z_mean, z_log_var]).
        options: the options the score takes, with their defaults (``{"k": 5}``); runs pass the values of their
            fields of these names (`OneClassConfig.k`, `--k`) to `fit`.
        check: ``(options, training_shape) -> None``, a UsageError naming the option that cannot work with the
            normal training images, of shape (n, height, width[, channels]) (checked before any training).
        training_score: ``(training_inputs, state) -> (n,)``, the scores of the images the state was fitted on where
            `score` would count each as its own neighbour (leave-one-out): the scale several parts share.
    """

    score: Callable[[ScoreInputs, Any], np.ndarray]
    help: str = ""
    fit: Callable[[ScoreInputs, dict], Any] | None = None
    variational: bool = False
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    check: Callable[[dict, tuple[int, ...]], None] | None = None
    training_score: Callable[[ScoreInputs, Any], np.ndarray] | None = None


IMAGE_SCORES: Registry[ImageScore] = Registry("score")
RECOMMENDED = "latent+detail"


def register_score(name: str, score: ImageScore | Callable[[ScoreInputs, Any], np.ndarray], help: str = "",
                   replace: bool = False, **fields: Any) -> ImageScore:
    """Register an image score under `name` (an `ImageScore`, or its `score` function and fields)."""
    if "+" in name:
        raise ValueError(f"Expected a score name without '+', received name={name!r}")
    entry = score if isinstance(score, ImageScore) else ImageScore(score, help, **fields)
    return IMAGE_SCORES.register(name, entry, replace=replace)


def _error(metric: str) -> Callable[[ScoreInputs, Any], np.ndarray]:
    return lambda inputs, state: scores.reconstruction_errors(inputs.prepared, inputs.reconstruction, metric)


def _density(method: str) -> Callable[[ScoreInputs, dict], Any]:
    return lambda inputs, options: scores.LatentDensity(method, k=options.get("k", 5)).fit(inputs.codes)


def _check_k(options: dict, shape: tuple[int, ...]) -> None:
    """Each training image is left out of its own neighbours when the scale of a combined score is set: k must
    be below the number of training images, so that every image, new or seen, is measured against k others."""
    k, n_train = options["k"], shape[0]
    from keras_ae.models.arguments import is_int  # no Keras: the models package loads its builders lazily

    if not is_int(k) or k < 1:
        raise UsageError(f"k={k!r} must be a whole number, at least 1", param="k")
    if k > n_train:
        raise UsageError(f"k={k} is more than the {n_train} normal training images (each image is compared with its k "
                         "nearest): choose a smaller k or train on more images", param="k")
    if k == n_train:
        raise UsageError(f"k={k} is as many as the normal training images; at most {n_train - 1} (each training "
                         "image is left out of its own neighbours)", param="k")


@dataclasses.dataclass
class PixelNeighbours:
    """The blurred, contrast-normalised normal training images (flattened) that `pixel-knn` measures against, and
    the views of an image it compares (itself, shifted by up to `shift` pixels, rotated by +-`rotate` degrees)."""

    reference: np.ndarray
    k: int
    blur: float
    views: Callable[[np.ndarray], np.ndarray] | None  # None: the image itself only (shift and rotate 0)

    def nearest(self, inputs: ScoreInputs, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The indices of the `k` (default: the score's k) nearest training images of each image, and the
        distances, as `keras_ae.neighbours.nearest` gives them."""
        from keras_ae.neighbours import nearest

        return nearest(self.reference, _blurred(inputs, self.blur), k or self.k, views=self.views)


def _blurred(inputs: ScoreInputs, sigma: float) -> np.ndarray:
    """The images as the autoencoder sees them, blurred over height and width by `sigma` pixels, flattened."""
    x = scores.as_images(inputs.prepared, "pixel-knn", dtype=np.float32)
    return (scores.blur_images(x, sigma) if sigma > 0 else x).reshape(len(x), -1)


def _fit_pixel_knn(inputs: ScoreInputs, options: dict) -> PixelNeighbours:
    reference = _blurred(inputs, options["blur"])
    shape = scores.as_images(inputs.prepared[:1], "pixel-knn").shape[1:]
    views = scores.image_views(shape, options["shift"], options["rotate"]) if options["shift"] or options["rotate"] \
        else None
    return PixelNeighbours(reference, options["k"], options["blur"], views)


def _pixel_knn(inputs: ScoreInputs, state: PixelNeighbours) -> np.ndarray:
    return state.nearest(inputs)[1].mean(axis=1)


def _pixel_knn_training(inputs: ScoreInputs, state: PixelNeighbours) -> np.ndarray:
    from keras_ae.neighbours import leave_one_out

    return leave_one_out(state.reference, state.k, views=state.views).mean(axis=1)


def _check_pixel_knn(options: dict, shape: tuple[int, ...]) -> None:
    _check_k(options, shape)
    if len(shape) < 3:
        return
    half = min(shape[1], shape[2]) / 2
    if options["blur"] > half:
        raise UsageError(f"blur={options['blur']:g} is more than half the images' smaller side "
                         f"({half:g} pixels): the blurred images would all look alike", param="blur")
    if options["shift"] >= half:
        raise UsageError(f"shift={options['shift']} is half the images' smaller side or more ({half:g} pixels): an "
                         "image shifted that far is mostly its repeated edge", param="shift")


@dataclasses.dataclass
class TextureNeighbours:
    """The texture vectors (`texture.band_energies`) of the normal training images that `texture` measures
    against, with the score's k and cell size."""

    reference: np.ndarray
    k: int
    cell: int


def _fit_texture(inputs: ScoreInputs, options: dict) -> TextureNeighbours:
    from keras_ae.anomaly.texture import band_energies

    return TextureNeighbours(band_energies(inputs.raw, options["cell"]), options["k"], options["cell"])


def _texture(inputs: ScoreInputs, state: TextureNeighbours) -> np.ndarray:
    from keras_ae.anomaly.texture import band_energies
    from keras_ae.neighbours import nearest

    return nearest(state.reference, band_energies(inputs.raw, state.cell), state.k)[1].mean(axis=1)


def _texture_training(inputs: ScoreInputs, state: TextureNeighbours) -> np.ndarray:
    from keras_ae.neighbours import leave_one_out

    return leave_one_out(state.reference, state.k).mean(axis=1)


def _check_texture(options: dict, shape: tuple[int, ...]) -> None:
    from keras_ae.anomaly.texture import check_cell

    _check_k(options, shape)
    if len(shape) >= 3:
        check_cell(options["cell"], shape[1], shape[2])


def _detail(inputs: ScoreInputs, state: np.ndarray) -> np.ndarray:
    return scores.typicality_distance(scores.detail_energy(inputs.raw), state)


register_score("mse", _error("mse"), "mean squared reconstruction error")
register_score("bce", _error("bce"), "mean binary cross-entropy between image and reconstruction")
register_score("ssim", _error("ssim"), "1 - SSIM between image and reconstruction")
register_score("elbo", lambda inputs, state: scores.vae_negative_elbo(inputs.bundle, inputs.prepared,
                                                                      batch_size=inputs.batch_size),
               "negative ELBO of a VAE (reconstruction BCE + KL)", variational=True)
register_score("latent", lambda inputs, state: state.score_samples(inputs.codes),
               "Mahalanobis distance of the code from the training codes", fit=_density("mahalanobis"))
register_score("latent-knn", lambda inputs, state: state.score_samples(inputs.codes),
               "mean distance of the code to its k nearest training codes", fit=_density("knn"), options={"k": 5},
               check=_check_k, training_score=lambda inputs, state: state.training_scores())
register_score("pixel-knn", _pixel_knn,
               "mean distance of the image to its k nearest normal training images, both prepared as the autoencoder "
               "sees them (--contrast) and blurred by a Gaussian of blur pixels (default 1), the image taken in the "
               "view closest to each: shifted by up to shift pixels (default 1) and rotated by +-rotate degrees "
               "(default 10), so small shifts, slants and stroke changes cost little",
               options={"k": 5, "blur": 1.0, "shift": 1, "rotate": 10.0}, check=_check_pixel_knn,
               training_score=_pixel_knn_training, fit=_fit_pixel_knn)
register_score("texture", _texture,
               "mean distance of the image's local texture energy to that of its k nearest normal training images: "
               "the log energy of four band-pass octaves (differences of Gaussian blurs of 0.5-4 pixels) in every "
               "cell of cell x cell pixels (default 2), so missing, added or moved detail counts",
               options={"k": 5, "cell": 2}, check=_check_texture, training_score=_texture_training, fit=_fit_texture)
register_score("pca", lambda inputs, pca: baselines.pca_errors(pca, inputs.raw),
               "reconstruction error of the optimal linear autoencoder (PCA keeping pca_variance, default 90%, of the "
               "training images' variance)", options={"pca_variance": 0.9},
               fit=lambda inputs, options: baselines.fit_pca(inputs.raw, options["pca_variance"]))
register_score("detail", _detail,
               "two-sided distance of the image's fine-detail energy from that of the training images",
               fit=lambda inputs, options: scores.detail_energy(inputs.raw))


def check_score(score: str) -> list[str]:
    """The parts of a score name ("latent+detail" -> ["latent", "detail"]); ValueError for unknown parts."""
    parts = str(score).split("+")
    for part in parts:
        if part not in IMAGE_SCORES:
            raise ValueError(f"unknown score {part!r} in score={score!r} (known: {', '.join(IMAGE_SCORES)}; "
                             "join several with '+')")
    if len(set(parts)) != len(parts):
        raise ValueError(f"score={score!r} names a part twice")
    return parts


def describe_score(score: str, options: dict | None = None) -> str:
    """What `score` computes; with `options` (a run's, from `check_options`), the values it used, since the help
    text names the defaults."""
    parts = check_score(score)
    text = IMAGE_SCORES[score].help if len(parts) == 1 else (
        "average of scaled scores: " + "; ".join(IMAGE_SCORES[p].help for p in parts))
    used = {name: options[name] for name in score_options(score) if options and name in options}
    return text + (f" (this run: {', '.join(f'{k}={v}' for k, v in used.items())})" if used else "")


def score_options(score: str) -> dict[str, Any]:
    """The options the parts of `score` take, with their defaults."""
    return {name: value for part in check_score(score) for name, value in IMAGE_SCORES[part].options.items()}


def check_options(score: str, options: dict, training: int | tuple[int, ...]) -> dict[str, Any]:
    """The options of `score` (its defaults, then `options` of those names), checked against the normal training
    images: their shape (n, height, width[, channels]), or just their number."""
    shape = (training,) if isinstance(training, int) else tuple(training)
    chosen = {**score_options(score), **{k: v for k, v in options.items() if k in score_options(score)}}
    for part in check_score(score):
        if IMAGE_SCORES[part].check is not None:
            IMAGE_SCORES[part].check(chosen, shape)
    return chosen


def unused_options(score: str, options: dict) -> dict[str, list[str]]:
    """The score options that `options` sets away from their default while no part of `score` takes them
    ("blur" with score="latent"), each with the scores that do take it: options that would do nothing."""
    owners: dict[str, list[str]] = {}
    defaults: dict[str, Any] = {}
    for name, entry in IMAGE_SCORES.items():
        for option, default in entry.options.items():
            owners.setdefault(option, []).append(name)
            defaults.setdefault(option, default)
    takes = score_options(score)
    return {option: owners[option] for option, default in defaults.items()
            if option not in takes and options.get(option) is not None and options.get(option) != default}


def needs_vae(score: str) -> list[str]:
    """The parts of `score` that need a VAE."""
    return [part for part in check_score(score) if IMAGE_SCORES[part].variational]
