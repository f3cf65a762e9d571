"""Variational autoencoder: a `Sampling` layer and a `VAE` model with its own train_step/test_step.

Keras 3 has no symbolic ``add_loss``; the KL term is computed inside ``train_step``/``test_step``.
``beta`` is a non-trainable variable so a callback can change it during training (KL warm-up).

The steps run on TensorFlow (``tf.GradientTape``, the default backend) and on JAX (``jax.value_and_grad`` over
the model's variables, stateless, as Keras's "customizing what happens in fit() with JAX" guide does); both
compute the one loss of `VAE.losses_of`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers, ops

from keras_ae.models import arguments, base
from keras_ae.models.base import Autoencoder, check_input_shape, check_positive, check_widths, compiled, head_dtype
from keras_ae.models.vae_layers import check_conv_options, conv_decoder, conv_encoder, dense_encoder
from keras_ae.models.vae_losses import kl_per_dimension, reconstruction_bce


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


@keras.saving.register_keras_serializable(package="keras_ae")
class VAE(keras.Model):
    """Encoder -> (z_mean, z_log_var) -> Sampling -> decoder, trained on reconstruction + beta * KL.

    ``call(x)`` decodes a sample of z in training and z_mean at inference, so ``predict`` is
    deterministic. ``fit`` takes ``x``, ``(x_in, x_target)`` (denoising) or an array of image pairs
    (batch, 2, *image_shape) that share some factors (weak supervision, `keras_ae.models.weak`).
    """

    brings_own_loss = True  # compile() takes only an optimizer

    def __init__(self, encoder: keras.Model, decoder: keras.Model, beta: float = 1.0,
                 seed: int | None = None, free_bits: float = 0.0, capacity: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("beta", beta), ("free_bits", free_bits), ("capacity", capacity)):
            arguments.number(name, value, 0, arguments.FLOAT32_MAX)  # held in float32 variables
        seed = base.check_seed(seed)
        self.encoder = encoder
        self.decoder = decoder
        self.sampling = Sampling(seed=seed, name="sampling")
        self.seed = seed
        self.pair_changes: int | None = None  # factors each training pair differs in, when known (weak.py)
        self.initial_beta, self.free_bits, self.target_capacity = float(beta), float(free_bits), float(capacity)
        # Capacity (Burgess et al. 2018): the KL term is beta * |KL - C|, C raised from 0 to `capacity` nats by
        # `vae_schedules.CapacityAnnealing`; made only when asked for, so other VAEs keep their variables.
        self.capacity = self.add_weight(name="capacity", shape=(), initializer="zeros", trainable=False,
                                        dtype="float32") if capacity else None
        self.beta = self.add_weight(name="beta", shape=(), initializer=keras.initializers.Constant(float(beta)),
                                    trainable=False, dtype="float32")
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

    def losses_of(self, data, training: bool):
        """(total, reconstruction, KL) of a batch: mean summed-pixel BCE + beta * KL (free bits applied to the
        KL term of the total), the one loss both backends' steps differentiate."""
        inputs, target = (data[0], data[1]) if isinstance(data, tuple) and len(data) > 1 else (data, data)
        if isinstance(inputs, tuple):
            inputs = inputs[0]
        if target is None:  # (x, None): train_on_batch(x), fit(x) on some paths
            target = inputs
        from keras_ae.models import weak

        if weak.is_pair_batch(self, inputs):  # (batch, 2, *image): weakly supervised pairs (Ada-GVAE)
            return weak.paired_losses(self, inputs, training)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var])
        reconstruction = self.decoder(z, training=training)
        reconstruction_loss = ops.mean(reconstruction_bce(target, reconstruction))
        per_dim = ops.mean(kl_per_dimension(z_mean, z_log_var), axis=0)
        return self.total_loss(reconstruction_loss, per_dim), reconstruction_loss, ops.sum(per_dim)

    def total_loss(self, reconstruction_loss, per_dim):
        """reconstruction + beta * KL from the batch-mean KL of each dimension: each counts as at least
        `free_bits` nats (the reported KL stays the true one), and with a capacity the term is beta * |KL - C|."""
        kl_term = ops.sum(ops.maximum(per_dim, self.free_bits)) if self.free_bits else ops.sum(per_dim)
        if self.capacity is not None:
            kl_term = ops.abs(kl_term - ops.cast(self.capacity, "float32"))
        return reconstruction_loss + ops.cast(self.beta, "float32") * kl_term

    def _track(self, total, reconstruction_loss, kl_loss):
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, *args):
        """TensorFlow: ``train_step(data)``; JAX: ``train_step(state, data) -> (logs, state)``."""
        if keras.backend.backend() == "jax":
            return self._jax_train_step(*args)
        return self._tf_train_step(*args)

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            return self._jax_test_step(*args)
        return self._track(*self.losses_of(args[0], training=False))

    def _tf_train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            total, reconstruction_loss, kl_loss = self.losses_of(data, training=True)
            # Under tf.distribute each replica's gradients are summed: divide by the replica count
            # so the update is that of the global batch mean (as Keras does for compiled losses).
            # With mixed_float16 compile() wraps the optimizer in a LossScaleOptimizer.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = self.optimizer.scale_loss(total / replicas)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(total, reconstruction_loss, kl_loss)

    # ------------------------------------------------------------------ JAX: pure functions of the variables
    def _stateless_losses(self, trainable, non_trainable, data, training: bool):
        """`losses_of` with the variables' values given (the sampler's seed state and beta are non-trainable);
        returns total and (reconstruction, KL, the non-trainable values after the call)."""
        mapping = [*zip(self.trainable_variables, trainable), *zip(self.non_trainable_variables, non_trainable)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            total, reconstruction_loss, kl_loss = self.losses_of(data, training=training)
        updated = [scope.get_current_value(v) for v in self.non_trainable_variables]
        updated = [new if new is not None else old for new, old in zip(updated, non_trainable, strict=True)]
        return total, (reconstruction_loss, kl_loss, updated)

    def _stateless_track(self, metrics_variables, values):
        logs, updated, start = {}, [], 0
        for metric, value in zip(self.metrics, values, strict=True):
            own = metrics_variables[start:start + len(metric.variables)]
            own = metric.stateless_update_state(own, value)
            logs[metric.name] = metric.stateless_result(own)
            updated += own
            start += len(metric.variables)
        return logs, updated

    def _jax_train_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_variables, metrics_variables = state
        grad_fn = jax.value_and_grad(self._stateless_losses, has_aux=True)
        (total, (reconstruction_loss, kl_loss, non_trainable)), grads = grad_fn(trainable, non_trainable, data,
                                                                                 True)
        trainable, optimizer_variables = self.optimizer.stateless_apply(optimizer_variables, grads, trainable)
        logs, metrics_variables = self._stateless_track(metrics_variables, (total, reconstruction_loss, kl_loss))
        return logs, (trainable, non_trainable, optimizer_variables, metrics_variables)

    def _jax_test_step(self, state, data):
        trainable, non_trainable, metrics_variables = state
        total, (reconstruction_loss, kl_loss, non_trainable) = self._stateless_losses(trainable, non_trainable,
                                                                                      data, False)
        logs, metrics_variables = self._stateless_track(metrics_variables, (total, reconstruction_loss, kl_loss))
        return logs, (trainable, non_trainable, metrics_variables)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.initial_beta,
            "seed": self.seed,
            "free_bits": self.free_bits,
            **({"capacity": self.target_capacity} if self.target_capacity else {}),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def build_vae(
    input_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int = 2,
    kind: str = "dense",
    hidden: Sequence[int] = (512,),
    filters: Sequence[int] = (32, 64),
    dense_units: int = 16,
    kernel_size: int = 3,
    decoder_dense: int = 0,
    output_layer: str = "conv",
    normalization: str = "none",
    decoder_input: str = "dense",
    activation: str = "relu",
    output_activation: str = "sigmoid",
    kernel_initializer: str = "glorot_uniform",
    beta: float = 1.0,
    free_bits: float = 0.0,
    capacity: float = 0.0,
    seed: int | None = None,
) -> Autoencoder:
    """Variational autoencoder, dense (784-512-z, the lecture's) or conv (keras-io's 32/64 stride-2 convs).

    Args:
        kind: "dense" or "conv".
        hidden: dense variant's hidden widths (the decoder mirrors them).
        filters, dense_units: conv variant's stride-2 conv filters and the dense layer before the code.
        kernel_size: conv variant's kernel side (keras-io: 3; Burgess et al.'s 64x64 beta-VAE: 4).
        decoder_dense: conv variant: width of a dense layer between the code and the decoder's first
            feature map (0: none, keras-io's layout).
        output_layer: conv variant: "conv" (keras-io: a stride-1 3x3 conv after the last transposed conv)
            or "deconv" (the last stride-2 transposed conv makes the channels; cheaper at full size).
        normalization: conv variant: "none" or "batch" (batch normalisation before each hidden activation).
        decoder_input: conv variant: "dense" (dense layers from the code to the first feature map) or "broadcast"
            (the code tiled over a grid with its x, y coordinates, then two 3x3 convs; Watters et al. 2019).
        beta: weight of the KL term; stored in the variable ``vae.beta``.
        free_bits: each latent dimension's KL (batch mean) enters the loss as at least this many nats, so a
            dimension is not pushed onto the prior before it carries that much (Kingma et al. 2016); 0: off.
        capacity: nats of KL the code is steered to (Burgess et al. 2018): the KL term becomes
            beta * |KL - C|, C raised from 0 to `capacity` during training by
            `keras_ae.models.vae_schedules.CapacityAnnealing`; 0: off (the plain beta * KL).
        seed: seed of the sampling layer's generator.

    Returns:
        Autoencoder(encoder -> [z_mean, z_log_var], decoder, VAE model); the VAE comes compiled with Adam
        (its loss is its own), so ``vae.fit(x, epochs=...)`` works right after building.
    """
    shape = check_input_shape(input_shape)
    kernel_initializer = base.initializer_name(kernel_initializer)
    latent_dim = check_positive("latent_dim", latent_dim)
    if kind not in ("dense", "conv"):
        raise ValueError(f"Expected kind 'dense' or 'conv', received kind={kind!r}")
    arguments.number("beta", beta, 0, arguments.FLOAT32_MAX)
    if output_activation != "sigmoid":  # the loss is binary cross-entropy: unbounded below outside [0, 1]
        raise ValueError(f"Expected output_activation 'sigmoid' (a VAE's loss is binary cross-entropy on pixels in "
                         f"[0, 1]), received output_activation={output_activation!r}")
    kernel_size = check_positive("kernel_size", kernel_size)
    check_conv_options(kind, output_layer, normalization, decoder_input, filters, decoder_dense)

    if kind == "dense":
        hidden = check_widths("hidden", hidden)
        inputs, x = dense_encoder(shape, latent_dim, hidden, activation, kernel_initializer)
    else:
        shape = check_input_shape(shape, rank=3)
        filters, dense_units = check_widths("filters", filters), check_positive("dense_units", dense_units)
        inputs, x = conv_encoder(shape, filters, dense_units, activation, kernel_initializer, kernel_size,
                                 normalization, latent_dim)
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
        y = conv_decoder(shape, latent, filters, activation, kernel_initializer, output_activation, kernel_size,
                          decoder_dense, output_layer, normalization, decoder_input)
    decoder = keras.Model(latent, y, name="decoder")

    vae = VAE(encoder, decoder, beta=beta, seed=seed, free_bits=free_bits, capacity=capacity, name=f"{kind}_vae")
    vae.build((None, *shape))
    return Autoencoder(encoder, decoder, compiled(vae))


def build_conv_vae(input_shape: Sequence[int] = (28, 28, 1), latent_dim: int = 2, **kwargs) -> Autoencoder:
    """Convolutional VAE (keras-io layout); same arguments as `build_vae`."""
    return build_vae(input_shape, latent_dim=latent_dim, kind="conv", **kwargs)
