"""The VAE's loss terms, per example: KL of the posterior from N(0, I) and the summed-pixel BCE."""

from __future__ import annotations

from keras import ops


def kl_per_dimension(z_mean, z_log_var):
    """KL(q(z_d|x) || N(0, 1)) per example and latent dimension (shape: batch, dims)."""
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))


def kl_divergence(z_mean, z_log_var):
    """KL(q(z|x) || N(0, I)) per example, summed over latent dimensions."""
    return ops.sum(kl_per_dimension(z_mean, z_log_var), axis=-1)


def reconstruction_bce(target, reconstruction):
    """Binary cross-entropy summed over all pixels of each example (shape: batch)."""
    target = ops.cast(target, "float32")
    reconstruction = ops.clip(ops.cast(reconstruction, "float32"), 1e-7, 1.0 - 1e-7)
    bce = -(target * ops.log(reconstruction) + (1.0 - target) * ops.log(1.0 - reconstruction))
    return ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=-1)
