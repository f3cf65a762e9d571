"""One-class anomaly detection on images: train on one normal class, flag everything else.

`one_class_splits` builds the training set (normal images only) and balanced validation and test
sets; `ImageScorer` turns a trained autoencoder into one anomaly score per image, with any score of the
registry `IMAGE_SCORES` (or several joined with "+"). Threshold rules and metrics are the array
functions of `keras_ae.anomaly.thresholds` and `keras_ae.anomaly.metrics`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from keras_ae.anomaly import scores
from keras_ae.anomaly.image_scores import (
    IMAGE_SCORES,
    RECOMMENDED,
    ScoreInputs,
    check_options,
    check_score,
    score_options,
)
from keras_ae.errors import UsageError


@dataclasses.dataclass
class OneClassSplits:
    """Normal-only training images and labelled (0 normal, 1 anomaly) validation and test sets."""

    x_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


def _balanced(x: np.ndarray, labels: np.ndarray, normal: int, rng: np.random.Generator, where: str,
              n_normal: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All (or `n_normal`) normal images plus as many anomalies drawn at random; label 1 = anomaly."""
    normal_idx = np.flatnonzero(labels == normal)
    anomaly_idx = np.flatnonzero(labels != normal)
    if len(normal_idx) == 0:
        raise UsageError(f"the {where} set holds no images of the normal class {normal}")
    if len(anomaly_idx) == 0:
        raise UsageError(f"the {where} set holds no images outside the normal class {normal}")
    if n_normal is not None:
        normal_idx = rng.choice(normal_idx, size=min(n_normal, len(normal_idx)), replace=False)
    n = min(len(normal_idx), len(anomaly_idx))
    normal_idx = np.sort(rng.choice(normal_idx, size=n, replace=False))
    anomaly_idx = np.sort(rng.choice(anomaly_idx, size=n, replace=False))
    idx = np.concatenate([normal_idx, anomaly_idx])
    return x[idx], (labels[idx] != normal).astype(np.int64)


def one_class_splits(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, normal: int,
    x_val: np.ndarray | None = None, y_val: np.ndarray | None = None, val_fraction: float = 0.1,
    seed: int = 0,
) -> OneClassSplits:
    """Training set of normal images only; balanced validation and test sets (as many anomalies as normals).

    With an official validation split (`x_val`, PneumoniaMNIST: 135 normal + 135 drawn from 389
    pneumonia) it is used; otherwise `val_fraction` of the normal training images are held out and as
    many training anomalies are drawn. The test set holds every normal test image and as many anomalies
    drawn at random (PneumoniaMNIST: 234 + 234). Draws use `seed`.

    Raises:
        UsageError: the normal class has no images in a split, or a split has no anomalies.
    """
    known = sorted(set(np.unique(y_train).tolist()) | set(np.unique(y_test).tolist()))
    if normal not in known:
        raise UsageError(f"normal={normal} is not a label of this dataset (labels: "
                         f"{', '.join(str(k) for k in known)})")
    if not 0 < val_fraction < 1:
        raise UsageError(f"validation fraction must be between 0 and 1, received {val_fraction}")
    rng = np.random.default_rng(seed)
    y_train, y_test = np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)
    train_normal = np.flatnonzero(y_train == normal)
    if len(train_normal) == 0:
        raise UsageError(f"the training set holds no images of the normal class {normal}")
    if x_val is None:
        held = rng.choice(train_normal, size=max(1, int(round(val_fraction * len(train_normal)))),
                          replace=False)
        if len(held) == len(train_normal):
            raise UsageError(f"validation fraction {val_fraction} of the {len(train_normal)} training image(s) of "
                             f"class {normal} leaves none to train on; "
                             + ("hold out a smaller fraction" if len(train_normal) > 1 else "at least 2 are needed"))
        keep = np.setdiff1d(train_normal, held)
        pool = np.concatenate([held, np.flatnonzero(y_train != normal)])
        xv, yv = _balanced(x_train[pool], y_train[pool], normal, rng, "validation")
        source = f"{len(held)} held-out normal training images + as many training anomalies"
    else:
        keep = train_normal
        xv, yv = _balanced(x_val, np.asarray(y_val).reshape(-1), normal, rng, "validation")
        source = "official validation split, balanced"
    xt, yt = _balanced(x_test, y_test, normal, rng, "test")
    info = {"normal": int(normal), "train_normal": int(len(keep)),
            "val": {"normal": int((yv == 0).sum()), "anomaly": int(yv.sum()), "source": source},
            "test": {"normal": int((yt == 0).sum()), "anomaly": int(yt.sum())}}
    return OneClassSplits(x_train[np.sort(keep)], xv, yv, xt, yt, info)


