"""keras_ae.neighbours and keras_ae.fraud.combined: exact neighbours, leave-one-out validation, one robust scale,
and what the distance part sees that reconstruction misses."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from keras_ae import neighbours  # noqa: E402
from keras_ae.anomaly.scores import robust_scale  # noqa: E402
from keras_ae.fraud import FraudDetector  # noqa: E402

FAST = {"n_models": 2, "epochs": 15, "patience": 4, "batch_size": 64, "verbose": 0}


def test_nearest_matches_scikit_learn_and_leaves_self_out():
    rng = np.random.default_rng(0)
    ref, x = rng.normal(size=(700, 6)), rng.normal(size=(300, 6))
    idx, dist = neighbours.nearest(ref, x, 3, chunk=128)
    want_dist, want_idx = NearestNeighbors(n_neighbors=3).fit(ref).kneighbors(x)
    np.testing.assert_allclose(dist, want_dist, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(idx, want_idx)
    # Rows that are in the reference: their own row is skipped (leave-one-out), others are not.
    own = np.full(300, -1)
    own[:100] = np.arange(100)
    _, loo = neighbours.nearest(ref, ref[:100], 2, self_index=own[:100])
    want = NearestNeighbors(n_neighbors=3).fit(ref).kneighbors(ref[:100])[0][:, 1:]
    np.testing.assert_allclose(loo, want, rtol=1e-4, atol=1e-4)
    parts = neighbours.feature_parts(ref, x, idx)
    np.testing.assert_allclose(parts.sum(axis=1), (dist ** 2).mean(axis=1), rtol=1e-4)


def test_robust_scale_falls_back_when_most_rows_repeat():
    assert robust_scale(np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == (3.0, 2.0)
    median, spread = robust_scale(np.r_[np.zeros(90), np.ones(10)])  # IQR 0: mean absolute deviation
    assert median == 0.0 and spread == pytest.approx(0.1)
    assert robust_scale(np.zeros(10)) == (0.0, 1.0)


@pytest.fixture(scope="module")
def line():
    """Normal rows along a line in 4-D (t, t, t, t) + noise, t in [-1, 1]."""
    rng = np.random.default_rng(1)
    t = rng.uniform(-1, 1, size=(1500, 1))
    frame = pd.DataFrame(t * np.ones((1, 4)) + 0.05 * rng.normal(size=(1500, 4)), columns=list("abcd"))
    return frame, FraudDetector(**FAST).fit(frame)


def test_validation_rows_are_scored_leave_one_out_so_thresholds_carry_over(line):
    frame, det = line
    rng = np.random.default_rng(2)
    t = rng.uniform(-1, 1, size=(4000, 1))
    fresh = pd.DataFrame(t * np.ones((1, 4)) + 0.05 * rng.normal(size=(4000, 4)), columns=list("abcd"))
    det.set_threshold("percentile", 95)
    measured = det.predict(fresh).mean()
    assert 0.025 <= measured <= 0.10  # nominal 0.05; with in-sample distances (0 to itself) it would be ~0.5
    assert det.scoring_.reference.shape == (1500, 4)  # every normal row, validation rows included
    assert abs(np.median(det.score_samples(fresh))) < 0.3  # 0 = a typical normal row


def test_distance_part_sees_rows_along_the_normal_line_beyond_its_ends(line):
    """A row on the normal line but far past its end is reconstructed well enough; its distance gives it away."""
    _, det = line
    far = pd.DataFrame([[3.0, 3.0, 3.0, 3.0]], columns=list("abcd"))
    scored = det.scored(far)
    z = {name: (scored.parts[name][0] - det.scoring_.stats[name][0]) / det.scoring_.stats[name][1]
         for name in ("ae", "knn")}
    assert z["knn"] > 50 and z["knn"] > z["ae"]
    det.set_threshold("percentile", 99.5)
    assert det.predict(far)[0] == 1


def test_method_and_weights_change_the_score_as_documented(line):
    frame, det = line
    rows = frame.head(50)
    only_ae = FraudDetector(**{**FAST, "method": "ae"}).fit(frame)
    assert only_ae.scoring_.reference is None
    ae_stats = only_ae.scoring_.stats["ae"]
    np.testing.assert_allclose(only_ae.score_samples(rows),
                               (only_ae.reconstruction_errors(rows) - ae_stats[0]) / ae_stats[1], rtol=1e-9)
    parts, stats, w = det.scored(rows).parts, det.scoring_.stats, det.ae_weight
    z = {name: (parts[name] - stats[name][0]) / stats[name][1] for name in ("ae", "knn")}
    np.testing.assert_allclose(det.score_samples(rows), (w * z["ae"] + z["knn"]) / (w + 1), rtol=1e-9)
    with pytest.raises(ValueError, match="method must be one of .*, received 'lof'"):
        FraudDetector(method="lof").fit(frame)


def test_reference_is_a_sample_when_the_table_is_larger():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(600, 3)), columns=list("xyz"))
    det = FraudDetector(**{**FAST, "epochs": 2, "max_reference": 200}).fit(frame)
    assert det.scoring_.reference.shape == (200, 3)
    assert np.isfinite(det.validation_scores_).all()


def test_each_feature_error_is_in_units_of_its_mean_on_the_normal_training_rows(detector, data):
    """Per-feature normalisation: a feature the autoencoders reconstruct well counts as much as one they do not.
    The scales come from the training rows, never from the held-out rows that calibrate the p-values."""
    train, _ = data
    normal = train[train["Class"] == 0].drop(columns="Class").reset_index(drop=True)
    scales = np.asarray(detector.scoring_.feature_scales)
    assert scales.shape == (len(detector.features_),) and (scales > 0).all()
    kept, held_out = detector.split_rows(len(normal))
    np.testing.assert_allclose(detector.feature_errors(normal.iloc[kept]).mean(axis=0), 1.0, rtol=1e-5)
    assert not np.allclose(detector.feature_errors(normal.iloc[held_out]).mean(axis=0), 1.0, rtol=1e-3)
    assert scales.max() / scales.min() > 2  # the raw errors do differ by feature: the scaling changes the score
