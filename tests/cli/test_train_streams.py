"""keras_ae.cli.train on streamed data: folder:PATH and tfds:NAME."""

import json

import numpy as np
import pytest

from keras_ae.cli import train as train_cli

FAST = ["--epochs", "1", "--batch-size", "16", "--verbose", "0", "--test-size", "16"]


# ---- tensorflow-datasets (optional extra; installed by .[dev]) -------------------------------------------------
tfds = pytest.importorskip("tensorflow_datasets")


def test_train_command_streams_a_folder(png_folder, tmp_path, capsys):
    out = tmp_path / "run"
    code = train_cli.cli(["--arch", "conv", "--dataset", f"folder:{png_folder}", "--stream", "--cache",
                          "--out", str(out), "--train-size", "20", *FAST])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"]["streamed"] is True and metrics["train_images"] == 20
    assert (metrics["dataset"]["train_size"], metrics["dataset"]["train_size_available"]) == (20, 27)  # used, own
    assert metrics["images_per_second"] > 0 and np.isfinite(metrics["test_bce"])


def test_train_command_reports_an_undecodable_streamed_file_in_one_line(png_folder, tmp_path, capsys):
    (png_folder / "b" / "broken.png").write_bytes(b"not a png at all")
    code = train_cli.cli(["--arch", "conv", "--dataset", f"folder:{png_folder}", "--stream",
                          "--out", str(tmp_path / "run"), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "decode" in err and len(err.strip().splitlines()) == 1
    code = train_cli.cli(["--dataset", "mnist-sample", "--stream", *FAST])
    assert code == 2 and "--stream" in capsys.readouterr().err


def test_train_command_trains_on_tfds_offline(tmp_path, capsys):
    out = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=48):
        code = train_cli.cli(["--arch", "dense", "--dataset", "tfds:mnist", "--out", str(out), *FAST])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"]["name"] == "tfds:mnist" and metrics["train_images"] == 48
    assert metrics["test_images"] == 16 and np.isfinite(metrics["test_bce"])