def _image_shape(x: Any) -> tuple[int, ...]:
    """The shape of one image of `x`, with the channel axis a grey (n, height, width) array leaves out."""
    shape = tuple(np.shape(x)[1:])
    return (*shape, 1) if len(shape) == 2 else shape


def _check_images(x: Any, name: str, like: Any = None) -> None:
    """A ValueError naming `name` if `x` holds NaN or infinite pixels (no score could rank such an image, and a NaN
    score would pass every threshold as normal), or if its images differ in shape from those of `like` (the
    training images): a score fitted on one size measures nothing on another."""
    values = np.asarray(x)
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        bad = int((~np.isfinite(values.reshape(len(values), -1))).any(axis=1).sum()) if values.ndim else 1
        raise ValueError(f"{name} holds NaN or infinite pixels in {bad} image{'s' if bad != 1 else ''}: such an image "
                         "cannot be scored (mend or drop it)")
    if like is not None and _image_shape(values) != _image_shape(like):
        raise ValueError(f"{name} holds images of shape {_image_shape(values)}, but the scorer was fitted on images "
                         f"of shape {_image_shape(like)}")


class ImageScorer:
    """One anomaly score per image from a trained autoencoder bundle (higher = more anomalous).

    Args:
        bundle: Autoencoder(encoder, decoder, autoencoder) trained on images prepared with `contrast`.
        score: a name of `IMAGE_SCORES`, or several joined with "+" (averaged after scaling each by its
            median and interquartile range on the normal training images).
        contrast: "standardize" or "none", the normalisation the bundle was trained with.
        options: the score parts' options (`image_scores.score_options`: ``k`` of "latent-knn", "pixel-knn" and
            "texture", ``blur``, ``shift`` and ``rotate`` of "pixel-knn", ``pca_variance`` of "pca", ``cell`` of
            "texture"); the others keep their defaults. An option no part takes is a ValueError.
    """

    def __init__(self, bundle: Any, score: str = RECOMMENDED, contrast: str = "standardize", batch_size: int = 256,
                 **options: Any):
        self.bundle = bundle
        self.score = score
        self.contrast = contrast
        self.batch_size = batch_size
        self.options = options

    def _inputs(self, x: np.ndarray) -> ScoreInputs:
        return ScoreInputs(self.bundle, x, self.contrast, self.batch_size)

    def fit(self, x_train: np.ndarray) -> ImageScorer:
        """Learn what the score needs from the normal training images (code density, detail level, scales)."""
        if self.contrast not in scores.CONTRAST_NORMS:
            raise ValueError(f"unknown contrast normalisation {self.contrast!r} (known: "
                             f"{', '.join(scores.CONTRAST_NORMS)})")
        _check_images(x_train, "x_train")
        self.parts_ = check_score(self.score)
        unknown = set(self.options) - set(score_options(self.score))
        if unknown:
            raise ValueError(f"score={self.score!r} takes no option {sorted(unknown)[0]!r} (it takes: "
                             f"{', '.join(score_options(self.score)) or 'none'})")
        inputs = self._inputs(x_train)
        self.x_fit_ = x_train  # a reference, not a copy: `nearest_normal` shows these images
        options = check_options(self.score, self.options, np.shape(x_train))
        self.states_ = {part: IMAGE_SCORES[part].fit(inputs, options) if IMAGE_SCORES[part].fit else None
                        for part in self.parts_}
        if len(self.parts_) > 1:  # the scale the parts share: their scores of the training images
            self.reference_ = self._part_scores(inputs, training=True)
        return self

    def _part_scores(self, inputs: ScoreInputs, training: bool = False) -> dict[str, np.ndarray]:
        """Each part's scores; `training`: of the images the parts were fitted on, leave-one-out for a part that
        would count an image as its own neighbour."""
        def scorer(entry):
            return entry.training_score or entry.score if training else entry.score

        return {part: np.asarray(scorer(IMAGE_SCORES[part])(inputs, self.states_[part]), dtype=np.float64)
                for part in self.parts_}

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        if not hasattr(self, "states_"):
            raise RuntimeError("ImageScorer is not fitted; call fit(normal_training_images) first")
        _check_images(x, "x", like=self.x_fit_)
        parts = self._part_scores(self._inputs(x))
        if len(parts) == 1:
            return next(iter(parts.values()))
        return scores.combine_scores(parts, self.reference_)

    def nearest_normal(self, x: np.ndarray) -> np.ndarray:
        """The normal training image closest to each image of `x` as the `pixel-knn` part measures it, prepared as
        the autoencoder sees them (the image the score compares with first). A ValueError if the score has no
        `pixel-knn` part."""
        if not hasattr(self, "states_"):
            raise RuntimeError("ImageScorer is not fitted; call fit(normal_training_images) first")
        if "pixel-knn" not in self.parts_:
            raise ValueError(f"score={self.score!r} has no pixel-knn part: it measures no distance to training images")
        index, _ = self.states_["pixel-knn"].nearest(self._inputs(x), k=1)
        return self._inputs(np.asarray(self.x_fit_)[index[:, 0]]).prepared

    def reconstruct(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The contrast-normalised images and their reconstructions (what the model actually sees)."""
        inputs = self._inputs(x)
        return inputs.prepared, inputs.reconstruction


def compare_scores(bundle: Any, splits: OneClassSplits, candidates: list[str], contrast: str = "standardize",
                   **options: Any) -> list[dict[str, Any]]:
    """Validation ROC-AUC (with its standard error) and test ROC-AUC of each candidate score (a name of
    `IMAGE_SCORES` or several joined with "+") from one trained `bundle` on `splits`, in the order given; choose
    with `choose_score`, which reads the validation columns only. `options` go to the candidates that take them
    (``k``, ``blur``, ``shift``, ``rotate``, ``pca_variance``, ``cell``)."""
    from sklearn.metrics import roc_auc_score

    from keras_ae.anomaly.metrics import roc_auc_standard_error

    taken = {name for score in candidates for name in score_options(score)}
    if set(options) - taken:
        raise ValueError(f"no candidate score takes the option {sorted(set(options) - taken)[0]!r} (they take: "
                         f"{', '.join(sorted(taken)) or 'none'})")
    rows = []
    n_anomalies, n_normal = int(splits.y_val.sum()), int((splits.y_val == 0).sum())
    for score in candidates:
        takes = score_options(score)
        scorer = ImageScorer(bundle, score, contrast=contrast, **{k: v for k, v in options.items() if k in takes})
        scorer.fit(splits.x_train)
        val = float(roc_auc_score(splits.y_val, scorer.score_samples(splits.x_val)))
        rows.append({"score": score, "validation_roc_auc": val,
                     "validation_se": roc_auc_standard_error(val, n_anomalies, n_normal),
                     "test_roc_auc": float(roc_auc_score(splits.y_test, scorer.score_samples(splits.x_test)))})
    return rows


def choose_score(rows: list[dict[str, Any]]) -> str:
    """The one-standard-error rule (Breiman et al. 1984): among the candidates whose validation ROC-AUC is within
    one standard error of the best, the one of fewest parts, then the best on validation. `rows` as from
    `compare_scores` (or their means over runs, with the standard error of the mean)."""
    if not rows:
        raise ValueError("choose_score needs at least one candidate")
    best = max(rows, key=lambda r: r["validation_roc_auc"])
    close = [r for r in rows if r["validation_roc_auc"] >= best["validation_roc_auc"] - best["validation_se"]]
    return min(close, key=lambda r: (len(check_score(r["score"])), -r["validation_roc_auc"]))["score"]
