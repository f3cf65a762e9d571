"""keras_ae.runs.one_class_all: every class as the normal one, a per-class table beside PCA."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from keras_ae.cli.anomaly import cli  # noqa: E402


def test_normal_all_runs_every_class_and_tables_them_beside_pca(tmp_path, capsys):
    out = tmp_path / "all"
    code = cli(["--dataset", "mnist-sample", "--normal", "all", "--epochs", "1", "--train-size", "40",
                "--out", str(out), "--verbose", "0"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out / "summary.csv")
    assert list(table["normal"]) == list(range(10))
    assert not re.search(r"\d\.\d{11,}", (out / "summary.csv").read_text()), "float noise such as 0.9994999999999999"
    metrics = json.loads((out / "metrics.json").read_text())
    assert not (out / "UNFINISHED.json").exists()
    for label in range(10):  # each class's own run, with its PCA baseline on the same split
        single = json.loads((out / f"normal-{label}" / "metrics.json").read_text())
        row = table[table["normal"] == label].iloc[0]
        assert single["options"]["normal"] == label
        assert np.isclose(row["roc_auc"], single["test"]["roc_auc"])
        assert np.isclose(row["pca_roc_auc"], single["baselines"]["pca"]["test_roc_auc"])
        assert 0.5 < row["pca_roc_auc"] <= 1.0  # PCA on 40 images still ranks digits far better than chance
    assert np.isclose(metrics["mean_roc_auc"], table["roc_auc"].mean())
    worst = table.loc[table["roc_auc_minus_pca"].idxmin()]
    assert metrics["largest_shortfall_to_pca"]["normal"] == worst["normal"]
    below = list(table.loc[table["roc_auc_minus_pca"] < 0, "normal"])
    assert metrics["classes_below_pca"] == below and metrics["options"]["normal"] == "all"
    assert (out / "per_class.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "[10/10 classes" in printed and "mean test ROC-AUC" in printed
    # the summary line calls a shortfall a shortfall only when a class is below PCA
    assert ("below PCA: " + ", ".join(map(str, below)) if below else "no class below PCA") in printed


def test_the_summary_line_says_when_no_class_is_below_pca(capsys, monkeypatch):
    import pathlib
    import types

    from keras_ae.runs import one_class_all

    rows = [{"normal": n, "roc_auc": 0.9, "average_precision": 0.9, "accuracy": 0.9, "pca_roc_auc": 0.8 + n / 100,
             "pca_average_precision": 0.8, "roc_auc_minus_pca": 0.1 - n / 100} for n in range(3)]
    metrics = one_class_all.summary(rows)
    assert metrics["classes_below_pca"] == [] and metrics["largest_shortfall_to_pca"]["normal"] == 2
    monkeypatch.setattr(one_class_all, "run_all_classes",
                        lambda config: types.SimpleNamespace(metrics=metrics, run_dir=pathlib.Path("r")))
    assert cli(["--dataset", "mnist-sample", "--normal", "all"]) == 0
    printed = capsys.readouterr().out
    assert "no class below PCA (closest: normal 2 +0.0800)" in printed and "shortfall" not in printed


def test_normal_all_and_a_bad_label_are_told_apart(capsys):
    assert cli(["--dataset", "mnist-sample", "--normal", "some"]) == 2  # returned, not raised as SystemExit
    err = capsys.readouterr().err
    assert "--normal" in err and "'all'" in err and len(err.strip().splitlines()) == 1


def test_every_class_is_checked_before_the_first_trains(tmp_path, capsys, monkeypatch):
    from keras_ae.errors import UsageError
    from keras_ae.runs import one_class

    real = one_class.checked_splits

    def refuse_three(config, data):  # a class whose own images make its options fail, after classes that pass
        if config.normal == 3:
            raise UsageError("k=9 is more than the 8 normal training images", param="k")
        return real(config, data)

    trained = []
    monkeypatch.setattr(one_class, "checked_splits", refuse_three)
    monkeypatch.setattr(one_class, "_run", lambda *args, **kwargs: trained.append(args))
    out = tmp_path / "all"
    assert cli(["--dataset", "mnist-sample", "--normal", "all", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert not trained and not out.exists() and "run directory" not in captured.out
    assert captured.err.strip() == "error: --k 9 is more than the 8 normal training images"
    assert cli(["--dataset", "mnist-sample", "--normal", "all", "--shift", "14", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "--shift 14 is half the images' smaller side" in captured.err and "run directory" not in captured.out


def test_a_folder_of_yours_where_a_class_run_goes_is_refused_before_any_class_trains(tmp_path, capsys, monkeypatch):
    from keras_ae.run_dirs import mark_run
    from keras_ae.runs import one_class

    trained = []
    monkeypatch.setattr(one_class, "_run", lambda *args, **kwargs: trained.append(args))
    out = tmp_path / "all"
    (out / "normal-5").mkdir(parents=True)
    mark_run(out, "one-class, every class")
    (out / "normal-5" / "data.txt").write_text("mine")
    assert cli(["--dataset", "mnist-sample", "--normal", "all", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'normal-5'} is a folder that is not a keras-ae run, where --normal all writes the run of " \
           "class 5" in err and err.count("\n") == 1, err
    assert not trained and (out / "normal-5" / "data.txt").read_text() == "mine"
    (out / "normal-5" / "data.txt").unlink()
    mark_run(out / "normal-5", "train")  # the run of another command
    assert cli(["--dataset", "mnist-sample", "--normal", "all", "--out", str(out)]) == 2
    assert "is the directory of a train run, not of a one-class run" in capsys.readouterr().err and not trained


def test_a_one_class_run_of_yours_where_a_class_run_goes_is_refused(tmp_path, capsys, monkeypatch):
    """normal-7 holding a one-class run the earlier --normal all run did not make (it lists the class runs it
    made): refused before any class trains, the run kept."""
    from keras_ae.run_dirs import mark_run
    from keras_ae.runs import one_class

    trained = []
    monkeypatch.setattr(one_class, "_run", lambda *args, **kwargs: trained.append(args))
    out = tmp_path / "all"
    (out / "normal-7").mkdir(parents=True)
    mark_run(out, "one-class, every class", files=["normal-0", "summary.csv"])
    mark_run(out / "normal-7", "one-class", files=["metrics.json"])
    (out / "normal-7" / "metrics.json").write_text("my run")
    assert cli(["--dataset", "mnist-sample", "--normal", "all", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "normal-7 is a run that --normal all did not make, where --normal all writes the run of class 7" in err
    assert not trained and (out / "normal-7" / "metrics.json").read_text() == "my run"
