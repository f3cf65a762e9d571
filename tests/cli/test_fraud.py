"""keras_ae.cli.fraud: fit, score and evaluate commands, and every bad input they refuse."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.cli.fraud import cli  # noqa: E402
from keras_ae.fraud import FraudDetector, synthetic_transactions  # noqa: E402

FAST = {"n_models": 2, "epochs": 12, "patience": 4, "batch_size": 128}


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
]


def _assert_usage_error(code, capsys, fragments):
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    for fragment in fragments:
        assert fragment in err, (fragment, err)


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
    assert list(result["id"]) == list(range(len(df))) and result.columns[-1] == "p_value"


def test_fit_on_a_table_without_the_label_column_takes_every_row_as_normal(tmp_path, capsys):
    src = tmp_path / "normal.csv"
    df = synthetic_transactions(600, fraud_rate=0.0, seed=3)
    df.drop(columns=["Class"]).to_csv(src, index=False)
    out = tmp_path / "model"
    assert cli(["fit", "--input", str(src), "--out", str(out), "--epochs", "2", "--n-models", "1"]) == 0
    printed = capsys.readouterr().out
    assert "no 'Class' column" in printed and "every row is taken as normal" in printed
    assert not (out / "metrics.json").exists()  # no labels: no hold-out metrics
    assert len(FraudDetector.load(out).columns_) == df.shape[1] - 1


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
    foreign = tmp_path / "foreign"  # a directory of other files, beside (not holding) the output
    foreign.mkdir()
    _csv(foreign, test.head(5), name="table.csv")
    _assert_usage_error(
        cli(["score", "--model", str(foreign), "--csv", str(src), "--out", str(tmp_path / "o.csv")]),
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


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_during_score_leaves_no_temporary_file(signum, bundle, data, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    _, test = data
    big = pd.concat([test] * 60, ignore_index=True)  # 90,000 rows: a few seconds of scoring
    big.to_csv(tmp_path / "big.csv", index=False)
    cmd = [sys.executable, "-m", "keras_ae.cli.fraud", "score", "--model", str(bundle), "--input",
           str(tmp_path / "big.csv"), "--out", str(tmp_path / "scored.csv"), "--chunksize", "50"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not [p for p in tmp_path.iterdir() if p.name.startswith(".scored")]:
        time.sleep(0.02)  # wait until the temporary output exists (50-row chunks: scoring takes seconds)
    assert proc.poll() is None, "the command ended before it could be interrupted"
    proc.send_signal(getattr(signal, signum))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err[-500:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]


def test_fit_without_the_credit_card_file_says_where_to_get_it(tmp_path, capsys):
    out = tmp_path / "model"
    code = cli(["fit", "--input", str(tmp_path / "creditcard.csv"), "--out", str(out)])
    _assert_usage_error(code, capsys, ["creditcard.csv: no such file", "storage.googleapis.com",
                                       "fetch_creditcard()"])
    assert not out.exists()
    code = cli(["fit", "--input", str(tmp_path / "mine.csv"), "--out", str(out)])
    _assert_usage_error(code, capsys, ["mine.csv: no such file"])


def test_evaluate_flags_an_unscorable_row_instead_of_failing(bundle, data, tmp_path, capsys):
    _, test = data
    frame = test.head(300).copy()
    frauds = frame.index[frame["Class"] == 1]
    frame.loc[frauds[0], "V3"] = -np.inf  # a fraud the detector cannot score: flagged, counted as caught
    src = tmp_path / "new.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "m.json"
    assert cli(["evaluate", "--model", str(bundle), "--input", str(src), "--unscorable", "flag", "--out", str(out),
                "--quiet"]) == 0, capsys.readouterr().err
    metrics = json.loads(out.read_text())
    assert metrics["rows"] == 300 and 0.0 <= metrics["roc_auc"] <= 1.0 and metrics["unscorable_rows_flagged"] == 1
    assert cli(["evaluate", "--model", str(bundle), "--input", str(src), "--out", str(tmp_path / "r.json"),
                "--quiet"]) == 2  # the default: refused, with the row named
    assert "infinite value" in capsys.readouterr().err


def test_label_column_none_takes_every_row_as_normal_and_every_column_as_a_feature(train_csv, data, tmp_path,
                                                                                     capsys):
    out = tmp_path / "model"
    fast = ["--epochs", "2", "--n-models", "1", "--verbose", "0"]
    _assert_usage_error(cli(["fit", "--input", str(train_csv), "--label-column", "none", "--threshold-rule", "f1",
                             "--out", str(out), *fast]), capsys, ["'f1' needs labelled frauds"])
    assert cli(["fit", "--input", str(train_csv), "--label-column", "none", "--out", str(out), *fast]) == 0
    assert "unlabelled rows" in capsys.readouterr().out
    meta = json.loads((out / "detector.json").read_text())
    assert meta["label_column"] == "" and "Class" in meta["columns"]
    _, test = data
    src = tmp_path / "new.csv"
    test.to_csv(src, index=False)
    _assert_usage_error(cli(["evaluate", "--model", str(out), "--input", str(src), "--out", str(tmp_path / "e.json"),
                             "--quiet"]), capsys, ["fitted without a label column"])


def test_score_passes_the_label_column_through_as_it_is_and_evaluate_reads_it(bundle, data, tmp_path, capsys):
    """New rows may not be labelled yet: scoring does not use the label column, so a blank or unknown label is
    written back as it was (as on Spark); evaluating needs the labels and refuses such a cell."""
    _, test = data
    df = test.head(300).copy()
    df["Class"] = df["Class"].astype(object)
    df.loc[df.index[3], "Class"] = np.nan
    df.loc[df.index[4], "Class"] = "unknown"
    src, out = tmp_path / "new.csv", tmp_path / "scored.csv"
    df.to_csv(src, index=False)
    assert cli(["score", "--model", str(bundle), "--input", str(src), "--out", str(out), "--quiet"]) == 0
    scored = pd.read_csv(out, dtype={"Class": object}, keep_default_na=False)
    assert len(scored) == len(df) and scored["Class"].iloc[3] == "" and scored["Class"].iloc[4] == "unknown"
    capsys.readouterr()
    assert cli(["evaluate", "--model", str(bundle), "--input", str(src), "--quiet"]) == 2
    assert "row 4 (line 5), column 'Class'" in capsys.readouterr().err
