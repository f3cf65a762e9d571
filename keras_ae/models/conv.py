"""Convolutional autoencoders: the slide's 4,385-parameter model and the 32-filter denoiser."""

from __future__ import annotations

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
    conv_weights,
    head_dtype,
    initializer_name,
)


def _pooled_sizes(size: int, levels: int) -> list[int]:
    """Spatial sizes after each 2x2 'same' max-pool: 28 -> [28, 14, 7, 4]."""
    sizes = [size]
    for _ in range(levels):
        sizes.append(-(-sizes[-1] // 2))
    return sizes


def build_conv(
    input_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (16, 8, 8),
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
    name: str = "conv",
) -> Autoencoder:
    """Convolutional autoencoder: Conv-Pool per entry of `filters`, then Conv-Up mirrored, then Conv(channels).

    With the defaults this is the lecture table (4,385 parameters): Conv16-Pool-Conv8-Pool-Conv8-Pool |
    Conv8-Up-Conv8-Up-Conv16(valid, 16->14)-Up-Conv1. The decoder uses 'valid' padding exactly where
    that brings an upsampled map back to the encoder's size (16 -> 14 for 28x28 inputs), and crops
    whatever is left over, so any ``input_shape`` (e.g. 64x64x3) comes back at its own size.

    Args:
        input_shape: (height, width, channels).
        filters: encoder filters per level; the last one is the code's channel count.

    Returns:
        Autoencoder(encoder, decoder, autoencoder); the code has shape (h / 2^levels, w / 2^levels, filters[-1]).
        The autoencoder comes compiled (Adam, binary cross-entropy for a sigmoid output, else MSE).
    """
    height, width, channels = check_input_shape(input_shape, rank=3)
    kernel_initializer = initializer_name(kernel_initializer)
    filters = check_widths("filters", filters)
    kernel_size = check_positive("kernel_size", kernel_size)
    check_weights(conv_weights(kernel_size, [channels, *filters])  # the encoder, then the decoder
                  + conv_weights(kernel_size, [filters[-1], *filters[::-1], channels]),
                  f"filters={list(filters)}, kernel_size={kernel_size}, input_shape={(height, width, channels)}")
    levels = len(filters)
    heights, widths = _pooled_sizes(height, levels), _pooled_sizes(width, levels)

    def conv(n: int, padding: str, layer_name: str, act: str = activation, dtype=None) -> layers.Conv2D:
        return layers.Conv2D(
            n, kernel_size, activation=act, padding=padding,
            kernel_initializer=kernel_initializer, name=layer_name, dtype=dtype,
        )

    inputs = keras.Input(shape=(height, width, channels), name="image")
    x = inputs
    for i, n in enumerate(filters):
        x = conv(n, "same", f"encoder_conv_{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"encoder_pool_{i}")(x)
    encoder = keras.Model(inputs, x, name="encoder")

    code = keras.Input(shape=(heights[-1], widths[-1], filters[-1]), name="code_input")
    y, h, w = code, heights[-1], widths[-1]
    for i, n in enumerate(reversed(filters)):
        level = levels - i  # the encoder level whose size this conv should produce
        shrink = kernel_size - 1
        valid = i > 0 and h - shrink == heights[level] and w - shrink == widths[level]
        y = conv(n, "valid" if valid else "same", f"decoder_conv_{i}")(y)
        if valid:
            h, w = h - shrink, w - shrink
        y = layers.UpSampling2D(2, name=f"decoder_up_{i}")(y)
        h, w = 2 * h, 2 * w
    if (h, w) != (height, width):
        y = layers.Cropping2D(((0, h - height), (0, w - width)), name="crop")(y)
    y = conv(channels, "same", "reconstruction", act=output_activation, dtype=head_dtype())(y)
    decoder = keras.Model(code, y, name="decoder")

    autoencoder = compiled(keras.Model(inputs, decoder(encoder(inputs)), name=name), output_activation)
    return Autoencoder(encoder, decoder, autoencoder)


def build_denoise(
    input_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (32, 32),
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
) -> Autoencoder:
    """Denoising conv autoencoder of the lecture: Conv32-Pool-Conv32-Pool | Conv32-Up-Conv32-Up-Conv1.

    Same structure as `build_conv` with wider, shallower defaults (28,353 parameters for 28x28x1);
    train it on (noisy, clean) pairs.
    """
    return build_conv(
        input_shape,
        filters=filters,
        kernel_size=kernel_size,
        activation=activation,
        output_activation=output_activation,
        kernel_initializer=kernel_initializer,
        name="denoise",
    )
