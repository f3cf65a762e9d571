"""The layer stacks of the VAE builders (`keras_ae.models.vae`): dense and stride-2 conv encoders up to the
layer before the code, and the conv decoder from a code to an image."""

from __future__ import annotations

import keras
from keras import layers

from keras_ae.models.base import head_dtype

NORMALIZATIONS = ("none", "batch")


def check_normalization(normalization, kind: str) -> None:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"Expected normalization one of {', '.join(NORMALIZATIONS)}, received "
                         f"normalization={normalization!r}")
    if normalization != "none" and kind != "conv":
        raise ValueError(f"normalization={normalization!r} is an option of the conv VAE only")


def _linear_then_act(layer_class, x, activation, normalization, name, **options):
    """`layer_class(...)(x)` with `activation`; with batch normalisation the layer has no bias and the
    normalisation sits between it and the activation (the layer names of "none" are kept for saved models)."""
    if normalization != "batch":
        return layer_class(activation=activation, name=name, **options)(x)
    x = layer_class(activation=None, use_bias=False, name=name, **options)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation(activation, name=f"{name}_act")(x)


def dense_encoder(shape, latent_dim, hidden, activation, initializer):
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=activation, kernel_initializer=initializer,
                         name=f"encoder_dense_{i}")(x)
    return inputs, x


def conv_encoder(shape, filters, dense_units, activation, initializer, kernel_size=3, normalization="none"):
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, n in enumerate(filters):
        x = _linear_then_act(layers.Conv2D, x, activation, normalization, f"encoder_conv_{i}", filters=n,
                             kernel_size=kernel_size, strides=2, padding="same", kernel_initializer=initializer)
    x = layers.Flatten(name="flatten")(x)
    x = _linear_then_act(layers.Dense, x, activation, normalization, "encoder_dense", units=dense_units,
                         kernel_initializer=initializer)
    return inputs, x


def conv_decoder(shape, latent, filters, activation, initializer, output_activation, kernel_size=3,
                  decoder_dense=0, output_layer="conv", normalization="none"):
    height, width, channels = shape
    levels = len(filters)
    h0, w0 = -(-height // 2**levels), -(-width // 2**levels)
    y = latent
    if decoder_dense:
        y = _linear_then_act(layers.Dense, y, activation, normalization, "decoder_hidden", units=decoder_dense,
                             kernel_initializer=initializer)
    y = _linear_then_act(layers.Dense, y, activation, normalization, "decoder_dense", units=h0 * w0 * filters[-1],
                         kernel_initializer=initializer)
    y = layers.Reshape((h0, w0, filters[-1]), name="decoder_reshape")(y)
    widths = list(reversed(filters))
    if output_layer == "deconv":  # the last stride-2 layer makes the channels itself
        widths = widths[1:]
    for i, n in enumerate(widths):
        y = _linear_then_act(layers.Conv2DTranspose, y, activation, normalization, f"decoder_deconv_{i}", filters=n,
                             kernel_size=kernel_size, strides=2, padding="same", kernel_initializer=initializer)
    crop = (h0 * 2**levels - height, w0 * 2**levels - width)
    last = output_layer == "deconv"  # the stride-2 layer makes the image; otherwise a 3x3 conv after the crop
    if last:
        y = layers.Conv2DTranspose(channels, kernel_size, strides=2, padding="same", activation=output_activation,
                                   name="decoder_output" if any(crop) else "reconstruction", dtype=head_dtype())(y)
    if any(crop):
        y = layers.Cropping2D(((0, crop[0]), (0, crop[1])), name="reconstruction" if last else "crop",
                              dtype=head_dtype() if last else None)(y)
    if not last:
        y = layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                          name="reconstruction", dtype=head_dtype())(y)
    return y
