"""The pixel-knn image score: distance to the nearest normal training images, blurred; leave-one-out scales."""

import numpy as np
import pytest

from keras_ae.anomaly import image_scores
from keras_ae.anomaly.one_class import ImageScorer
from keras_ae.anomaly.scores import LatentDensity
from keras_ae.errors import UsageError


class _Identity:  # stands in for an autoencoder bundle: pixel-knn and pca need only the images
    encoder = decoder = autoencoder = None


def _lines(n: int = 20, size: int = 16, seed: int = 0) -> np.ndarray:
    """Images of one thin vertical line each, at a random column: strokes one pixel wide."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, size, size, 1), dtype="float32")
    for i, col in enumerate(rng.integers(3, size - 3, size=n)):
        x[i, 2:-2, col] = 1.0
    return x


def test_a_copy_of_a_training_image_scores_zero_and_others_do_not():
    x = np.random.default_rng(1).random((30, 8, 8, 1)).astype("float32")
    scorer = ImageScorer(_Identity(), "pixel-knn", contrast="standardize", k=1).fit(x)
    scores = scorer.score_samples(np.concatenate([x[:3], 1 - x[:3]]))
    assert np.allclose(scores[:3], 0, atol=1e-4) and np.all(scores[3:] > 0.1)


def test_blur_makes_a_one_pixel_shift_cheap_next_to_a_different_shape():
    train = _lines(seed=0)
    shifted = np.roll(train[:1], 1, axis=2)  # the same line, one column over: no pixel in common without blur
    other = np.zeros_like(train[:1])
    other[0, 7, 2:-2] = 1.0  # a horizontal line: a different shape
    ratio = {}
    for blur in (0.0, 1.0):
        scorer = ImageScorer(_Identity(), "pixel-knn", contrast="standardize", k=1, blur=blur).fit(train[:1])
        near, far = scorer.score_samples(np.concatenate([shifted, other]))
        ratio[blur] = near / far
    assert ratio[0.0] > 0.9 and ratio[1.0] < 0.7  # unblurred, the shift costs as much as another shape


def test_the_scale_of_a_neighbour_score_leaves_each_training_image_out():
    x = np.random.default_rng(2).random((25, 8, 8, 1)).astype("float32")
    scorer = ImageScorer(_Identity(), "pixel-knn+pca", contrast="none", k=1, blur=0.0).fit(x)
    reference = scorer.reference_["pixel-knn"]
    flat = x.reshape(len(x), -1).astype(np.float64)
    d = np.sqrt(((flat[:, None] - flat[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert np.allclose(reference, d.min(axis=1), rtol=1e-5)  # not 0: no image is its own neighbour
    assert np.allclose(scorer.reference_["pca"], scorer._part_scores(scorer._inputs(x))["pca"])


def test_latent_knn_training_scores_leave_each_code_out():
    codes = np.random.default_rng(3).normal(size=(40, 3))
    density = LatentDensity("knn", k=2).fit(codes)
    z = (codes - codes.mean(0)) / codes.std(0)
    d = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert np.allclose(density.training_scores(), np.sort(d, axis=1)[:, :2].mean(axis=1), rtol=1e-5)
    with pytest.raises(RuntimeError, match="method='knn'"):
        LatentDensity("mahalanobis").fit(codes).training_scores()


def test_pixel_knn_options_and_their_checks():
    assert image_scores.score_options("pixel-knn") == {"k": 5, "blur": 1.0}
    with pytest.raises(UsageError, match=r"k=12 is more than the 10 normal training images"):
        image_scores.check_options("pixel-knn", {"k": 12}, 10)


def test_digits_default_to_pixel_knn():
    from keras_ae.data.registry import DATASETS

    assert DATASETS["mnist-sample"].default_score == DATASETS["mnist"].default_score == "pixel-knn"
    assert DATASETS["pneumonia"].default_score == "latent+detail"


def test_compare_scores_ranks_candidates_on_validation_and_test():
    from keras_ae.anomaly.one_class import OneClassSplits, compare_scores

    train = _lines(40, seed=4)
    normal, odd = _lines(10, seed=5), np.transpose(_lines(10, seed=6), (0, 2, 1, 3))  # horizontal lines: anomalies
    x, y = np.concatenate([normal, odd]), np.array([0] * 10 + [1] * 10)
    splits = OneClassSplits(train, x, y, x[::-1], y[::-1])
    rows = compare_scores(_Identity(), splits, ["pixel-knn", "pca"], k=1, pca_variance=0.5)
    assert [r["score"] for r in rows] == ["pixel-knn", "pca"]
    assert rows[0]["validation_roc_auc"] == rows[0]["test_roc_auc"] == 1.0
    with pytest.raises(ValueError, match="unknown score 'nope'"):
        compare_scores(_Identity(), splits, ["nope"])


def test_roc_auc_standard_error_matches_hanley_mcneil():
    from keras_ae.anomaly import roc_auc_standard_error

    assert roc_auc_standard_error(0.5, 10, 10) == pytest.approx(np.sqrt((0.25 + 18 / 12) / 100))
    assert roc_auc_standard_error(1.0, 40, 40) == 0.0
    assert roc_auc_standard_error(0.97, 135, 135) > roc_auc_standard_error(0.97, 1350, 1350)
    with pytest.raises(ValueError, match="both classes"):
        roc_auc_standard_error(0.9, 0, 10)


def test_choose_score_takes_the_simplest_within_one_standard_error():
    from keras_ae.anomaly.one_class import choose_score

    rows = [{"score": "latent+detail+pixel-knn", "validation_roc_auc": 0.975, "validation_se": 0.01},
            {"score": "latent+detail", "validation_roc_auc": 0.972, "validation_se": 0.01},
            {"score": "pixel-knn", "validation_roc_auc": 0.960, "validation_se": 0.01}]
    assert choose_score(rows) == "latent+detail"  # pixel-knn is simpler but more than one error below the best
    rows[2]["validation_roc_auc"] = 0.966
    assert choose_score(rows) == "pixel-knn"
    rows[0]["validation_se"] = 0.001  # a precise best: nothing else is within reach
    assert choose_score(rows) == "latent+detail+pixel-knn"
    with pytest.raises(ValueError, match="at least one"):
        choose_score([])
