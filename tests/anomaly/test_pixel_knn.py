"""The pixel-knn image score: distance to the nearest normal training images, blurred; leave-one-out scales."""

import numpy as np
import pytest

from keras_ae.anomaly import image_scores
from keras_ae.anomaly.one_class import ImageScorer
from keras_ae.anomaly.scores import LatentDensity, normalize_contrast
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
        one_line = np.concatenate([train[:1], train[:1]])  # k must stay below the training images
        scorer = ImageScorer(_Identity(), "pixel-knn", contrast="standardize", k=1, blur=blur, shift=0,
                             rotate=0.0).fit(one_line)
        near, far = scorer.score_samples(np.concatenate([shifted, other]))
        ratio[blur] = near / far
    assert ratio[0.0] > 0.9 and ratio[1.0] < 0.7  # unblurred, the shift costs as much as another shape


def test_the_scale_of_a_neighbour_score_leaves_each_training_image_out():
    x = np.random.default_rng(2).random((25, 8, 8, 1)).astype("float32")
    scorer = ImageScorer(_Identity(), "pixel-knn+pca", contrast="none", k=1, blur=0.0, shift=0, rotate=0.0).fit(x)
    reference = scorer.reference_["pixel-knn"]
    flat = x.reshape(len(x), -1).astype(np.float64)
    d = np.sqrt(((flat[:, None] - flat[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert np.allclose(reference, d.min(axis=1), rtol=1e-5)  # not 0: no image is its own neighbour
    assert np.allclose(scorer.reference_["pca"], scorer._part_scores(scorer._inputs(x))["pca"])


def _brute_force(reference, x, views, k, leave_out=False):
    """Mean distance of each row of x to its k nearest reference rows, each the smallest over the row's views."""
    d = np.min([np.sqrt(((view[:, None].astype(np.float64) - reference[None]) ** 2).sum(-1)) for view in views(x)],
               axis=0)
    if leave_out:
        np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, :k].mean(axis=1)


def test_an_image_shifted_or_rotated_a_little_is_near_its_original():
    from scipy.ndimage import rotate

    train = np.zeros((10, 16, 16, 1), "float32")
    for i, col in enumerate([3, 5, 7, 9, 11] * 2):
        train[i, 2:-2, col] = 1.0
    shifted = np.roll(train[:3], 1, axis=2)  # one column over, where no training line is
    turned = rotate(train[3:6], 10, axes=(1, 2), reshape=False, order=1, mode="nearest")
    plain = ImageScorer(_Identity(), "pixel-knn", contrast="none", k=1, blur=0.0, shift=0, rotate=0.0).fit(train)
    views = ImageScorer(_Identity(), "pixel-knn", contrast="none", k=1, blur=0.0).fit(train)
    assert np.allclose(views.score_samples(shifted), 0, atol=1e-5) and np.all(plain.score_samples(shifted) > 1)
    plain = ImageScorer(_Identity(), "pixel-knn", contrast="none", k=1, shift=0, rotate=0.0).fit(train)
    views = ImageScorer(_Identity(), "pixel-knn", contrast="none", k=1).fit(train)  # blurred: interpolation evens out
    assert np.all(views.score_samples(turned) < 0.5 * plain.score_samples(turned))
    other = np.transpose(train[:3], (0, 2, 1, 3))  # horizontal lines stay far: 10 degrees does not turn them
    assert np.all(views.score_samples(other) > 4 * views.score_samples(turned))


def test_views_take_the_smallest_distance_and_leave_every_view_of_an_image_out():
    from scipy.ndimage import rotate

    from keras_ae.anomaly.scores import image_views
    from keras_ae.neighbours import leave_one_out, nearest

    x = np.random.default_rng(8).random((30, 6, 7, 2)).astype("float32")
    flat = x.reshape(len(x), -1)
    views = image_views(x.shape[1:], shift=1, rotate=15.0)
    seen = views(flat)
    assert seen.shape == (27, 30, 84) and np.array_equal(seen[0], flat)
    unturned = seen[:9].reshape(9, *x.shape)
    right = [v for v in unturned if np.array_equal(v[:, :, 1:], x[:, :, :-1])]  # one column right, first kept
    assert len(right) == 1 and np.array_equal(right[0][:, :, 0], x[:, :, 0])
    assert any(np.array_equal(v[:, :-1, :-1], x[:, 1:, 1:]) for v in unturned)  # one up and left
    for angle in (15.0, -15.0):  # each turn is scipy's, per channel, unshifted at the head of its nine
        turned = rotate(x, angle, axes=(1, 2), reshape=False, order=1, mode="nearest").reshape(30, -1)
        assert sum(np.allclose(v, turned) for v in seen[9::9]) == 1
    assert len(image_views((6, 7), shift=2)(flat[:, :42])) == 25
    assert len(image_views((6, 7), shift=0, rotate=180.0)(flat[:, :42])) == 2  # -180 and +180 are one view
    queries = np.random.default_rng(9).random((11, 84)).astype("float32")
    for k in (1, 3, 30):  # argmin, partition and every reference row
        idx, dist = nearest(flat, queries, k, views=views, chunk=4)
        assert np.allclose(dist.mean(axis=1), _brute_force(flat, queries, views, k), rtol=1e-6)
        assert all(len(set(row)) == k for row in idx.tolist())  # k different training images
    assert np.allclose(leave_one_out(flat, 2, views=views).mean(axis=1),
                       _brute_force(flat, flat, views, 2, leave_out=True), rtol=1e-6)
    scorer = ImageScorer(_Identity(), "pixel-knn+pca", contrast="none", k=2, blur=0.0, rotate=15.0).fit(x)
    assert np.allclose(scorer.reference_["pixel-knn"], _brute_force(flat, flat, views, 2, leave_out=True), rtol=1e-5)


def test_the_run_options_reach_the_views():
    import dataclasses

    from keras_ae.runs.one_class import OneClassConfig

    options = image_scores.check_options("pixel-knn", dataclasses.asdict(OneClassConfig(shift=2, rotate=0.0)),
                                         (40, 28, 28, 1))
    assert (options["shift"], options["rotate"]) == (2, 0.0)
    x = np.random.default_rng(10).random((12, 28, 28, 1)).astype("float32")
    assert len(ImageScorer(_Identity(), "pixel-knn", **{**options, "k": 1}).fit(x).states_["pixel-knn"].views(
        x.reshape(12, -1))) == 25
    assert ImageScorer(_Identity(), "pixel-knn", k=1, shift=0, rotate=0.0).fit(x).states_["pixel-knn"].views is None


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
    assert image_scores.score_options("pixel-knn") == {"k": 5, "blur": 1.0, "shift": 1, "rotate": 10.0}
    with pytest.raises(UsageError, match=r"k=12 is more than the 10 normal training images"):
        image_scores.check_options("pixel-knn", {"k": 12}, 10)
    with pytest.raises(UsageError, match=r"k=10 is as many as the normal training images; at most 9"):
        image_scores.check_options("pixel-knn+pca", {"k": 10}, 10)
    assert image_scores.check_options("pixel-knn", {"k": 9}, 10)["k"] == 9
    with pytest.raises(ValueError, match=r"pixel-knn needs images \(n, height, width\[, channels\]\)"):
        ImageScorer(_Identity(), "pixel-knn", contrast="none", k=1).fit(np.zeros((4, 64), "float32"))


def test_rgb_images_are_blurred_per_channel():
    x = np.zeros((3, 9, 9, 3), "float32")
    x[:, 4, 4, 0] = 1.0  # a dot in the red channel only
    scorer = ImageScorer(_Identity(), "pixel-knn", contrast="none", k=1, blur=1.0).fit(x)
    reference = scorer.states_["pixel-knn"].reference.reshape(3, 9, 9, 3)
    assert reference[..., 1:].max() == 0 and reference[0, 4, 5, 0] > 0  # spread in space, never across channels


def test_digits_default_to_pixel_knn():
    from keras_ae.data.registry import DATASETS

    assert DATASETS["mnist-sample"].default_score == DATASETS["mnist"].default_score == "pixel-knn"
    assert DATASETS["pneumonia"].default_score == "texture"


def test_compare_scores_reads_validation_and_test_from_their_own_splits():
    from keras_ae.anomaly import roc_auc_standard_error
    from keras_ae.anomaly.one_class import OneClassSplits, compare_scores

    train = _lines(40, seed=4)
    normal, odd = _lines(10, seed=5), np.transpose(_lines(10, seed=6), (0, 2, 1, 3))  # horizontal lines: anomalies
    x_val, y_val = np.concatenate([normal, odd]), np.array([0] * 10 + [1] * 10)
    y_test = np.array([0] * 5 + [1] * 5 + [0] * 5 + [1] * 5)  # half the labels swapped: a test ROC-AUC near 0.5
    splits = OneClassSplits(train, x_val, y_val, x_val, y_test)
    rows = compare_scores(_Identity(), splits, ["pixel-knn", "pca"], k=1, pca_variance=0.5)
    assert [r["score"] for r in rows] == ["pixel-knn", "pca"]
    assert rows[0]["validation_roc_auc"] == 1.0 and rows[0]["test_roc_auc"] < 0.7
    assert rows[1]["validation_se"] == pytest.approx(roc_auc_standard_error(rows[1]["validation_roc_auc"], 10, 10))
    with pytest.raises(ValueError, match="unknown score 'nope'"):
        compare_scores(_Identity(), splits, ["nope"])
    with pytest.raises(ValueError, match="no candidate score takes the option 'blur'"):
        compare_scores(_Identity(), splits, ["pca"], blur=1.0)


def test_roc_auc_standard_error_matches_hanley_mcneil():
    from keras_ae.anomaly import roc_auc_standard_error

    assert roc_auc_standard_error(0.5, 10, 10) == pytest.approx(np.sqrt((0.25 + 18 / 12) / 100))
    # unequal classes: Q1 = A / (2 - A) goes with the anomalies, Q2 = 2 A^2 / (1 + A) with the normal examples
    a, q1, q2 = 0.9, 0.9 / 1.1, 2 * 0.81 / 1.9
    assert roc_auc_standard_error(a, 10, 30) == pytest.approx(
        np.sqrt((a * (1 - a) + 9 * (q1 - a * a) + 29 * (q2 - a * a)) / 300))
    assert roc_auc_standard_error(a, 10, 30) != pytest.approx(roc_auc_standard_error(a, 30, 10))
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
    same_size = [{"score": "latent+pca", "validation_roc_auc": 0.970, "validation_se": 0.01},
                 {"score": "latent+detail", "validation_roc_auc": 0.975, "validation_se": 0.01}]
    assert choose_score(same_size) == "latent+detail"  # as many parts: the better on validation
    with pytest.raises(ValueError, match="at least one"):
        choose_score([])


def test_options_a_score_does_not_use_are_named_unless_left_at_their_default():
    assert image_scores.unused_options("latent", {"blur": 2.0, "k": 5, "pca_variance": 0.9}) == {"blur": ["pixel-knn"]}
    assert image_scores.unused_options("latent+pixel-knn", {"blur": 2.0, "k": 3}) == {}
    assert image_scores.unused_options("mse", {"k": 7, "blur": None}) == {"k": ["latent-knn", "pixel-knn", "texture"]}
    with pytest.raises(UsageError, match=r"blur=15 is more than half the images' smaller side \(14 pixels\)") as err:
        image_scores.check_options("pixel-knn", {"blur": 15.0}, (10, 28, 40, 1))
    assert err.value.param == "blur"
    with pytest.raises(UsageError, match=r"shift=5 is half the images' smaller side or more \(5 pixels\)") as err:
        image_scores.check_options("pixel-knn", {"shift": 5}, (10, 10, 12, 1))
    assert err.value.param == "shift"
    assert image_scores.check_options("pixel-knn", {"shift": 4}, (10, 10, 12, 1))["shift"] == 4


def test_nearest_normal_is_the_training_image_the_score_measures_against():
    x = np.random.default_rng(3).random((30, 8, 8, 1)).astype("float32")
    scorer = ImageScorer(_Identity(), "pixel-knn", contrast="standardize", k=3).fit(x)
    queries = np.concatenate([x[[4, 11]], np.clip(x[[17]] + 0.01, 0, 1)])  # two copies, one near-copy
    nearest = scorer.nearest_normal(queries)
    prepared = normalize_contrast(x)
    assert nearest.shape == queries.shape
    assert np.allclose(nearest, prepared[[4, 11, 17]])  # as the autoencoder sees them (contrast-normalised)
    with pytest.raises(ValueError, match="no pixel-knn part"):
        ImageScorer(_Identity(), "pca").fit(x).nearest_normal(queries)
