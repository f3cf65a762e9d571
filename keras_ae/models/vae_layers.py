"""The layer stacks of the VAE builders (`keras_ae.models.vae`): dense and stride-2 conv encoders up to the
layer before the code, and the conv decoder from a code to an image."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from keras_ae.models.base import check_weights, conv_weights, dense_weights, head_dtype

NORMALIZATIONS = ("none", "batch")
DECODER_INPUTS = ("dense", "broadcast")


def check_normalization(normalization, kind: str) -> None:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"Expected normalization one of {', '.join(NORMALIZATIONS)}, received "
                         f"normalization={normalization!r}")
    if normalization != "none" and kind != "conv":
        raise ValueError(f"normalization={normalization!r} is an option of the conv VAE only")


def check_conv_options(kind: str, output_layer, normalization, decoder_input, filters, decoder_dense) -> None:
    """The conv-layout options of `build_vae`, each refused with a ValueError that names it."""
    if output_layer not in ("conv", "deconv"):
        raise ValueError(f"Expected output_layer 'conv' or 'deconv', received output_layer={output_layer!r}")
    check_normalization(normalization, kind)
    if isinstance(decoder_dense, bool) or not isinstance(decoder_dense, (int, np.integer)) or decoder_dense < 0:
        raise ValueError(f"Expected decoder_dense to be an integer >= 0 (0: no such layer), received "
                         f"decoder_dense={decoder_dense!r}")
    check_decoder_input(decoder_input, kind, filters, decoder_dense)


def _linear_then_act(layer_class, x, activation, normalization, name, **options):
    """`layer_class(...)(x)` with `activation`; with batch normalisation the layer has no bias and the
    normalisation sits between it and the activation (the layer names of "none" are kept for saved models)."""
    if normalization != "batch":
        return layer_class(activation=activation, name=name, **options)(x)
    x = layer_class(activation=None, use_bias=False, name=name, **options)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation(activation, name=f"{name}_act")(x)


def dense_encoder(shape, latent_dim, hidden, activation, initializer):
    size = int(np.prod(shape))  # the whole VAE's weights (encoder, both heads, decoder), checked before building
    check_weights(dense_weights([size, *hidden]) + 2 * dense_weights([hidden[-1], latent_dim])
                  + dense_weights([latent_dim, *hidden[::-1], size]),
                  f"input_shape={shape}, hidden={list(hidden)}, latent_dim={latent_dim}")
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=activation, kernel_initializer=initializer,
                         name=f"encoder_dense_{i}")(x)
    return inputs, x


def conv_encoder(shape, filters, dense_units, activation, initializer, kernel_size=3, normalization="none",
                 latent_dim=2):
    smallest = int(np.prod([-(-side // 2 ** len(filters)) for side in shape[:2]])) * filters[-1]
    check_weights(2 * conv_weights(kernel_size, [shape[2], *filters])  # the whole VAE (decoder as the encoder), about
                  + dense_weights([smallest, dense_units, 2 * latent_dim]) + dense_weights([latent_dim, smallest]),
                  f"input_shape={shape}, filters={list(filters)}, dense_units={dense_units}, latent_dim={latent_dim}, "
                  f"kernel_size={kernel_size}")
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
                  decoder_dense=0, output_layer="conv", normalization="none", decoder_input="dense"):
    """Code -> image: dense layers to the smallest feature map ("dense", keras-io) or the code broadcast over
    the next larger grid with its coordinates and two 3x3 convs ("broadcast"), then stride-2 transposed convs."""
    height, width, channels = shape
    levels = len(filters)
    h0, w0 = -(-height // 2**levels), -(-width // 2**levels)
    widths = list(reversed(filters))
    if decoder_input == "broadcast":  # one level fewer to upsample: the grid is already 2 x (h0, w0)
        y = SpatialBroadcast(2 * h0, 2 * w0, name="decoder_broadcast")(latent)
        for i in range(2):
            y = _linear_then_act(layers.Conv2D, y, activation, normalization, f"decoder_broadcast_conv_{i}",
                                 filters=filters[-1], kernel_size=3, padding="same", kernel_initializer=initializer)
        widths = widths[1:]
    else:
        y = latent
        if decoder_dense:
            y = _linear_then_act(layers.Dense, y, activation, normalization, "decoder_hidden", units=decoder_dense,
                                 kernel_initializer=initializer)
        y = _linear_then_act(layers.Dense, y, activation, normalization, "decoder_dense",
                             units=h0 * w0 * filters[-1], kernel_initializer=initializer)
        y = layers.Reshape((h0, w0, filters[-1]), name="decoder_reshape")(y)
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


def check_decoder_input(decoder_input, kind: str, filters, decoder_dense) -> None:
    if decoder_input not in DECODER_INPUTS:
        raise ValueError(f"Expected decoder_input one of {', '.join(DECODER_INPUTS)}, received "
                         f"decoder_input={decoder_input!r}")
    if decoder_input == "broadcast":
        if kind != "conv":
            raise ValueError("decoder_input='broadcast' is an option of the conv VAE only")
        if not hasattr(filters, "__len__") or len(filters) < 2:
            raise ValueError(f"decoder_input='broadcast' needs at least 2 conv levels, received filters={filters!r}")
        if decoder_dense:
            raise ValueError("decoder_input='broadcast' takes no decoder_dense layer (the code is tiled, not "
                             f"projected), received decoder_dense={decoder_dense!r}")


@keras.saving.register_keras_serializable(package="keras_ae")
class SpatialBroadcast(layers.Layer):
    """(batch, d) codes -> (batch, height, width, d + 2): each code tiled over the grid, with the grid's x and y
    coordinates in [-1, 1] as two more channels (the spatial broadcast decoder, Watters et al. 2019)."""

    def __init__(self, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, z):
        batch = ops.shape(z)[0]
        tiled = ops.tile(ops.reshape(z, (-1, 1, 1, ops.shape(z)[-1])), (1, self.height, self.width, 1))
        yy, xx = ops.meshgrid(ops.linspace(-1.0, 1.0, self.height), ops.linspace(-1.0, 1.0, self.width),
                              indexing="ij")
        grid = ops.cast(ops.stack([xx, yy], axis=-1)[None], tiled.dtype)
        return ops.concatenate([tiled, ops.tile(grid, (batch, 1, 1, 1))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1] + 2)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
