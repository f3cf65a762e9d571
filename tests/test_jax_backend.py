"""The train command, a one-class fit and the fraud detector on Keras's JAX backend, where TensorFlow is not
importable at all (a stand-in `tensorflow` package that raises ImportError comes first on the path): what the GPU
machine without TensorFlow runs."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")
pytestmark = pytest.mark.jax


@pytest.fixture
def without_tensorflow(tmp_path):
    fake = tmp_path / "notf" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("TensorFlow is not installed here")\n')
    return {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(fake.parent),
            "TF_CPP_MIN_LOG_LEVEL": "2"}


def _run(args, env, cwd):
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_train_command_runs_on_jax_without_tensorflow(without_tensorflow, tmp_path):
    result = _run(["-m", "keras_ae.cli.train", "--arch", "conv", "--noise", "0.5", "--dataset", "mnist-sample",
                   "--epochs", "1", "--train-size", "512", "--out", str(tmp_path / "run")],
                  without_tensorflow, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["backend"] == "jax" and 0 < metrics["test_bce"] < 0.7
    assert (tmp_path / "run" / "reconstruction.png").is_file()


def test_a_one_class_run_on_jax_without_tensorflow(without_tensorflow, tmp_path):
    result = _run(["-m", "keras_ae.cli.anomaly", "--dataset", "mnist-sample", "--normal", "1", "--epochs", "1",
                   "--train-size", "256", "--out", str(tmp_path / "oc")], without_tensorflow, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "oc" / "metrics.json").read_text())
    assert 0.5 < metrics["test"]["roc_auc"] <= 1 and (tmp_path / "oc" / "histograms.png").is_file()


def test_streaming_says_it_needs_tensorflow(without_tensorflow, tmp_path):
    result = _run(["-m", "keras_ae.cli.train", "--dataset", "tfds:mnist", "--out", str(tmp_path / "r")],
                  without_tensorflow, tmp_path)
    assert result.returncode == 2 and "needs the TensorFlow backend" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_the_fraud_detector_fits_on_jax(without_tensorflow, tmp_path):
    code = ("from keras_ae.fraud import FraudDetector, synthetic_transactions\n"
            "import numpy as np, keras\n"
            "data = synthetic_transactions(3000, fraud_rate=0.02, seed=1)\n"
            "det = FraudDetector(n_models=2, epochs=3, verbose=0).fit(data[data.Class == 0])\n"
            "from sklearn.metrics import roc_auc_score\n"
            "scores = det.score_samples(data.drop(columns='Class'))\n"
            "print(keras.backend.backend(), roc_auc_score(data.Class, scores))\n")
    result = _run(["-c", code], without_tensorflow, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    backend, auc = result.stdout.split()[-2:]
    assert backend == "jax" and float(auc) > 0.8
