"""Weakly supervised VAE training on pairs of images that share some of their generative factors.

Ada-GVAE (Locatello et al. 2020, "Weakly-Supervised Disentanglement Without Compromises"): each image of
a pair is encoded; the latent dimensions on which the two posteriors differ least (KL below the midpoint
of the smallest and largest per-dimension KL of the pair) are taken as shared, and both images get the
average of the two posteriors on those dimensions before sampling and decoding. Which factors differ is
never given, only that some are shared, yet it makes each factor move its own dimension.

Where the pairs are known to differ in exactly k factors (the smileys' pairs: k = 1), the k dimensions on
which the posteriors differ most are kept apart and every other one is averaged, the paper's variant for a
known k: a factor spread over several dimensions then cannot reconstruct both faces of its pairs, so it is
pushed onto one. The number is the VAE's attribute ``pair_changes`` (None: the adaptive threshold), set by
the train command from the dataset (`Dataset.pair_changes`).

A batch of pairs is an array (batch, 2, *image_shape); `VAE.losses_of` sends such batches here, single
images keep the plain ELBO, so a model trained on pairs scores and encodes one image at a time.
"""

from __future__ import annotations

from keras import ops

from keras_ae.models.vae_losses import kl_per_dimension, reconstruction_bce


def is_pair_batch(vae, inputs) -> bool:
    """True when `inputs` has one axis more than the encoder's input: (batch, 2, *image_shape)."""
    rank = inputs.shape.rank if hasattr(inputs.shape, "rank") else len(inputs.shape)  # TensorShape or tuple
    if rank is None:  # a step traced for images and then called with pairs: trace it afresh
        raise ValueError("a VAE step was called with batches of unknown rank (images and pairs through one traced "
                         "step); reset vae.train_function and vae.test_function between the two")
    return rank == len(vae.encoder.inputs[0].shape) + 1


def posterior_kl(mean_1, log_var_1, mean_2, log_var_2):
    """KL(N(mean_1, var_1) || N(mean_2, var_2)) per example and dimension."""
    return 0.5 * (ops.exp(log_var_1 - log_var_2) + ops.square(mean_2 - mean_1) / ops.exp(log_var_2) - 1.0
                  + log_var_2 - log_var_1)


def shared_mask(mean_1, log_var_1, mean_2, log_var_2, changed: int | None = None):
    """1.0 on the dimensions Ada-GVAE takes as shared (symmetric KL below the pair's midpoint), else 0.0;
    with `changed` = k, every dimension but the k of largest symmetric KL."""
    kl = 0.5 * (posterior_kl(mean_1, log_var_1, mean_2, log_var_2) + posterior_kl(mean_2, log_var_2, mean_1, log_var_1))
    kl = ops.stop_gradient(kl)
    if changed:
        return ops.cast(kl < ops.top_k(kl, changed)[0][..., -1:], mean_1.dtype)
    tau = 0.5 * (ops.max(kl, axis=-1, keepdims=True) + ops.min(kl, axis=-1, keepdims=True))
    return ops.cast(kl < tau, mean_1.dtype)


def paired_losses(vae, pairs, training: bool):
    """(total, reconstruction, KL) of a batch of pairs, per image: the two images' mean summed-pixel BCE and
    KL after averaging the shared dimensions' posteriors (means and variances, GVAE), free bits, beta and
    capacity as in `VAE.losses_of`."""
    x_1, x_2 = pairs[:, 0], pairs[:, 1]
    mean_1, log_var_1 = (ops.cast(t, "float32") for t in vae.encoder(x_1, training=training))
    mean_2, log_var_2 = (ops.cast(t, "float32") for t in vae.encoder(x_2, training=training))
    shared = shared_mask(mean_1, log_var_1, mean_2, log_var_2, vae.pair_changes)
    mean = 0.5 * (mean_1 + mean_2)
    log_var = ops.log(0.5 * (ops.exp(log_var_1) + ops.exp(log_var_2)))
    reconstruction_loss, per_dim = 0.0, 0.0
    for x, m, lv in ((x_1, mean_1, log_var_1), (x_2, mean_2, log_var_2)):
        m = shared * mean + (1.0 - shared) * m
        lv = shared * log_var + (1.0 - shared) * lv
        z = vae.sampling([m, lv])
        reconstruction_loss += 0.5 * ops.mean(reconstruction_bce(x, vae.decoder(z, training=training)))
        per_dim += 0.5 * ops.mean(kl_per_dimension(m, lv), axis=0)
    return vae.total_loss(reconstruction_loss, per_dim), reconstruction_loss, ops.sum(per_dim)
