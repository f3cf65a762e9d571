"""Variational autoencoder: a `Sampling` layer and a `VAE` model with its own train_step/test_step.

Keras 3 has no symbolic ``add_loss``; the KL term is computed inside ``train_step``/``test_step``.
``beta`` is a non-trainable variable so a callback can change it during training (KL warm-up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import layers, ops

from keras_ae.models.base import Autoencoder, check_input_shape, check_positive, head_dtype, initializer_name


@keras.saving.register_keras_serializable(package="keras_ae")
class Sampling(layers.Layer):
    """Draw z = z_mean + exp(z_log_var / 2) * eps with eps ~ N(0, I) (the reparameterisation trick)."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """KL(q(z|x) || N(0, I)) per example, summed over latent dimensions."""
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def reconstruction_bce(target, reconstruction):
    """Binary cross-entropy summed over all pixels of each example (shape: batch)."""
    target = ops.cast(target, "float32")
    reconstruction = ops.clip(ops.cast(reconstruction, "float32"), 1e-7, 1.0 - 1e-7)
    bce = -(target * ops.log(reconstruction) + (1.0 - target) * ops.log(1.0 - reconstruction))
    return ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_ae")
class VAE(keras.Model):
    """Encoder -> (z_mean, z_log_var) -> Sampling -> decoder, trained on reconstruction + beta * KL.

    ``call(x)`` decodes a sample of z in training and z_mean at inference, so ``predict`` is
    deterministic. ``fit`` takes ``x`` or ``(x_in, x_target)`` pairs (denoising).
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, beta: float = 1.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.sampling = Sampling(seed=seed, name="sampling")
        self.seed = seed
        self.initial_beta = float(beta)
        self.beta = self.add_weight(
            name="beta", shape=(), initializer=keras.initializers.Constant(float(beta)),
            trainable=False, dtype="float32",
        )
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def build(self, input_shape=None):
        # The encoder and decoder are functional models, built when they were made.
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.decoder.compute_output_shape(self.encoder.compute_output_shape(input_shape)[0])

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.decoder(z, training=training)

    def _compute_losses(self, data, training: bool):
        inputs, target = (data[0], data[1]) if isinstance(data, tuple) and len(data) > 1 else (data, data)
        if isinstance(inputs, tuple):
            inputs = inputs[0]
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var])
        reconstruction = self.decoder(z, training=training)
        reconstruction_loss = ops.mean(reconstruction_bce(target, reconstruction))
        kl_loss = ops.mean(kl_divergence(z_mean, z_log_var))
        total = reconstruction_loss + ops.cast(self.beta, "float32") * kl_loss
        return total, reconstruction_loss, kl_loss

    def _track(self, total, reconstruction_loss, kl_loss):
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, reconstruction_loss, kl_loss = self._compute_losses(data, training=True)
            # Under tf.distribute each replica's gradients are summed: divide by the replica count
            # so the update is that of the global batch mean (as Keras does for compiled losses).
            # With mixed_float16 compile() wraps the optimizer in a LossScaleOptimizer.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(total / replicas)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(total, reconstruction_loss, kl_loss)

    def test_step(self, data):
        return self._track(*self._compute_losses(data, training=False))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.initial_beta,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def _dense_encoder(shape, latent_dim, hidden, activation, initializer):
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Flatten(name="flatten")(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation=activation, kernel_initializer=initializer,
                         name=f"encoder_dense_{i}")(x)
    return inputs, x


def _conv_encoder(shape, filters, dense_units, activation, initializer):
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, n in enumerate(filters):
        x = layers.Conv2D(n, 3, strides=2, padding="same", activation=activation,
                          kernel_initializer=initializer, name=f"encoder_conv_{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation=activation, kernel_initializer=initializer,
                     name="encoder_dense")(x)
    return inputs, x


def _conv_decoder(shape, latent, filters, activation, initializer, output_activation):
    height, width, channels = shape
    levels = len(filters)
    h0, w0 = -(-height // 2**levels), -(-width // 2**levels)
    y = layers.Dense(h0 * w0 * filters[-1], activation=activation, kernel_initializer=initializer,
                     name="decoder_dense")(latent)
    y = layers.Reshape((h0, w0, filters[-1]), name="decoder_reshape")(y)
    for i, n in enumerate(reversed(filters)):
        y = layers.Conv2DTranspose(n, 3, strides=2, padding="same", activation=activation,
                                   kernel_initializer=initializer, name=f"decoder_deconv_{i}")(y)
    if (h0 * 2**levels, w0 * 2**levels) != (height, width):
        y = layers.Cropping2D(((0, h0 * 2**levels - height), (0, w0 * 2**levels - width)), name="crop")(y)
    return layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                         name="reconstruction", dtype=head_dtype())(y)


def build_vae(
    input_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int = 2,
    kind: str = "dense",
    hidden: Sequence[int] = (512,),
    filters: Sequence[int] = (32, 64),
    dense_units: int = 16,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
    beta: float = 1.0,
    seed: int | None = None,
) -> Autoencoder:
    """Variational autoencoder, dense (784-512-z, the lecture's) or conv (keras-io's 32/64 stride-2 convs).

    Args:
        kind: "dense" or "conv".
        hidden: dense variant's hidden widths (the decoder mirrors them).
        filters, dense_units: conv variant's stride-2 conv filters and the dense layer before the code.
        beta: weight of the KL term; stored in the variable ``vae.beta``.
        seed: seed of the sampling layer's generator.

    Returns:
        Autoencoder(encoder -> [z_mean, z_log_var], decoder, VAE model).
    """
    shape = check_input_shape(input_shape)
    kernel_initializer = initializer_name(kernel_initializer)
    check_positive("latent_dim", latent_dim)
    if kind not in ("dense", "conv"):
        raise ValueError(f"Expected kind 'dense' or 'conv', received kind={kind!r}")
    if beta < 0:
        raise ValueError(f"Expected beta >= 0, received beta={beta}")

    if kind == "dense":
        check_positive("hidden", hidden)
        inputs, x = _dense_encoder(shape, latent_dim, hidden, activation, kernel_initializer)
    else:
        shape = check_input_shape(shape, rank=3)
        check_positive("filters", filters)
        inputs, x = _conv_encoder(shape, filters, dense_units, activation, kernel_initializer)
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype=head_dtype())(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype=head_dtype())(x)
    encoder = keras.Model(inputs, [z_mean, z_log_var], name="encoder")

    latent = keras.Input(shape=(latent_dim,), name="z")
    if kind == "dense":
        y = latent
        for i, units in enumerate(reversed(hidden)):
            y = layers.Dense(units, activation=activation, kernel_initializer=kernel_initializer,
                             name=f"decoder_dense_{i}")(y)
        y = layers.Dense(math.prod(shape), activation=output_activation, name="reconstruction",
                         dtype=head_dtype())(y)
        if len(shape) > 1:
            y = layers.Reshape(shape, name="unflatten", dtype=head_dtype())(y)
    else:
        y = _conv_decoder(shape, latent, filters, activation, kernel_initializer, output_activation)
    decoder = keras.Model(latent, y, name="decoder")

    vae = VAE(encoder, decoder, beta=beta, seed=seed, name=f"{kind}_vae")
    vae.build((None, *shape))
    return Autoencoder(encoder, decoder, vae)


def build_conv_vae(input_shape: Sequence[int] = (28, 28, 1), latent_dim: int = 2, **kwargs) -> Autoencoder:
    """Convolutional VAE (keras-io layout); same arguments as `build_vae`."""
    return build_vae(input_shape, latent_dim=latent_dim, kind="conv", **kwargs)
