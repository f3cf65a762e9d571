"""keras_ae.training.loop: fit, mixed precision, XLA, steps per execution, global state restored."""


import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae import artifacts, models, training
from keras_ae.errors import UsageError


# ---- mixed precision and XLA ---------------------------------------------------------------------------------
@pytest.fixture
def mixed_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_global_state_is_restored_when_a_run_fails(tmp_path):
    import keras

    from keras_ae.runs.train import TrainConfig, run_train

    keras.mixed_precision.set_global_policy("float32")
    before = np.random.get_state()[1].copy()
    with pytest.raises(UsageError, match=r"image folder \S*missing does not exist"):
        run_train(TrainConfig(dataset=f"folder:{tmp_path / 'missing'}", mixed_precision=True, verbose=0,
                              out=str(tmp_path / "run")))
    assert keras.mixed_precision.global_policy().name == "float32"
    np.testing.assert_array_equal(np.random.get_state()[1], before)


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
