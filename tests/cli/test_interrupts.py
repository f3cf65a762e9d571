"""SIGINT and SIGTERM during fit, train.py, anomaly.py and experiment.py (score: tests/cli/test_fraud.py):
the command ends with exit code 130, removes its temporary files, and a run directory left behind is marked
unfinished so that the loaders refuse it."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402

SIGNALS = ["SIGINT", "SIGTERM"]


def interrupt(cmd, started, signum, cwd, timeout=120):
    """Run `cmd`, wait until `started()` is true, send `signum`; returns (exit code, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    deadline = time.time() + timeout
    while time.time() < deadline and not started() and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the command ended before it could be interrupted: " + proc.communicate()[1][-800:]
    time.sleep(1.0)  # well inside the work
    proc.send_signal(getattr(signal, signum))
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def hidden_temporaries(root: pathlib.Path) -> list[str]:
    return [str(p) for p in root.rglob(".*") if ".tmp" in p.name]


def assert_marked_unfinished(run_dir: pathlib.Path):
    from keras_ae import artifacts

    state = json.loads((run_dir / "UNFINISHED.json").read_text())
    assert state["state"] == "interrupted" and state["error"] == "KeyboardInterrupt", state
    assert not (run_dir / "metrics.json").exists()
    with pytest.raises(UsageError, match="unfinished run"):
        artifacts.read_metrics(run_dir)
    with pytest.raises(UsageError, match="unfinished run"):
        artifacts.load_models(run_dir)


@pytest.mark.parametrize("signum", SIGNALS)
def test_train(signum, tmp_path):
    run = tmp_path / "run"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.train", "--arch", "dense", "--epochs", "500",
                           "--out", str(run)], lambda: (run / "UNFINISHED.json").exists(), signum, tmp_path)
    assert code == 130 and err.strip().endswith("error: interrupted"), err[-800:]
    assert_marked_unfinished(run)
    assert not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_anomaly(signum, tmp_path):
    run = tmp_path / "run"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.anomaly", "--epochs", "500", "--out", str(run)],
                          lambda: (run / "UNFINISHED.json").exists(), signum, tmp_path)
    assert code == 130 and "error: interrupted" in err, err[-800:]
    assert_marked_unfinished(run)
    assert not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_experiment(signum, tmp_path):
    sweep = {"name": "t", "dataset": "font5x7", "arch": "font", "batch_size": 8, "n_runs": 3, "seed": 0,
             "metric": "wrong_pixels", "grid": {"layers": [[25, 10]], "activation": ["tanh", "relu"],
                                                "latent_dim": [2], "epochs": [400]}}
    (tmp_path / "s.json").write_text(json.dumps(sweep))
    out = tmp_path / "out"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.experiment", "--config", str(tmp_path / "s.json"),
                           "--out", str(out)], lambda: (out / "UNFINISHED.json").exists(), signum, tmp_path)
    assert code == 130 and "error: interrupted" in err, err[-800:]
    state = json.loads((out / "UNFINISHED.json").read_text())
    assert state["state"] == "interrupted" and not (out / "results.csv").exists()
    assert not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_font(signum, tmp_path):
    out = tmp_path / "font"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.font", "--max-epochs", "20000", "--max-wrong", "0",
                           "--out", str(out)], lambda: (out / "UNFINISHED.json").exists(), signum, tmp_path)
    assert code == 130 and "error: interrupted" in err, err[-800:]
    assert json.loads((out / "UNFINISHED.json").read_text())["state"] == "interrupted"
    assert not (out / "font.json").exists() and not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_fraud_fit(signum, data, tmp_path):
    train, _ = data
    train.to_csv(tmp_path / "train.csv", index=False)
    model = tmp_path / "model"
    log = tmp_path / "log.txt"

    def training_started():  # the command's first progress line is written when the first epoch ends
        return log.exists() and "epochs (" in log.read_text()

    with open(log, "w") as stdout_and_err:
        proc = subprocess.Popen([sys.executable, "-m", "keras_ae.cli.fraud", "fit", "--input",
                                 str(tmp_path / "train.csv"), "--out", str(model), "--epochs", "3000",
                                 "--n-models", "1"], stdout=stdout_and_err, stderr=subprocess.STDOUT, cwd=tmp_path)
        deadline = time.time() + 120
        while time.time() < deadline and not training_started() and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()[-800:]
        time.sleep(0.5)
        proc.send_signal(getattr(signal, signum))
        proc.wait(timeout=120)
    assert proc.returncode == 130 and "error: interrupted" in log.read_text(), log.read_text()[-800:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt", "train.csv"]  # no model, no temporary


def test_the_model_directory_of_fit_appears_whole_or_not_at_all(tmp_path):
    from keras_ae.io import atomic_dir

    target = tmp_path / "model"
    with pytest.raises(KeyboardInterrupt), atomic_dir(target) as tmp:
        (tmp / "a.json").write_text("{}")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(target) as tmp:
        (tmp / "a.json").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:  # a failed refit keeps the old model
        (tmp / "a.json").write_text("2")
        raise RuntimeError
    assert (target / "a.json").read_text() == "1" and listing(tmp_path) == ["model"]
    with atomic_dir(target) as tmp:  # a finished one replaces it
        (tmp / "b.json").write_text("3")
    assert listing(target) == ["b.json"] and listing(tmp_path) == ["model"]


def listing(path):
    return sorted(p.name for p in path.iterdir())
