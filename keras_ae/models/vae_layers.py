"""The layer stacks of the VAE builders (`keras_ae.models.vae`): dense and stride-2 conv encoders up to the
layer before the code, and the conv decoder from a code to an image."""

from __future__ import annotations

import keras
from keras import layers

from keras_ae.models.base import head_dtype


def dense_encoder(shape, latent_dim, hidden, activation, initializer):
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=activation, kernel_initializer=initializer,
                         name=f"encoder_dense_{i}")(x)
    return inputs, x


def conv_encoder(shape, filters, dense_units, activation, initializer, kernel_size=3):
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, n in enumerate(filters):
        x = layers.Conv2D(n, kernel_size, strides=2, padding="same", activation=activation,
                          kernel_initializer=initializer, name=f"encoder_conv_{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation=activation, kernel_initializer=initializer,
                     name="encoder_dense")(x)
    return inputs, x


def conv_decoder(shape, latent, filters, activation, initializer, output_activation, kernel_size=3,
                  decoder_dense=0, output_layer="conv"):
    height, width, channels = shape
    levels = len(filters)
    h0, w0 = -(-height // 2**levels), -(-width // 2**levels)
    y = latent
    if decoder_dense:
        y = layers.Dense(decoder_dense, activation=activation, kernel_initializer=initializer,
                         name="decoder_hidden")(y)
    y = layers.Dense(h0 * w0 * filters[-1], activation=activation, kernel_initializer=initializer,
                     name="decoder_dense")(y)
    y = layers.Reshape((h0, w0, filters[-1]), name="decoder_reshape")(y)
    widths = list(reversed(filters))
    if output_layer == "deconv":  # the last stride-2 layer makes the channels itself
        widths = widths[1:]
    for i, n in enumerate(widths):
        y = layers.Conv2DTranspose(n, kernel_size, strides=2, padding="same", activation=activation,
                                   kernel_initializer=initializer, name=f"decoder_deconv_{i}")(y)
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
