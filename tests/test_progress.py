"""keras_ae.progress and the progress of every long step: plain lines at a modest rate into a file or a pipe,
one self-updating line on a terminal."""

import io
import os
import re
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_ae.progress import Progress  # noqa: E402

ANSI = re.compile(r"\x1b\[|\r")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_at_a_modest_rate_into_a_file():
    log = io.StringIO()
    bar = Progress(1000, unit="epoch", stream=log, every=3600, label="fit: ", upper_bound=True)
    for k in range(1000):
        bar.update(1, f"loss {1 / (k + 1):.4g}")
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and not ANSI.search(log.getvalue())  # the first and the final line only
    assert lines[0].startswith("fit: 1/1,000 epochs (0%), loss 1,") and "at most" in lines[0]
    assert lines[1].startswith("fit: 1,000/1,000 epochs (100%), loss 0.001,") and "done in" in lines[1]


def test_early_stopping_ends_at_the_count_reached():
    log = io.StringIO()
    bar = Progress(100, unit="epoch", stream=log, every=3600, upper_bound=True)
    bar.update(7)
    bar.close(finished=True)
    last = log.getvalue().splitlines()[-1]
    assert last.startswith("7 epochs (stopped early, at most 100), ") and "done in" in last


def test_one_redrawn_line_on_a_terminal():
    term = Terminal()
    bar = Progress(3, unit="row", stream=term, every=0)
    for _ in range(3):
        bar.update(1)
    bar.close()
    text = term.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and text.count("\r") >= 2 and "\x1b[K" in text


def test_epoch_progress_callback_reports_epochs_loss_and_time_left():
    import keras

    from keras_ae import training

    log = io.StringIO()
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    net.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    progress = training.EpochProgress(10, label="fit: ", stream=log, every=0)
    net.fit(x, x, epochs=10, verbose=0, callbacks=[progress], validation_data=(x, x))
    lines = log.getvalue().splitlines()
    assert len(lines) == 10 and lines[0].startswith("fit: 1/10 epochs (10%), loss ")
    assert "val loss" in lines[0] and "s left" in lines[0] and "done in" in lines[-1]


def test_keras_bars_become_one_line_per_epoch_outside_a_terminal(monkeypatch):
    from keras_ae.training import keras_verbose

    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert keras_verbose(1) == 2 and keras_verbose("auto") == 2 and keras_verbose(0) == 0
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert keras_verbose(1) == 1


def test_a_training_log_file_stays_readable(tmp_path):
    with open(tmp_path / "log.txt", "w") as log:
        result = subprocess.run([sys.executable, "-m", "keras_ae.cli.train", "--arch", "dense", "--dataset",
                                 "mnist-sample", "--epochs", "3", "--train-size", "512", "--test-size", "128",
                                 "--out", str(tmp_path / "run")], stdout=log, stderr=subprocess.STDOUT, timeout=300)
    text = (tmp_path / "log.txt").read_text()
    assert result.returncode == 0, text[-1000:]
    assert not ANSI.search(text) and max(len(line) for line in text.splitlines()) < 200, text
    assert len(re.findall(r"^\d+/\d+ - .*loss", text, flags=re.M)) == 3  # one line per epoch


def test_fraud_fit_shows_its_progress(train_csv, tmp_path):
    result = subprocess.run([sys.executable, "-m", "keras_ae.cli.fraud", "fit", "--input", str(train_csv),
                             "--out", str(tmp_path / "m"), "--epochs", "3", "--n-models", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-1000:]
    lines = [line for line in result.stderr.splitlines() if "autoencoder(s): " in line]
    assert lines and re.search(r"fit 1 autoencoder\(s\): 3/3 epochs \(100%\), loss [\d.]+, val loss", lines[-1])
    assert not ANSI.search(result.stderr)


def test_fraud_detector_verbose_levels(data, capsys):
    from keras_ae.fraud import FraudDetector

    train, _ = data
    FraudDetector(epochs=2, n_models=1, verbose=0).fit(train.head(600))
    assert capsys.readouterr().err == ""
    FraudDetector(epochs=2, n_models=1).fit(train.head(600))  # verbose=1 by default
    assert "2/2 epochs" in capsys.readouterr().err


def test_a_rate_below_ten_a_second_has_one_decimal():
    from keras_ae.progress import _rate

    assert _rate(1.36, "epoch") == "1.4 epochs/s" and _rate(1176.4, "row") == "1,176 rows/s"
    assert _rate(9.96, "epoch") == "10.0 epochs/s" and _rate(10.4, "epoch") == "10 epochs/s"
