"""keras_ae.anomaly.thresholds: threshold rules on hand-made arrays; the O(n log n) search against brute force."""

import numpy as np
import pytest

from keras_ae import anomaly
from keras_ae.anomaly import thresholds

SCORES = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])


LABELS = np.array([0, 0, 0, 1, 0, 1, 1, 1])


def brute_force(scores, labels, objective):
    s = np.unique(scores)
    cands = np.concatenate([[np.nextafter(s[0], -np.inf)], (s[:-1] + s[1:]) / 2, [np.nextafter(s[-1], np.inf)]])
    best, best_t = -np.inf, None
    for t in cands:
        pred = scores > t
        tp, fp = np.sum(pred & (labels == 1)), np.sum(pred & (labels == 0))
        fn, tn = np.sum(~pred & (labels == 1)), np.sum(~pred & (labels == 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = objective(tp, fp, fn, tn)
        if value > best:
            best, best_t = value, t
    return best_t, best


def test_labelled_threshold_rules():
    # Flag above 3.5: one false positive (5) -> accuracy 7/8, F1 8/9, J = 1 - 1/4; above 5.5: one miss (4).
    assert anomaly.threshold_max_accuracy(SCORES, LABELS) == pytest.approx(3.5)
    assert anomaly.threshold_max_f1(SCORES, LABELS) == pytest.approx(3.5)
    assert anomaly.threshold_youden(SCORES, LABELS) == pytest.approx(3.5)
    separable = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert anomaly.threshold_max_accuracy(separable, [0, 0, 0, 1, 1]) == pytest.approx(0.55)


def test_unlabelled_threshold_rules():
    normal = np.arange(101, dtype=float)
    assert anomaly.threshold_percentile(normal, 90) == pytest.approx(90.0)
    assert anomaly.choose_threshold("percentile", SCORES, LABELS, value=50) == pytest.approx(2.5)
    # 10 of 100 normals may lie above the threshold
    assert (normal > anomaly.threshold_fpr(normal, 0.1)).sum() == 10


def test_labelled_rule_needs_both_classes():
    with pytest.raises(ValueError, match="one class"):
        anomaly.threshold_max_f1([1.0, 2.0], [0, 0])


@pytest.mark.parametrize("seed", range(5))
def test_fast_search_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=300) * 3) / 3  # many ties
    labels = (rng.random(300) < 0.3).astype(int)
    scores[labels == 1] += 0.5
    for fast, objective in [
        (thresholds.threshold_max_accuracy, lambda tp, fp, fn, tn: (tp + tn) / 300),
        (thresholds.threshold_max_f1, lambda tp, fp, fn, tn: 2 * tp / max(2 * tp + fp + fn, 1)),
        (thresholds.threshold_youden, lambda tp, fp, fn, tn: tp / (tp + fn) - fp / (fp + tn)),
    ]:
        t_fast = fast(scores, labels)
        t_slow, best = brute_force(scores, labels, objective)
        pred = scores > t_fast
        tp, fp = np.sum(pred & (labels == 1)), np.sum(pred & (labels == 0))
        fn, tn = np.sum(~pred & (labels == 1)), np.sum(~pred & (labels == 0))
        assert objective(tp, fp, fn, tn) == pytest.approx(best)
        assert t_fast == pytest.approx(t_slow)


def test_confusion_counts_flag_exactly_the_scores_above_each_threshold():
    scores = np.array([5.0, 1.0, 3.0, 3.0, 2.0, np.nextafter(2.0, 3.0)])
    labels = np.array([1, 0, 1, 0, 0, 1])
    ts, tp, fp, fn, tn = thresholds.confusion_counts(scores, labels)
    assert np.all(np.diff(ts) > 0)
    for t, a, b, c, d in zip(ts, tp, fp, fn, tn, strict=True):
        pred = scores > t
        assert (a, b, c, d) == (np.sum(pred & (labels == 1)), np.sum(pred & (labels == 0)),
                                np.sum(~pred & (labels == 1)), np.sum(~pred & (labels == 0)))


def test_rules_check_their_value_and_name_it():
    with pytest.raises(ValueError, match="threshold_value=150"):
        thresholds.check_rule("percentile", 150)
    with pytest.raises(ValueError, match="needs a value"):
        thresholds.check_rule("value")
    with pytest.raises(ValueError, match="finite threshold_value"):
        thresholds.check_rule("value", float("nan"))
    with pytest.raises(ValueError, match="unknown threshold rule 'median'"):
        thresholds.choose_threshold("median", np.ones(3))


def test_quartile_gap_sits_between_the_bulk_of_each_class():
    from keras_ae.anomaly import choose_threshold, threshold_quartile_gap

    normal = np.arange(0.0, 101.0)  # upper quartile 75
    anomalous = np.arange(200.0, 301.0)  # lower quartile 225
    scores = np.concatenate([normal, anomalous])
    labels = np.r_[np.zeros(101), np.ones(101)]
    assert threshold_quartile_gap(scores, labels) == 150.0
    assert choose_threshold("quartile-gap", scores, labels) == 150.0
    # one far outlier among the normals moves the best-accuracy threshold, not the quartile gap
    outlier = np.concatenate([scores, [10_000.0]])
    assert threshold_quartile_gap(outlier, np.r_[labels, 0]) == pytest.approx(150.5, abs=0.6)
    with pytest.raises(ValueError, match="normal and anomalous"):
        threshold_quartile_gap(normal, np.zeros(101))


def test_a_value_for_a_rule_that_takes_none_is_refused():
    from keras_ae.anomaly import thresholds

    with pytest.raises(ValueError, match="threshold rule 'f1' takes no value, received threshold_value=3"):
        thresholds.check_rule("f1", 3)
    assert thresholds.check_rule("f1", None).labelled


@pytest.mark.parametrize("threshold", [1e308, -1e308])
def test_a_threshold_far_beyond_the_scores_is_drawn_at_the_chart_edge_without_overflow(threshold, tmp_path):
    """A value rule's threshold of 1e308 stretched the axis until matplotlib's transforms overflowed (warnings)."""
    import warnings

    from keras_ae.anomaly.figures import score_histograms

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = score_histograms([("validation", rng.random(50), np.arange(50) % 2, threshold)],
                                tmp_path / "h.png", rule="value")
    assert (tmp_path / "h.png").stat().st_size > 0 and str(path).endswith("h.png")
    from keras_ae.fraud.figures import error_histogram

    with warnings.catch_warnings():  # the fraud detector's histogram (a symmetric log axis) too
        warnings.simplefilter("error")
        error_histogram(rng.gamma(2, 1, 200), np.arange(200) % 2, threshold, tmp_path / "f.png")
