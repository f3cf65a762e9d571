"""Every builder's model can be fitted right after building, as a student writes it in a notebook."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from keras_ae import build_conv, build_deep, build_denoise, build_dense, build_vae


@pytest.mark.parametrize("builder, flat", [(build_dense, True), (build_deep, True), (build_conv, False),
                                           (build_denoise, False)])
def test_autoencoder_fits_without_compile(builder, flat):
    x = np.random.default_rng(0).random((32, 784 if flat else 28, *(() if flat else (28, 1)))).astype("float32")
    _, _, autoencoder = builder()
    assert autoencoder.loss == "binary_crossentropy"  # pixels in [0, 1]: the lecture's loss
    history = autoencoder.fit(x, x, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_linear_output_gets_mse():
    assert build_dense(input_shape=(30,), latent_dim=7, output_activation="linear").autoencoder.loss == "mse"


def test_vae_fits_without_compile():
    x = np.random.default_rng(0).random((32, 28, 28, 1)).astype("float32")
    history = build_vae().autoencoder.fit(x, epochs=1, batch_size=16, verbose=0)
    assert {"loss", "kl_loss", "reconstruction_loss"} <= set(history.history)
    assert np.isfinite(history.history["loss"][0])


def test_recompiling_replaces_the_default():
    _, _, autoencoder = build_dense()
    autoencoder.compile(optimizer="sgd", loss="mse")
    assert autoencoder.loss == "mse"
