"""Dense autoencoders: the single-layer slide model (50,992 parameters) and the deep one (222,384)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

from keras_ae.models.base import Autoencoder, check_input_shape, check_positive, head_dtype


def build_dense(
    input_shape: Sequence[int] = (784,),
    latent_dim: int = 32,
    hidden: Sequence[int] = (),
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
    name: str = "dense",
) -> Autoencoder:
    """Dense autoencoder: input -> hidden... -> latent_dim -> ...hidden reversed -> input.

    With the defaults this is the lecture's single-layer model, 784 -> 32 -> 784 (50,992 parameters).
    Images of any shape are flattened on the way in and reshaped on the way out.

    Args:
        input_shape: shape of one example, e.g. ``(784,)`` or ``(28, 28, 1)``.
        latent_dim: size of the code.
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
        activation, output_activation, kernel_initializer: as in `keras.layers.Dense`.

    Returns:
        Autoencoder(encoder, decoder, autoencoder).
    """
    shape = check_input_shape(input_shape)
    check_positive("latent_dim", latent_dim)
    if hidden:
        check_positive("hidden", hidden)
    size = math.prod(shape)

    def dense(units: int, act: str, layer_name: str, dtype=None) -> layers.Dense:
        return layers.Dense(units, activation=act, kernel_initializer=kernel_initializer, name=layer_name,
                            dtype=dtype)

    inputs = keras.Input(shape=shape, name="image")
    x = layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden):
        x = dense(units, activation, f"encoder_dense_{i}")(x)
    code = dense(latent_dim, activation, "code")(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input(shape=(latent_dim,), name="code_input")
    y = latent
    for i, units in enumerate(reversed(hidden)):
        y = dense(units, activation, f"decoder_dense_{i}")(y)
    y = dense(size, output_activation, "reconstruction", dtype=head_dtype())(y)
    if len(shape) > 1:
        y = layers.Reshape(shape, name="unflatten", dtype=head_dtype())(y)
    decoder = keras.Model(latent, y, name="decoder")

    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    return Autoencoder(encoder, decoder, autoencoder)


def build_deep(
    input_shape: Sequence[int] = (784,),
    latent_dim: int = 32,
    hidden: Sequence[int] = (128, 64),
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
) -> Autoencoder:
    """Deep dense autoencoder, lecture defaults 784-128-64-32-64-128-784 (222,384 parameters)."""
    return build_dense(
        input_shape,
        latent_dim=latent_dim,
        hidden=hidden,
        activation=activation,
        output_activation=output_activation,
        kernel_initializer=kernel_initializer,
        name="deep",
    )
