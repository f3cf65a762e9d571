"""A value far outside the range of the normal training rows is flagged, never scored as normal: a log-scaled
amount of 1e8 or a never-seen value of a column that was constant in training would otherwise come out close to
the normal rows (the model extrapolates there)."""

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


def test_the_range_is_the_training_range_widened_by_its_width_not_across_zero():
    pre, table = _fitted()
    lo, hi = table["V1"].min(), table["V1"].max()
    width = hi - lo
    rows = table.head(8).copy()
    rows["V1"] = [lo, hi, lo - 0.99 * width, hi + 0.99 * width, lo - 1.01 * width, 0.0, 0.0, 0.0]
    rows["Amount"] = [0.0, 10.0, 1990.0, 5.0, 5.0, 2010.0, -0.5, 5.0]
    rows.loc[7, "flag"] = 1.0
    rows["Time"] = 1e12  # a later time is no reason: time runs on
    far = pre.far_outside(rows)
    assert far.shape == (8, len(pre.features))
    out = far.max(axis=1) > 0
    assert out.tolist() == [False, False, False, False, True, True, True, True]
    features = pre.features
    assert far[4, features.index("V1")] > 0 and far[5, features.index("log1p_Amount")] > 0
    assert far[7, features.index("flag")] > 0 and far[:, features.index("Time_hour_sin")].max() == 0


def test_ranges_travel_with_the_preprocessor_and_old_ones_score_without_them():
    pre, table = _fitted("keep")
    saved = json.loads(json.dumps(pre.to_dict()))
    assert saved["range_columns"] == ["V1", "flag", "Amount"]
    again = Preprocessor.from_dict(saved)
    rows = table.head(3).assign(Amount=1e8)
    np.testing.assert_array_equal(again.far_outside(rows), pre.far_outside(rows))
    for key in ("range_columns", "low", "high"):
        del saved[key]
    assert Preprocessor.from_dict(saved).far_outside(rows) is None


@pytest.mark.parametrize(("column", "value"), [("Amount", 1e8), ("Amount", -5000.0), ("foreign", 1.0)])
def test_the_detector_flags_such_rows_and_names_the_column(column, value, detector, data):
    from keras_ae.fraud import FraudDetector

    train, test = data
    rows = test.drop(columns="Class").head(50)
    if column == "foreign":  # a column that was 0 on every training row
        fitted = FraudDetector(time_mode="hour", seed=0, n_models=1, epochs=3, verbose=0).fit(train.assign(foreign=0.0))
        rows = rows.assign(foreign=0.0)
    else:
        fitted = detector
    assert fitted.predict(rows).mean() < 0.5
    changed = rows.assign(**{column: value})
    scored = fitted.scored(changed)
    assert scored.far.all() and np.isposinf(scored.score).all() and fitted.predict(changed).all()
    assert all(top[0][0] == column for top in fitted.explain(changed, top=1))


def test_the_score_command_counts_such_rows(bundle, data, tmp_path, capsys):
    from keras_ae.cli.fraud import main as cli

    _, test = data
    rows = test.head(100).copy()
    rows.loc[[3, 70], "Amount"] = 1e9
    rows.to_csv(tmp_path / "new.csv", index=False)
    assert cli(["score", "--model", str(bundle), "--input", str(tmp_path / "new.csv"),
                "--out", str(tmp_path / "scored.csv")]) == 0
    assert "2 for a value far outside the normal training rows' range" in capsys.readouterr().out
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert scored.loc[[3, 70], "flag"].tolist() == [1, 1]
    assert scored.loc[[3, 70], "top_features"].str.startswith("Amount:1.00").all()
    code = cli(["evaluate", "--model", str(bundle), "--input", str(tmp_path / "new.csv")])
    assert code == 0 and "2 row(s) hold a value far outside" in capsys.readouterr().out


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
    with pytest.raises(UsageError, match="'range_columns' must list every column but the time column"):
        check_preprocessing(bundle, pre, meta)
