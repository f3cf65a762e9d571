"""The builders and the VAE on TensorFlow and on JAX: a few training steps from the same weights on the same data
give the same losses, and a `.keras` file saved on TensorFlow loads and predicts the same on JAX."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("jax")
pytestmark = pytest.mark.jax

RUN = pathlib.Path(__file__).resolve().parents[1] / "backend_run.py"
# Deterministic models agree to float32 round-off. The VAE samples its code with each backend's own random
# generator, so its losses agree only as closely as two draws of the sampling noise do.
TOLERANCE = {"dense": 1e-4, "deep": 1e-4, "conv": 1e-4, "denoise": 1e-4, "vae": 2e-2}


def _run(backend: str, folder: pathlib.Path, mode: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, str(RUN), str(folder), mode], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((folder / f"{mode}.json").read_text())


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backends")
    return _run("tensorflow", folder, "init"), _run("jax", folder, "compare")


@pytest.mark.parametrize("arch", sorted(TOLERANCE))
def test_the_same_steps_give_the_same_losses(reports, arch):
    tf_report, jax_report = reports
    assert (tf_report["backend"], jax_report["backend"]) == ("tensorflow", "jax")
    for a, b in zip(tf_report["losses"][arch], jax_report["losses"][arch], strict=True):
        assert abs(a - b) <= TOLERANCE[arch] * abs(a), (arch, tf_report["losses"][arch], jax_report["losses"][arch])


@pytest.mark.parametrize("arch", sorted(TOLERANCE))
def test_a_model_saved_on_tensorflow_predicts_the_same_on_jax(reports, arch):
    assert reports[1]["predictions_match"][arch] < 1e-5
