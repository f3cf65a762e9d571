"""An amount far outside the range of the normal training rows is flagged, never scored as normal: taken as a
log, an amount of 1e8 would otherwise come out a few standard deviations from normal. Other columns are
standardised linearly (a value far out is as far out to the model) and keep no range: a range rule on every
column flagged 7.7% of ADBench InternetAds' normal test rows (a rare 1 in a column always 0 in training)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.fraud.preprocess import Preprocessor  # noqa: E402


def _fitted(time_mode="hour"):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"Time": np.arange(500.0) * 100, "V1": rng.normal(size=500), "flag": 0.0,
                          "Amount": rng.uniform(0, 1000, 500)})
    return Preprocessor(list(table.columns), time_mode=time_mode).fit(table), table


def test_the_amount_range_is_the_training_range_widened_by_its_width_not_across_zero():
    pre, table = _fitted()
    lo, hi = table["Amount"].min(), table["Amount"].max()
    rows = table.head(7).copy()
    rows["Amount"] = [lo, hi, hi + 0.99 * (hi - lo), hi + 1.01 * (hi - lo), -0.5, 5.0, 5.0]
    rows.loc[5, "flag"] = 1.0  # a column constant in training: scored by the model, in raw units
    rows.loc[6, "V1"] = 1e6  # linear: as far out to the model
    rows["Time"] = 1e12  # a later time is no reason: time runs on
    far = pre.far_outside(rows)
    assert far.shape == (7, len(pre.features))
    assert (far.max(axis=1) > 0).tolist() == [False, False, False, True, True, False, False]
    assert far[3, pre.features.index("log1p_Amount")] > 0 and far[:, pre.features.index("V1")].max() == 0
    plain = Preprocessor(list(table.columns), time_mode="hour", log_amount=False).fit(table)
    assert plain.range_columns == [] and plain.far_outside(rows).max() == 0


def test_ranges_travel_with_the_preprocessor_and_old_ones_score_without_them():
    pre, table = _fitted("keep")
    saved = json.loads(json.dumps(pre.to_dict()))
    assert saved["range_columns"] == ["Amount"]
    again = Preprocessor.from_dict(saved)
    rows = table.head(3).assign(Amount=1e8)
    np.testing.assert_array_equal(again.far_outside(rows), pre.far_outside(rows))
    for key in ("range_columns", "low", "high"):
        del saved[key]
    assert Preprocessor.from_dict(saved).far_outside(rows) is None


@pytest.mark.parametrize(("column", "value"), [("Amount", 1e8), ("Amount", -5000.0)])
def test_the_detector_flags_such_rows_and_names_the_column(column, value, detector, data):
    _, test = data
    rows = test.drop(columns="Class").head(50)
    fitted = detector
    assert fitted.predict(rows).mean() < 0.5
    changed = rows.assign(**{column: value})
    scored = fitted.scored(changed)
    from keras_ae.fraud.rows import FAR_SCORE

    assert scored.far.all() and (scored.score == FAR_SCORE).all() and fitted.predict(changed).all()
    from sklearn.metrics import roc_auc_score  # a finite score: scikit-learn's metrics take it

    assert roc_auc_score([0] * len(rows) + [1] * len(rows), np.r_[fitted.score_samples(rows), scored.score]) > 0.99
    assert all(top[0][0] == column for top in fitted.explain(changed, top=1))


def test_the_score_command_counts_such_rows(bundle, data, tmp_path, capsys):
    from keras_ae.cli.fraud import main as cli

    _, test = data
    rows = test.head(100).copy()
    rows.loc[[3, 70], "Amount"] = 1e9
    rows.to_csv(tmp_path / "new.csv", index=False)
    assert cli(["score", "--model", str(bundle), "--input", str(tmp_path / "new.csv"),
                "--out", str(tmp_path / "scored.csv")]) == 0
    assert "2 for an amount far outside the normal training amounts" in capsys.readouterr().out
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert scored.loc[[3, 70], "flag"].tolist() == [1, 1]
    assert scored.loc[[3, 70], "top_features"].str.startswith("Amount:1.00").all()
    code = cli(["evaluate", "--model", str(bundle), "--input", str(tmp_path / "new.csv")])
    assert code == 0 and "2 row(s) hold an amount far outside" in capsys.readouterr().out


def test_a_bundle_with_a_broken_range_is_refused(bundle):
    from keras_ae.errors import UsageError
    from keras_ae.fraud.bundle_checks import check_preprocessing

    meta = json.loads((bundle / "detector.json").read_text())
    pre = json.loads((bundle / "preprocessing.json").read_text())
    check_preprocessing(bundle, pre, meta)
    pre["low"][0], pre["high"][0] = 5.0, -5.0
    with pytest.raises(UsageError, match="'low' and 'high' must list"):
        check_preprocessing(bundle, pre, meta)
    pre["range_columns"] = pre["range_columns"][1:]
    with pytest.raises(UsageError, match="'range_columns' must list the amount column when it is taken as a log"):
        check_preprocessing(bundle, pre, meta)
    for key in ("low", "high", "range_columns"):  # removed, they let far amounts pass as normal
        pre = json.loads((bundle / "preprocessing.json").read_text())
        del pre[key]
        with pytest.raises(UsageError, match="'range_columns' must list|'low' and 'high' must list"):
            check_preprocessing(bundle, pre, meta)


@pytest.mark.parametrize("rule", ["quartile-gap", "alpha"])
def test_frauds_far_out_in_fit_leave_a_threshold_and_a_bundle_that_loads(rule, data, tmp_path):
    """Labelled frauds with a far amount scored +inf among the validation scores: quartile-gap's threshold was NaN
    (every row passed) and validation.npz held non-finite scores (the bundle never loaded). Thresholds are set on
    the model's own score; the range rule flags such rows whatever the threshold."""
    from keras_ae.fraud import FraudDetector

    train, test = data
    train = train.copy()
    train.loc[train["Class"] == 1, "Amount"] = 1e7
    fitted = FraudDetector(threshold_rule=rule, n_models=1, epochs=2, verbose=0, seed=0).fit(train)
    assert np.isfinite(fitted.threshold_) and np.isfinite(fitted.validation_scores_).all()
    rows = test.drop(columns="Class").head(20).assign(Amount=1e8)
    assert fitted.predict(rows).all()
    loaded = FraudDetector.load(fitted.save(tmp_path / "model"))
    assert loaded.predict(rows).all() and loaded.threshold_ == fitted.threshold_
