"""keras_ae.training.strategy: auto, mirrored and multi-worker strategies."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_ae import training
from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


# ---- strategies ----------------------------------------------------------------------------------------------
def test_auto_strategy_is_one_device_without_gpus_or_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        pytest.skip("several GPUs: auto picks MirroredStrategy")
    strategy = training.get_strategy("auto")
    assert strategy.num_replicas_in_sync == 1
    assert not isinstance(strategy, tf.distribute.MirroredStrategy)
    with pytest.raises(ValueError, match="unknown strategy 'ring'"):
        training.get_strategy("ring")


def test_tf_config_is_read_for_the_worker_count_and_rejected_when_malformed(monkeypatch):
    cluster = {"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    assert training._tf_config_workers() == 2
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG"):
        training.get_strategy("auto")


def test_mirrored_strategy_on_two_logical_cpus_trains_to_the_one_device_loss():
    """Two replicas, each half of every batch, against one device from the same weights (subprocess).

    Tolerances: with the same batches (no shuffling) the two runs differ only in the order float32
    sums are taken (the all-reduce), ~1e-7 per step, so losses must agree to 1e-4. Plain SGD is used
    there because Adam divides out the gradient's scale and would hide a gradient twice too large.
    Shuffled, noisy runs see the batches in another order (Keras's distributed iterator) and a VAE
    draws its z samples per replica, so those agree only statistically: within 2% after 2 epochs
    (observed: 0.02% conv, 0.7% VAE). The VAE's one-step update size must match within 25%
    (sampling noise, observed 6%); a missing division by the replica count would double it.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "distributed_run.py"), "conv,vae"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    exact = out["conv/sgd"]
    np.testing.assert_allclose(exact["mirrored"]["loss"], exact["one_device"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(exact["mirrored"]["val_loss"], exact["one_device"]["val_loss"], rtol=1e-4)
    for arch in ("conv", "vae"):
        noisy = out[f"{arch}/adam-shuffled-noisy"]
        np.testing.assert_allclose(noisy["mirrored"]["val_loss"][-1], noisy["one_device"]["val_loss"][-1],
                                   rtol=0.02)
        update = out[f"{arch}/update"]
        assert 0.8 < update["mirrored"] / update["one_device"] < 1.25, update
    assert out["conv/update"]["mirrored"] == pytest.approx(out["conv/update"]["one_device"], rel=1e-4)


def test_multi_worker_strategy_trains_two_local_workers_to_the_one_device_loss():
    """Two worker processes in one TF_CONFIG cluster on localhost (MultiWorkerMirroredStrategy).

    Each worker gets half of every global batch (no shuffling, plain SGD), so the synchronous all-reduce
    must leave both workers with identical weights and the one-device loss up to float32 summation
    order (1e-4). This also covers the workaround for keras-team/keras#20585 in training.fit.
    """
    sys.path.insert(0, str(REPO / "tests"))
    import multiworker_run

    ports = [free_port(), free_port()]
    procs = []
    for index in range(2):
        config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
        procs.append(subprocess.Popen([sys.executable, str(REPO / "tests" / "multiworker_run.py")], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    one = multiworker_run.train(tf.distribute.get_strategy())
    assert [r["replicas"] for r in results] == [2, 2]
    assert results[0]["weight_sum"] == results[1]["weight_sum"]
    assert results[0]["history"]["loss"] == results[1]["history"]["loss"]
    np.testing.assert_allclose(results[0]["history"]["loss"], one["history"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(results[0]["history"]["val_loss"], one["history"]["val_loss"], rtol=1e-4)
    assert results[0]["weight_sum"] == pytest.approx(one["weight_sum"], rel=1e-4)


def test_multi_worker_without_a_cluster_says_it_trains_alone(monkeypatch, capsys):
    from keras_ae.training import strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", lambda: "one worker")
    assert strategy.get_strategy("multi-worker") == "one worker"
    assert "TF_CONFIG is not set, so this process trains alone" in capsys.readouterr().err
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"index": 0}}))
    assert strategy.get_strategy("multi-worker") == "one worker"
    assert capsys.readouterr().err == ""
