"""SIGINT and SIGTERM (and SIGHUP, once) during fit, train.py, anomaly.py and experiment.py (score:
tests/cli/test_fraud.py): the command ends with exit code 130, removes its temporary files, and a run directory
left behind is marked unfinished so that the loaders refuse it.

Each command is interrupted once a line it prints shows its work under way (a finished epoch, a finished run),
not after a fixed sleep."""

import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402
from tests.helpers import Command, listing  # noqa: E402

SIGNALS = ["SIGINT", "SIGTERM"]
KERAS_EPOCH = r"^\d+/\d+ - .*loss: "  # Keras's line for a finished epoch (verbose 2: stdout is not a terminal)


def interrupt(cmd, marker, signum, cwd):
    """Run `cmd`, wait until it prints a line matching `marker`, send `signum`; returns (exit code, stderr)."""
    with Command(cmd, cwd) as command:
        command.wait_for(marker)
        code, _, err = command.interrupt(signum)
    return code, err


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
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.train", "--arch", "dense", "--dataset", "mnist-sample",
                           "--epochs", "500", "--out", str(run)], KERAS_EPOCH, signum, tmp_path)
    assert code == 130 and err.strip().endswith("error: interrupted"), err[-800:]
    assert_marked_unfinished(run)
    assert not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_anomaly(signum, tmp_path):
    run = tmp_path / "run"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.anomaly", "--dataset", "mnist-sample", "--epochs", "500",
                           "--out", str(run)], KERAS_EPOCH, signum, tmp_path)
    assert code == 130 and "error: interrupted" in err, err[-800:]
    assert_marked_unfinished(run)
    assert not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", [*SIGNALS, "SIGHUP"])  # SIGHUP: the terminal closed
def test_experiment(signum, tmp_path):
    sweep = {"name": "t", "dataset": "font5x7", "arch": "font", "batch_size": 8, "n_runs": 3, "seed": 0,
             "metric": "wrong_pixels", "grid": {"layers": [[25, 10]], "activation": ["tanh", "relu"],
                                                "latent_dim": [2], "epochs": [40]}}
    (tmp_path / "s.json").write_text(json.dumps(sweep))
    out = tmp_path / "out"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.experiment", "--config", str(tmp_path / "s.json"),
                           "--out", str(out)], r"^\[1/6 runs", signum, tmp_path)  # 1 of 6 runs done, 5 to go
    assert code == 130 and "error: interrupted" in err, err[-800:]
    state = json.loads((out / "UNFINISHED.json").read_text())
    assert state["state"] == "interrupted" and "results.csv" in state["written"]
    assert len((out / "results.csv").read_text().splitlines()) >= 2  # the header and the runs that finished
    assert not (out / "summary.csv").exists() and not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_font(signum, tmp_path):
    out = tmp_path / "font"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.font", "--max-epochs", "20000", "--max-wrong", "0",
                           "--out", str(out)], r"^training: \d", signum, tmp_path)  # its first progress line
    assert code == 130 and "error: interrupted" in err, err[-800:]
    assert json.loads((out / "UNFINISHED.json").read_text())["state"] == "interrupted"
    assert not (out / "font.json").exists() and not hidden_temporaries(tmp_path)


@pytest.mark.parametrize("signum", SIGNALS)
def test_fraud_fit(signum, train_csv, tmp_path):
    model = tmp_path / "model"
    code, err = interrupt([sys.executable, "-m", "keras_ae.cli.fraud", "fit", "--input", str(train_csv), "--out",
                           str(model), "--epochs", "3000", "--n-models", "1"],
                          r"epochs \(", signum, tmp_path)  # the first progress line: the first epoch has ended
    assert code == 130 and "error: interrupted" in err, err[-800:]
    assert listing(tmp_path) == ["train.csv"]  # no model, no temporary


def test_the_model_directory_of_fit_appears_whole_or_not_at_all(tmp_path):
    from keras_ae.io import atomic_dir

    target = tmp_path / "model"
    with pytest.raises(KeyboardInterrupt, match="^stopped while writing$"), atomic_dir(target) as tmp:
        (tmp / "a.json").write_text("{}")
        raise KeyboardInterrupt("stopped while writing")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(target) as tmp:
        (tmp / "a.json").write_text("1")
    with pytest.raises(RuntimeError, match="^the refit failed$"), atomic_dir(target) as tmp:  # keeps the old model
        (tmp / "a.json").write_text("2")
        raise RuntimeError("the refit failed")
    assert (target / "a.json").read_text() == "1" and listing(tmp_path) == ["model"]
    with atomic_dir(target) as tmp:  # a finished one replaces it
        (tmp / "b.json").write_text("3")
    assert listing(target) == ["b.json"] and listing(tmp_path) == ["model"]


@pytest.mark.parametrize("signum", SIGNALS)
def test_a_stop_request_while_the_process_exits_keeps_the_commands_exit_code(signum):
    """Once a command has ended (here refusing a bad option: 2), a signal while the process exits (TensorFlow's
    teardown takes a second) does not turn its exit code into 130; until the exit, the caller keeps its signals."""
    import subprocess

    code = ("import atexit, os, signal, sys\n"
            f"atexit.register(lambda: os.kill(os.getpid(), signal.{signum}))  # at exit, after the command's own\n"
            "sys.argv = ['keras-ae-font', '--steps', '1']\n"
            "from keras_ae.cli.font import cli\n"
            "code = cli()\n"
            "print('kept:', signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)\n"
            "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "kept: True" in done.stdout, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.strip().splitlines() == ["error: --steps must be an integer in [2, 100], received 1"]
