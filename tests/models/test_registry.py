"""keras_ae.models.registry: every registered architecture builds, shares weights, trains, checks arguments."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import models, training
from tests.helpers import default_input

ALL = list(models.ARCHITECTURES)


@pytest.mark.parametrize(
    "name, expected",
    [("dense", 50_992), ("deep", 222_384), ("conv", 4_385), ("denoise", 28_353)],
)
def test_lecture_parameter_counts(name, expected):
    encoder, decoder, autoencoder = models.build(name)
    assert autoencoder.count_params() == expected
    assert encoder.count_params() + decoder.count_params() == expected


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
