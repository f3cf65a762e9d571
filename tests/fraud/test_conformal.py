"""Conformal p-values and the "alpha" threshold rule: flags that keep their promise on new normal rows."""

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.anomaly.thresholds import conformal_p_values, smallest_alpha, threshold_alpha  # noqa: E402
from keras_ae.fraud.threshold import ThresholdWarning  # noqa: E402


def test_p_values_count_the_normal_scores_at_least_as_high_with_the_plus_one():
    normal = np.array([1.0, 2.0, 2.0, 3.0])
    p = conformal_p_values([0.5, 2.0, 2.5, 3.0, 9.0], normal)
    np.testing.assert_allclose(p, [5 / 5, 4 / 5, 2 / 5, 2 / 5, 1 / 5])


@pytest.mark.parametrize("n", [19, 99, 500])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_the_alpha_threshold_flags_exactly_the_rows_with_p_at_most_alpha(n, alpha):
    rng = np.random.default_rng(n)
    normal, new = rng.normal(size=n), rng.normal(size=2000) * 1.3
    t = threshold_alpha(normal, alpha)
    p = conformal_p_values(new, normal)
    if alpha >= smallest_alpha(n):
        np.testing.assert_array_equal(new > t, p <= alpha)
    else:  # too few rows: the highest normal score, the level kept is 1/(n+1)
        assert t == normal.max() and not (p <= alpha).any()


def test_the_false_positive_rate_on_new_normal_rows_is_at_most_alpha_in_expectation():
    """Exchangeable normal rows: over many draws the mean false-positive rate stays at or below alpha."""
    rng = np.random.default_rng(0)
    alpha, n = 0.05, 59  # alpha (n+1) = 3: the threshold is the third highest held-out score
    rates = []
    for _ in range(400):
        held_out, new = rng.standard_t(3, size=n), rng.standard_t(3, size=500)
        rates.append(np.mean(new > threshold_alpha(held_out, alpha)))
    assert np.mean(rates) <= alpha + 0.005
    assert np.mean(rates) >= alpha * 0.8  # not needlessly conservative either


def test_one_fits_false_positive_rate_spreads_as_the_beta_law_says():
    from keras_ae.anomaly.thresholds import rate_range, rows_for_factor, within_factor

    rng, n, alpha = np.random.default_rng(1), 300, 0.05
    low, high = rate_range(n, alpha, share=0.9)
    rates = []
    for _ in range(2000):  # uniform scores: a new normal row's rate of exceeding the threshold is exact
        rates.append(1.0 - np.sort(rng.random(n))[::-1][int(np.floor(alpha * (n + 1))) - 1])
    rates = np.asarray(rates)
    assert 0.87 <= np.mean((rates >= low) & (rates <= high)) <= 0.93
    assert abs(np.mean((rates >= alpha / 2) & (rates <= 2 * alpha)) - within_factor(n, alpha)) < 0.03
    need = rows_for_factor(0.005)
    assert within_factor(need, 0.005) >= 0.9 > within_factor(need // 2, 0.005)
    assert within_factor(100, 0.005) == 0.0  # alpha below 1/(n+1): no threshold keeps it


def test_too_few_held_out_rows_for_a_steady_rate_warn(detector):
    n = int((detector.validation_labels_ == 0).sum())
    alpha = 2.0 / (n + 1)  # promisable on average, but the rate of one fit spreads far beyond a factor of 2
    before = (detector.threshold_rule, detector.threshold_value)
    try:
        with pytest.warns(ThresholdWarning, match=r"holds on average.*within a factor of 2"):
            detector.set_threshold("alpha", alpha)
        info = detector.threshold_info()
        assert info["promised_level"] == pytest.approx(alpha) and "90% of fits" in info["warning"]
    finally:
        detector.set_threshold(*before)


def test_the_detector_gives_p_values_and_the_alpha_rule(detector, data):
    _, new = data
    rows = new.drop(columns="Class")
    p = detector.p_values(rows)
    assert p.shape == (len(rows),) and (p > 0).all() and (p <= 1).all()
    normal = detector.validation_scores_[detector.validation_labels_ == 0]
    assert p.min() >= 1 / (len(normal) + 1)
    scores = detector.score_samples(rows)
    assert np.all(np.diff(p[np.argsort(scores)]) <= 1e-12)  # higher score, smaller (or equal) p-value
    before = (detector.threshold_rule, detector.threshold_value)
    try:
        detector.set_threshold("alpha", 0.05)
        np.testing.assert_array_equal(detector.predict(rows), (p <= 0.05).astype(int))
        info = detector.threshold_info()
        assert info["promised_level"] == 0.05 and info["warning"] is None
    finally:
        detector.set_threshold(*before)


def test_an_alpha_below_what_the_held_out_rows_can_promise_warns_and_is_recorded(detector, tmp_path):
    from keras_ae.fraud import FraudDetector

    n = int((detector.validation_labels_ == 0).sum())
    before = (detector.threshold_rule, detector.threshold_value)
    try:
        with pytest.warns(ThresholdWarning, match=r"smallest level"):
            detector.set_threshold("alpha", 0.1 / (n + 1))
        info = detector.threshold_info()
        assert info["promised_level"] == pytest.approx(1 / (n + 1)) and "1/(n+1)" in info["warning"]
        with warnings.catch_warnings():
            warnings.simplefilter("error", ThresholdWarning)  # loading does not repeat what fit said
            loaded = FraudDetector.load(detector.save(tmp_path / "m"))
        saved = loaded.metadata_["threshold"]
        assert saved["promised_level"] == pytest.approx(1 / (n + 1)) and saved["warning"]
    finally:
        detector.set_threshold(*before)


def test_fit_says_so_on_the_command_line(data, tmp_path, capsys):
    from keras_ae.cli.fraud import cli

    train, _ = data
    train.head(800).to_csv(tmp_path / "t.csv", index=False)
    code = cli(["fit", "--input", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"), "--epochs", "2",
                "--n-models", "1", "--verbose", "0", "--threshold-rule", "alpha", "--threshold-value", "0.0001"])
    err = capsys.readouterr().err
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and "smallest level" in lines[0] and "Traceback" not in err


def test_the_score_output_has_a_p_value_column(bundle, data, tmp_path):
    from keras_ae.cli.fraud import cli
    from keras_ae.fraud import FraudDetector

    _, new = data
    new.head(300).to_csv(tmp_path / "n.csv", index=False)
    for out in ("s.csv", "s.parquet"):
        assert cli(["score", "--model", str(bundle), "--input", str(tmp_path / "n.csv"), "--out",
                    str(tmp_path / out), "--quiet"]) == 0
        frame = pd.read_csv(tmp_path / out) if out.endswith(".csv") else pd.read_parquet(tmp_path / out)
        expected = FraudDetector.load(bundle).p_values(new.head(300).drop(columns="Class"))
        np.testing.assert_allclose(frame["p_value"].to_numpy(), expected, rtol=1e-12)
