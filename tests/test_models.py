"""Builders: lecture parameter counts, shapes, shared weights, training, saving."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import models, training

ALL = list(models.ARCHITECTURES)


def default_input(name, n, seed=0):
    """Random inputs of the shape the builder's defaults expect (784 vectors for the dense ones)."""
    shape = (35,) if name == "font" else (784,) if name in models.FLAT else (28, 28, 1)
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


@pytest.mark.parametrize(
    "name, expected",
    [("dense", 50_992), ("deep", 222_384), ("conv", 4_385), ("denoise", 28_353)],
)
def test_lecture_parameter_counts(name, expected):
    encoder, decoder, autoencoder = models.build(name)
    assert autoencoder.count_params() == expected
    assert encoder.count_params() + decoder.count_params() == expected


def test_dense_layer_split_matches_slide():
    encoder, decoder, _ = keras_ae.build_dense(input_shape=(784,))
    assert encoder.count_params() == 25_120 and decoder.count_params() == 25_872


def test_conv_matches_slide_table():
    encoder, decoder, _ = keras_ae.build_conv()
    assert encoder.output_shape == (None, 4, 4, 8)
    valid = [layer for layer in decoder.layers if getattr(layer, "padding", None) == "valid"]
    assert [layer.filters for layer in valid] == [16]  # the 16 -> 14 step of the slide
    assert decoder.output_shape == (None, 28, 28, 1)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(28, 28, 1), (64, 64, 3), (30, 22, 1)])
def test_output_shape_equals_input_shape(name, shape):
    bundle = models.build(name, input_shape=shape)
    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    assert bundle.autoencoder.predict(x, verbose=0).shape == (2, *shape)


