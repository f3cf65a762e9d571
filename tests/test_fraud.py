"""Fraud detector: synthetic data, FraudDetector behaviour, bundles, chunked scoring, bad-input handling."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from keras_ae import anomaly  # noqa: E402
from keras_ae.cli.fraud import cli  # noqa: E402
from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import FraudDetector, synthetic_transactions  # noqa: E402
from keras_ae.fraud.schema import KAGGLE_COLUMNS  # noqa: E402
from keras_ae.fraud.scoring import count_rows, score_csv  # noqa: E402

FAST = {"n_models": 2, "epochs": 12, "patience": 4, "batch_size": 128}


@pytest.fixture(scope="module")
def data():
    return synthetic_transactions(3000, fraud_rate=0.01, seed=0), synthetic_transactions(
        1500, fraud_rate=0.02, seed=1
    )


@pytest.fixture(scope="module")
def detector(data):
    train, _ = data
    return FraudDetector(time_mode="hour", seed=0, **FAST).fit(train)


@pytest.fixture(scope="module")
def bundle(detector, tmp_path_factory):
    return detector.save(tmp_path_factory.mktemp("bundle") / "model")


# ------------------------------------------------------------------------------------------ synthetic
def test_synthetic_transactions_has_the_kaggle_schema_and_structure():
    df = synthetic_transactions(20_000, seed=3)
    assert list(df.columns) == KAGGLE_COLUMNS
    assert len(df) == 20_000 and int(df["Class"].sum()) == round(20_000 * 0.00172)
    assert df["Time"].is_monotonic_increasing and df["Amount"].min() >= 0
    assert df["Amount"].mean() > 1.5 * df["Amount"].median()  # right-skewed amounts
    corr = np.corrcoef(df[[f"V{i}" for i in range(1, 29)]].to_numpy().T)
    assert np.abs(corr[np.triu_indices(28, 1)]).max() > 0.3  # correlated V-features
    fraud = df[df["Class"] == 1]
    assert fraud["V14"].mean() < df["V14"].mean() - 2 * df["V14"].std() / 2
    pd.testing.assert_frame_equal(df, synthetic_transactions(20_000, seed=3))
    assert not synthetic_transactions(500, seed=4).equals(df.head(500))


# ------------------------------------------------------------------------------------------- detector
def test_fit_learns_on_normal_rows_and_separates_frauds(detector, data):
    train, test = data
    n_normal = int((train["Class"] == 0).sum())
    assert detector.columns_ == KAGGLE_COLUMNS[:-1]
    assert detector.n_train_rows_ + detector.n_validation_rows_ == n_normal
    assert detector.n_fraud_rows_ == int(train["Class"].sum())
    assert (
        detector.features_[:2] == ["Time_hour_sin", "Time_hour_cos"] and "log1p_Amount" in detector.features_
    )
    scores = detector.score_samples(test)
    assert scores.shape == (len(test),) and (scores >= 0).all()
    assert roc_auc_score(test["Class"], scores) > 0.9
    np.testing.assert_array_equal(detector.predict(test), (scores > detector.threshold_).astype(int))
    np.testing.assert_allclose(detector.decision_function(test), scores - detector.threshold_)


def test_scaler_is_learned_on_normal_training_rows(detector, data):
    train, _ = data
    normal = train[train["Class"] == 0]
    z = detector.scaler_.transform(detector.preprocessor_._raw(normal))
    assert np.abs(z.mean(axis=0)).max() < 0.2 and np.abs(z.std(axis=0) - 1).max() < 0.2
    amount = detector.features_.index("log1p_Amount")
    assert detector.scaler_.mean_[amount] == pytest.approx(np.log1p(normal["Amount"]).mean(), rel=0.05)


def test_threshold_rules_follow_the_stored_validation_errors(detector, data):
    _, test = data
    normal_val = detector.validation_scores_[detector.validation_labels_ == 0]
    det = FraudDetector(**detector.get_params())
    det.__dict__.update({k: v for k, v in detector.__dict__.items() if k.endswith("_")})
    assert det.threshold_ == pytest.approx(np.percentile(normal_val, 99.5))
    weights = [w.copy() for w in det.models_[0].get_weights()]
    det.set_threshold("fpr", 0.05)
    assert np.mean(normal_val > det.threshold_) <= 0.05
    det.set_threshold("f1")
    assert det.threshold_ == pytest.approx(
        anomaly.threshold_max_f1(det.validation_scores_, det.validation_labels_)
    )
    det.set_threshold("value", 1e9)
    assert det.predict(test).sum() == 0  # predict follows the new rule at once
    det.threshold_rule, det.threshold_value = "value", -1.0  # a parameter change alone does not refit
    assert det.predict(test).sum() == 0
    det.set_threshold("value", -1.0)
    assert det.predict(test).sum() == len(test)
    np.testing.assert_array_equal(weights[0], det.models_[0].get_weights()[0])  # no retraining
    with pytest.raises(ValueError, match="percentile"):
        det.set_threshold("percentile", 150)


def test_numpy_input_unlabelled_f1_rule_and_not_fitted():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 2))
    x = np.column_stack([z, z @ [[1.0, -1.0, 1.0], [0.5, 2.0, -1.0]]]) + rng.normal(size=(600, 5)) * 0.05
    with pytest.raises(NotFittedError):
        FraudDetector().predict(x)
    det = FraudDetector(n_models=1, epochs=40, patience=5).fit(x)
    assert det.columns_ == ["x0", "x1", "x2", "x3", "x4"]
    odd = x[:50].copy()
    odd[:, 2] += 6.0  # breaks the x2 = x0 + 0.5 x1 relation
    assert roc_auc_score(np.r_[np.zeros(50), np.ones(50)], det.score_samples(np.r_[x[:50], odd])) > 0.95
    assert {name for row in det.explain(odd, top=1) for name, _ in row} <= {"x0", "x1", "x2"}
    with pytest.raises(UsageError, match="'f1' needs labelled frauds"):
        FraudDetector(threshold_rule="f1", **FAST).fit(x)


def test_explain_names_the_column_that_breaks_the_pattern(detector, data):
    _, test = data
    rows = test[test["Class"] == 0].head(20).copy()
    rows["V3"] += 25 * test["V3"].std()
    explained = detector.explain(rows, top=3)
    assert all(row[0][0] == "V3" for row in explained)
    assert all(len(row) == 3 and 0 <= sum(s for _, s in row) <= 1 + 1e-9 for row in explained)


def test_trim_drops_the_highest_error_training_rows(data):
    train, test = data
    unlabelled = train.drop(columns=["Class"])
    det = FraudDetector(trim_fraction=0.02, **FAST).fit(unlabelled)
    n_fit = len(unlabelled) - det.n_validation_rows_
    assert det.trimmed_rows_ == pytest.approx(0.02 * n_fit, abs=2)
    assert det.n_train_rows_ == n_fit - det.trimmed_rows_
    assert roc_auc_score(test["Class"], det.score_samples(test)) > 0.9


def test_bundle_round_trip_and_column_mismatch(detector, bundle, data):
    _, test = data
    loaded = FraudDetector.load(bundle)
    np.testing.assert_allclose(loaded.score_samples(test), detector.score_samples(test), rtol=1e-5)
    assert loaded.threshold_ == pytest.approx(detector.threshold_)
    assert loaded.columns_ == detector.columns_ and loaded.time_mode == "hour"
    assert loaded.metadata_["versions"]["keras"] and loaded.metadata_["training"]["normal_rows"] > 0
    with pytest.raises(UsageError, match="made for other columns.*'Time'"):
        FraudDetector.load(bundle, columns=["a", "b", "Class"])
    with pytest.raises(UsageError, match="new.csv, column 'V2': missing"):
        FraudDetector.load(bundle, columns=[c for c in test.columns if c != "V2"], source="new.csv")
    with pytest.raises(UsageError, match="missing"):
        loaded.score_samples(test.drop(columns=["V7"]))


# ------------------------------------------------------------------------------------ chunked scoring
def test_score_csv_in_chunks_matches_in_memory_scores(detector, data, tmp_path):
    _, test = data
    src, out = tmp_path / "new.csv", tmp_path / "scored.csv"
    test.to_csv(src, index=False)
    assert count_rows(src) == len(test)
    summary = score_csv(detector, src, out, chunksize=400, progress=False)
    scored = pd.read_csv(out)
    assert summary["rows"] == len(scored) == len(test)
    assert list(scored.columns) == [*test.columns, "reconstruction_error", "flag", "top_features"]
    np.testing.assert_allclose(scored["reconstruction_error"], detector.score_samples(test), rtol=1e-5)
    np.testing.assert_array_equal(scored["flag"], detector.predict(test))
    first = [name for name, _ in detector.explain(test.head(5))[0]]
    assert scored["top_features"][0].split()[0].split(":")[0] == first[0]
    assert summary["flagged"] == int(scored["flag"].sum())
    src_lines, out_lines = src.read_text().splitlines(), out.read_text().splitlines()
    assert all(o.startswith(s + ",") for s, o in zip(src_lines[:50], out_lines[:50], strict=True))  # verbatim


def test_cli_score_and_evaluate(bundle, data, tmp_path, capsys):
    _, test = data
    src, out = tmp_path / "new.csv", tmp_path / "scored.csv"
    test.to_csv(src, index=False)
    assert (
        cli(
            [
                "score",
                "--model",
                str(bundle),
                "--csv",
                str(src),
                "--out",
                str(out),
                "--quiet",
                "--threshold-rule",
                "fpr",
                "--threshold-value",
                "0.01",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out)) == len(test)
    assert (
        cli(
            [
                "evaluate",
                "--model",
                str(bundle),
                "--csv",
                str(src),
                "--quiet",
                "--out",
                str(tmp_path / "m.json"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "ROC-AUC" in printed and "confusion matrix" in printed and "(fpr 0.01)" in printed


def test_cli_fit_writes_bundle_metrics_and_pictures(tmp_path, capsys):
    src = tmp_path / "train.csv"
    df = synthetic_transactions(2500, fraud_rate=0.01, seed=5)
    df.insert(0, "id", range(len(df)))
    df.rename(columns={"Class": "is_fraud"}).to_csv(src, index=False)
    out = tmp_path / "model"
    assert (
        cli(
            [
                "fit",
                "--csv",
                str(src),
                "--out",
                str(out),
                "--label-column",
                "is_fraud",
                "--drop",
                "id",
                "--epochs",
                "4",
                "--n-models",
                "1",
                "--threshold-rule",
                "f1",
            ]
        )
        == 0
    )
    for name in (
        "detector.json",
        "member_0.keras",
        "metrics.json",
        "error_histogram.png",
        "roc.png",
        "precision_recall.png",
    ):
        assert (out / name).is_file(), name
    printed = capsys.readouterr().out
    assert "ROC-AUC" in printed and "(f1)" in printed
    det = FraudDetector.load(out)
    assert "id" not in det.columns_ and det.label_column == "is_fraud" and det.threshold_rule == "f1"
    scored = tmp_path / "scored.csv"  # the ignored id column is passed through
    assert cli(["score", "--model", str(out), "--csv", str(src), "--out", str(scored), "--quiet"]) == 0
    result = pd.read_csv(scored)
    assert list(result["id"]) == list(range(len(df))) and result.columns[-1] == "top_features"


# ----------------------------------------------------------------------------------------- bad input
def _csv(tmp_path, frame, name="bad.csv", **kwargs):
    path = tmp_path / name
    frame.to_csv(path, index=False, **kwargs)
    return path


def _bad(tmp_path, data, case):
    """(path, fragments the message must hold) for each kind of bad input."""
    _, test = data
    df = test.head(300).copy()
    if case == "missing file":
        return tmp_path / "nope.csv", ["nope.csv", "no such file"]
    if case == "empty file":
        (tmp_path / "empty.csv").write_text("")
        return tmp_path / "empty.csv", ["empty"]
    if case == "header only":
        return _csv(tmp_path, df.head(0)), ["no data rows"]
    if case == "missing column":
        return _csv(tmp_path, df.drop(columns=["V7"])), ["'V7'"]
    if case == "extra column":
        return _csv(tmp_path, df.assign(comment=1.0)), ["'comment'", "unexpected"]
    if case == "non-numeric cell":
        df = df.astype({"V3": object})
        df.loc[249, "V3"] = "abc"  # row 250 of the file: in the third chunk of 100
        return _csv(tmp_path, df), ["row 250", "'V3'", "'abc'"]
    if case == "NaN":
        df.loc[120, "Amount"] = np.nan
        return _csv(tmp_path, df), ["row 121", "'Amount'", "NaN"]
    if case == "inf":
        df.loc[5, "V1"] = np.inf
        return _csv(tmp_path, df), ["row 6", "'V1'", "infinite"]
    if case == "wrong delimiter":
        return _csv(tmp_path, df, sep=";"), ["';'", "--sep"]
    if case == "label not 0/1":
        df.loc[200, "Class"] = 2
        return _csv(tmp_path, df), ["row 201", "'Class'", "received 2"]
    raise AssertionError(case)


BAD_CASES = [
    "missing file",
    "empty file",
    "header only",
    "missing column",
    "extra column",
    "non-numeric cell",
    "NaN",
    "inf",
    "wrong delimiter",
    "label not 0/1",
]


def _assert_usage_error(code, capsys, fragments):
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("case", BAD_CASES)
def test_score_rejects_bad_input_with_one_line_and_no_output(case, bundle, data, tmp_path, capsys):
    path, fragments = _bad(tmp_path, data, case)
    out = tmp_path / "out" / "scored.csv"
    code = cli(
        [
            "score",
            "--model",
            str(bundle),
            "--csv",
            str(path),
            "--out",
            str(out),
            "--chunksize",
            "100",
            "--quiet",
        ]
    )
    _assert_usage_error(code, capsys, fragments)
    assert not out.exists()
    assert (
        not any(p.name.startswith(".scored") for p in out.parent.glob("*")) if out.parent.exists() else True
    )


@pytest.mark.parametrize(
    "case", ["empty file", "header only", "non-numeric cell", "wrong delimiter", "label not 0/1"]
)
def test_fit_rejects_bad_input_before_writing_anything(case, data, tmp_path, capsys):
    path, fragments = _bad(tmp_path, data, case)
    out = tmp_path / "model"
    _assert_usage_error(cli(["fit", "--csv", str(path), "--out", str(out)]), capsys, fragments)
    assert not out.exists()


def test_metrics_need_a_fraud(bundle, data, tmp_path, capsys):
    _, test = data
    normal_only = _csv(tmp_path, test[test["Class"] == 0].head(200))
    out = tmp_path / "model"
    _assert_usage_error(
        cli(["fit", "--csv", str(normal_only), "--out", str(out)]), capsys, ["'Class'", "no fraud"]
    )
    assert not out.exists()
    _assert_usage_error(
        cli(["evaluate", "--model", str(bundle), "--csv", str(normal_only), "--quiet"]),
        capsys,
        ["'Class'", "no fraud"],
    )
    unlabelled = _csv(tmp_path, test.drop(columns=["Class"]), name="unlabelled.csv")
    _assert_usage_error(
        cli(["evaluate", "--model", str(bundle), "--csv", str(unlabelled), "--quiet"]),
        capsys,
        ["'Class'", "missing"],
    )


def test_bad_options_and_foreign_model(bundle, data, tmp_path, capsys):
    _, test = data
    src = _csv(tmp_path, test.head(50), name="ok.csv")
    _assert_usage_error(
        cli(["score", "--model", str(tmp_path), "--csv", str(src), "--out", str(tmp_path / "o.csv")]),
        capsys,
        ["not a fraud detector bundle"],
    )
    _assert_usage_error(
        cli(
            [
                "score",
                "--model",
                str(bundle),
                "--csv",
                str(src),
                "--out",
                str(tmp_path / "o.csv"),
                "--threshold-rule",
                "value",
            ]
        ),
        capsys,
        ["needs a value"],
    )
    other = _csv(tmp_path, pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}), name="other.csv")
    _assert_usage_error(
        cli(["score", "--model", str(bundle), "--csv", str(other), "--out", str(tmp_path / "o.csv")]),
        capsys,
        ["made for other columns", "'Time'"],
    )
    _assert_usage_error(
        cli(["fit", "--csv", str(src), "--out", str(tmp_path / "m"), "--test-size", "2"]),
        capsys,
        ["--test-size", "2"],
    )
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "m").exists()
