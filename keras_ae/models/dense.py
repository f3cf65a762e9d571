"""Dense autoencoders: the single-layer slide model (50,992 parameters) and the deep one (222,384)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

from keras_ae.models.base import (
    Autoencoder,
    check_input_shape,
    check_positive,
    check_weights,
    check_widths,
    compiled,
    dense_weights,
    head_dtype,
    initializer_name,
)


def build_dense(
    input_shape: Sequence[int] = (784,),
    latent_dim: int = 32,
    hidden: Sequence[int] = (),
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
    name: str = "dense",
    code_activation: str | None = None,
) -> Autoencoder:
    """Dense autoencoder: input -> hidden... -> latent_dim -> ...hidden reversed -> input.

    With the defaults this is the lecture's single-layer model, 784 -> 32 -> 784 (50,992 parameters).
    Images of any shape are flattened on the way in and reshaped on the way out.

    Args:
        input_shape: shape of one example, e.g. ``(784,)`` or ``(28, 28, 1)``.
        latent_dim: size of the code.
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
        activation, output_activation, kernel_initializer: as in `keras.layers.Dense` (the initializer
            also takes the lecture's short names "uniform", "glorot", "he").
        code_activation: activation of the code layer (default: `activation`).

    Returns:
        Autoencoder(encoder, decoder, autoencoder); the autoencoder comes compiled (Adam, binary
        cross-entropy for a sigmoid output, else MSE: see `keras_ae.models.base.compiled`).
    """
    shape = check_input_shape(input_shape)
    latent_dim = check_positive("latent_dim", latent_dim)
    hidden = check_widths("hidden", hidden, empty=True)  # empty: no hidden layer
    size = math.prod(shape)
    check_weights(dense_weights([size, *hidden, latent_dim, *hidden[::-1], size]),
                  f"input_shape={shape}, hidden={list(hidden)}, latent_dim={latent_dim}")
    kernel_initializer = initializer_name(kernel_initializer)

    def dense(units: int, act: str, layer_name: str, dtype=None) -> layers.Dense:
        return layers.Dense(units, activation=act, kernel_initializer=kernel_initializer, name=layer_name,
                            dtype=dtype)

    inputs = keras.Input(shape=shape, name="image")
    x = layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden):
        x = dense(units, activation, f"encoder_dense_{i}")(x)
    code = dense(latent_dim, activation if code_activation is None else code_activation, "code")(x)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input(shape=(latent_dim,), name="code_input")
    y = latent
    for i, units in enumerate(reversed(hidden)):
        y = dense(units, activation, f"decoder_dense_{i}")(y)
    y = dense(size, output_activation, "reconstruction", dtype=head_dtype())(y)
    if len(shape) > 1:
        y = layers.Reshape(shape, name="unflatten", dtype=head_dtype())(y)
    decoder = keras.Model(latent, y, name="decoder")

    autoencoder = compiled(keras.Model(inputs, decoder(encoder(inputs)), name=name), output_activation)
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


def build_font(
    input_shape: Sequence[int] = (35,),
    latent_dim: int = 2,
    hidden: Sequence[int] = (25, 10),
    activation: str = "tanh",
    code_activation: str = "linear",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
) -> Autoencoder:
    """The 5x7 character exercise's dense 35-25-10-2-10-25-35 autoencoder (tanh, linear code, sigmoid out).

    The code layer is linear: with only two code units a saturating or dead code (tanh, relu) crowds
    32 characters into a corner of the plane.
    """
    return build_dense(input_shape, latent_dim=latent_dim, hidden=hidden, activation=activation,
                       output_activation=output_activation, kernel_initializer=kernel_initializer, name="font",
                       code_activation=code_activation)