@pytest.mark.parametrize("name", ALL)
def test_autoencoder_equals_decoder_of_encoder(name):
    encoder, decoder, autoencoder = models.build(name)
    x = default_input(name, 4, seed=1)
    code = encoder.predict(x, verbose=0)
    code = code[0] if name in models.VARIATIONAL else code  # VAE decodes z_mean at inference
    np.testing.assert_allclose(autoencoder.predict(x, verbose=0), decoder.predict(code, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_weights_are_shared():
    encoder, decoder, autoencoder = keras_ae.build_dense(input_shape=(784,))
    x = np.random.default_rng(2).random((3, 784), dtype=np.float32)
    before = autoencoder.predict(x, verbose=0)
    kernel = encoder.get_layer("code").kernel
    kernel.assign(kernel.numpy() * 0.0)
    after = autoencoder.predict(x, verbose=0)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, decoder.predict(np.zeros((3, 32), np.float32), verbose=0), atol=1e-6)


def test_builders_take_widths_activations_and_initialisers():
    encoder, decoder, ae = keras_ae.build_deep(hidden=(64,), latent_dim=8, activation="tanh",
                                               kernel_initializer="he_uniform")
    assert encoder.output_shape == (None, 8)
    assert encoder.get_layer("code").activation.__name__ == "tanh"
    assert isinstance(encoder.get_layer("code").kernel_initializer, keras.initializers.HeUniform)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: keras_ae.build_dense(latent_dim=0), "latent_dim=0"),
        (lambda: keras_ae.build_conv(input_shape=(28, 28)), "input_shape=(28, 28)"),
        (lambda: keras_ae.build_vae(kind="rnn"), "kind='rnn'"),
        (lambda: keras_ae.build_vae(beta=-1.0), "beta=-1.0"),
        (lambda: models.get_builder("transformer"), "'transformer'"),
    ],
)
def test_bad_arguments_name_the_value(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.parametrize("name", ["dense", "conv"])
def test_loss_goes_down_on_a_short_fit(name, tiny_images):
    x_train, x_val = tiny_images
    training.set_seed(0)
    bundle = models.build(name, input_shape=(28, 28, 1))
    training.compile_model(bundle.autoencoder)
    result = training.fit(bundle, x_train, x_val, epochs=3, batch_size=32, verbose=0)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    assert len(result.history["train_loss_after_epoch"]) == 3


def test_vae_losses_are_finite_and_kl_non_negative(tiny_images):
    x_train, x_val = tiny_images
    training.set_seed(0)
    bundle = keras_ae.build_vae()
    training.compile_model(bundle.autoencoder)
    history = training.fit(bundle, x_train, x_val, epochs=2, batch_size=32, verbose=0).history
    for key in ("loss", "reconstruction_loss", "kl_loss", "val_loss", "val_kl_loss"):
        assert np.all(np.isfinite(history[key])), key
    assert min(history["kl_loss"] + history["val_kl_loss"]) >= 0
    # loss = reconstruction + beta * KL with beta = 1, per batch, so the epoch means add up too
    np.testing.assert_allclose(history["val_loss"],
                               np.add(history["val_reconstruction_loss"], history["val_kl_loss"]), rtol=1e-4)


def test_vae_beta_is_a_variable_a_callback_can_change(tiny_images):
    x_train, x_val = tiny_images

    class WarmUp(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.beta.assign(0.0 if epoch == 0 else 0.5)

    bundle = keras_ae.build_vae()
    training.compile_model(bundle.autoencoder)
    history = training.fit(bundle, x_train, x_val, epochs=2, batch_size=64, verbose=0,
                           callbacks=[WarmUp()]).history
    assert history["val_loss"][0] == pytest.approx(history["val_reconstruction_loss"][0], rel=1e-5)
    assert history["val_loss"][1] == pytest.approx(
        history["val_reconstruction_loss"][1] + 0.5 * history["val_kl_loss"][1], rel=1e-4)


@pytest.mark.parametrize("name", ALL)
def test_save_load_round_trip_gives_identical_outputs(name, tmp_path):
    from keras_ae import artifacts

    bundle = models.build(name)
    training.compile_model(bundle.autoencoder)
    x = default_input(name, 5, seed=3)
    expected = [m.predict(x if i != 1 else bundle.encoder.predict(x, verbose=0), verbose=0)
                for i, m in enumerate(bundle) if i != 1]
    artifacts.save_models(bundle, tmp_path)
    loaded = artifacts.load_models(tmp_path)
    assert type(loaded.autoencoder) is type(bundle.autoencoder)
    got = [m.predict(x if i != 1 else loaded.encoder.predict(x, verbose=0), verbose=0)
           for i, m in enumerate(loaded) if i != 1]
    for e, g in zip(expected, got):
        for a, b in zip(e if isinstance(e, list) else [e], g if isinstance(g, list) else [g]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_loaded_vae_keeps_training_in_a_fresh_process(tmp_path, tiny_images):
    x_train, _ = tiny_images
    bundle = keras_ae.build_vae(beta=0.5)
    training.compile_model(bundle.autoencoder)
    bundle.autoencoder.fit(x_train, epochs=2, batch_size=64, verbose=0)
    first = bundle.autoencoder.evaluate(x_train, batch_size=64, verbose=0, return_dict=True)["loss"]
    bundle.autoencoder.save(tmp_path / "vae.keras")
    np.save(tmp_path / "x.npy", x_train)
    script = textwrap.dedent(f"""
        import os, json
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, keras
        import keras_ae.models.vae
        vae = keras.saving.load_model({str(tmp_path / "vae.keras")!r})
        x = np.load({str(tmp_path / "x.npy")!r})
        start = vae.evaluate(x, batch_size=64, verbose=0, return_dict=True)["loss"]
        history = vae.fit(x, epochs=2, batch_size=64, verbose=0).history
        print(json.dumps({{"beta": float(vae.beta.numpy()), "start": start, "loss": history["loss"]}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["beta"] == 0.5
    # the loaded model starts where the saved one stopped (not from scratch, ~540 for random weights)
    assert result["start"] == pytest.approx(first, rel=0.05)
    assert result["loss"][-1] < result["start"] * 1.02
