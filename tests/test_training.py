"""keras_ae.training: the tf.data pipeline, per-epoch noise, strategies, mixed precision and XLA."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae import artifacts, models, training
from tests.conftest import REPO


def epoch(ds):
    """One pass over a dataset of (input, target) batches, concatenated."""
    inputs, targets = zip(*[(a.numpy(), b.numpy()) for a, b in ds])
    return np.concatenate(inputs), np.concatenate(targets)


# ---- input pipeline ----------------------------------------------------------------------------------------
def test_array_pipeline_gives_every_example_once_per_epoch_in_a_fresh_seeded_order():
    x = np.arange(100, dtype=np.float32).reshape(100, 1)
    training.set_seed(0)
    ds = training.make_dataset(x, batch_size=32, seed=5)
    first, first_target = epoch(ds)
    second, _ = epoch(ds)
    assert sorted(first[:, 0]) == list(range(100)) and sorted(second[:, 0]) == list(range(100))
    np.testing.assert_array_equal(first, first_target)  # plain reconstruction: target is the input
    assert not np.array_equal(first, second)  # reshuffled every epoch
    training.set_seed(0)
    again = training.make_dataset(x, batch_size=32, seed=5)
    np.testing.assert_array_equal(epoch(again)[0], first)  # same seed, same order
    np.testing.assert_array_equal(epoch(again)[0], second)
    assert [len(a) for a, _ in ds] == [32, 32, 32, 4]


def test_noise_is_drawn_afresh_every_epoch_reproducibly_and_only_on_the_input():
    x = np.full((64, 8, 8, 1), 0.5, dtype=np.float32)
    training.set_seed(0)
    ds = training.make_dataset(x, batch_size=16, shuffle=False, seed=3, noise=("gaussian", 0.1))
    noisy1, clean1 = epoch(ds)
    noisy2, _ = epoch(ds)
    np.testing.assert_array_equal(clean1, x)
    assert not np.allclose(noisy1, noisy2)
    # noise_factor 0.1 around 0.5 is never clipped: the draws are N(0, 0.1^2)
    assert abs(float(np.std(noisy1 - x)) - 0.1) < 0.005 and abs(float(np.mean(noisy1 - x))) < 0.005
    # within one epoch every batch gets its own draw
    assert not np.allclose(noisy1[:16], noisy1[16:32])
    training.set_seed(0)
    same = training.make_dataset(x, batch_size=16, shuffle=False, seed=3, noise=("gaussian", 0.1))
    np.testing.assert_array_equal(epoch(same)[0], noisy1)
    np.testing.assert_array_equal(epoch(same)[0], noisy2)
    training.set_seed(0)
    other = training.make_dataset(x, batch_size=16, shuffle=False, seed=4, noise=("gaussian", 0.1))
    assert not np.allclose(epoch(other)[0], noisy1)


def test_salt_and_pepper_in_the_pipeline_hits_the_asked_fraction_with_both_extremes():
    x = np.full((32, 16, 16, 1), 0.5, dtype=np.float32)
    ds = training.make_dataset(x, batch_size=32, shuffle=False, noise=("salt-pepper", 0.2))
    noisy, clean = epoch(ds)
    hit = noisy != 0.5
    assert abs(hit.mean() - 0.2) < 0.02
    assert set(np.unique(noisy[hit])) == {0.0, 1.0}
    np.testing.assert_array_equal(clean, x)


def test_stream_pipeline_batches_single_images_and_caches_on_request():
    images = tf.data.Dataset.from_tensor_slices(np.arange(50, dtype=np.float32).reshape(50, 1, 1, 1))
    ds = training.make_dataset(images, batch_size=16, seed=1, cache=True, shuffle_buffer=50)
    first, target = epoch(ds)
    second, _ = epoch(ds)
    assert sorted(first.ravel()) == list(range(50)) and sorted(second.ravel()) == list(range(50))
    np.testing.assert_array_equal(first, target)
    assert not np.array_equal(first, second)
    with pytest.raises(ValueError, match="target"):
        training.make_dataset(images, target=np.zeros((50, 1)))


def test_fit_on_a_stream_matches_fit_on_the_same_arrays_without_shuffling(tiny_images):
    x_train, x_test = tiny_images
    losses = []
    for source in (x_train[:128], tf.data.Dataset.from_tensor_slices(x_train[:128])):
        training.set_seed(0)
        bundle = models.build("conv")
        training.compile_model(bundle.autoencoder)
        result = training.fit(bundle, source, x_test, epochs=2, batch_size=32, verbose=0, shuffle=False)
        losses.append(result.history["loss"])
        assert len(result.history["train_loss_after_epoch"]) == 2
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


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


# ---- mixed precision and XLA ---------------------------------------------------------------------------------
@pytest.fixture
def mixed_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("arch", ["conv", "vae"])
def test_mixed_precision_computes_in_float16_and_keeps_outputs_and_losses_float32(arch, tiny_images, tmp_path,
                                                                                  mixed_policy):
    x_train, x_test = tiny_images
    training.set_seed(0)
    bundle = models.build(arch, **({"seed": 0} if arch in models.VARIATIONAL else {}))
    training.compile_model(bundle.autoencoder)
    assert isinstance(bundle.autoencoder.optimizer, keras.optimizers.LossScaleOptimizer)
    hidden = [layer for layer in bundle.decoder.layers if layer.weights and layer.name != "reconstruction"]
    assert hidden and all(layer.compute_dtype == "float16" for layer in hidden)
    assert all(w.dtype == "float32" for w in bundle.autoencoder.weights)  # weights stay float32
    output = bundle.autoencoder(x_test[:4])
    assert output.dtype == "float32"
    if arch in models.VARIATIONAL:
        assert all(z.dtype == "float32" for z in bundle.encoder(x_test[:4]))
    result = training.fit(bundle, x_train[:128], x_test, epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(result.history["loss"]).all() and np.isfinite(result.history["val_loss"]).all()
    before = bundle.autoencoder.predict(x_test[:8], verbose=0)
    artifacts.save_models(bundle, tmp_path)
    keras.mixed_precision.set_global_policy("float32")  # a user loading the run later, in a plain session
    loaded = artifacts.load_models(tmp_path)
    after = loaded.autoencoder.predict(x_test[:8], verbose=0)
    assert after.dtype == np.float32
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert loaded.decoder.get_layer("reconstruction").compute_dtype == "float32"


def test_jit_compiles_with_xla_and_trains_to_the_same_loss(tiny_images):
    x_train, x_test = tiny_images
    losses = {}
    for jit in (False, True):
        training.set_seed(0, deterministic=False)  # Keras does not XLA-compile under op determinism
        bundle = models.build("conv")
        training.compile_model(bundle.autoencoder, jit_compile=jit)
        assert bundle.autoencoder.jit_compile is jit
        losses[jit] = training.fit(bundle, x_train[:128], x_test, epochs=2, batch_size=32, verbose=0).history
    np.testing.assert_allclose(losses[True]["loss"], losses[False]["loss"], rtol=1e-3)
    training.set_seed(0)  # back to deterministic ops for the tests that follow


def test_steps_per_execution_runs_several_steps_per_call_with_the_same_result(tiny_images):
    x_train, x_test = tiny_images
    losses = []
    for steps in (1, 4):
        training.set_seed(0)
        bundle = models.build("dense", input_shape=(28, 28, 1))
        training.compile_model(bundle.autoencoder, steps_per_execution=steps)
        losses.append(training.fit(bundle, x_train, x_test, epochs=2, batch_size=32, verbose=0).history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    with pytest.raises(ValueError, match="steps_per_execution"):
        training.compile_model(models.build("dense").autoencoder, steps_per_execution=0)


# ---- the train command's options -----------------------------------------------------------------------------
def test_train_command_records_strategy_precision_and_xla_and_its_models_reload(tmp_path, capsys):
    from keras_ae.cli import train as train_cli

    out = tmp_path / "run"
    code = train_cli.cli(["--arch", "conv", "--dataset", "mnist-sample", "--epochs", "1", "--train-size", "128",
                          "--test-size", "32", "--batch-size", "32", "--verbose", "0", "--out", str(out),
                          "--mixed-precision", "--jit", "--strategy", "mirrored", "--steps-per-execution", "2"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["strategy"] == "MirroredStrategy" and metrics["replicas"] >= 1
    assert metrics["mixed_precision"] is True and metrics["jit_compile"] is True and metrics["deterministic"] is False
    assert metrics["images_per_second"] > 0 and np.isfinite(metrics["test_bce"])
    assert keras.mixed_precision.global_policy().name == "float32"  # the command put the policy back
    loaded = artifacts.load_models(out, compile=False)
    assert loaded.decoder.get_layer("reconstruction").compute_dtype == "float32"
    assert loaded.decoder.get_layer("decoder_conv_0").compute_dtype == "float16"
    training.set_seed(0)  # op determinism back on for the tests that follow


def test_train_command_rejects_bad_speed_options_in_one_line(capsys):
    from keras_ae.cli import train as train_cli

    with pytest.raises(SystemExit) as caught:  # argparse's own errors exit from parse_args
        train_cli.cli(["--strategy", "ring"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "--strategy: invalid choice: 'ring'" in err and len(err.splitlines()) == 1
    assert train_cli.cli(["--steps-per-execution", "0"]) == 2
    assert "--steps-per-execution must be > 0, received 0" in capsys.readouterr().err
