"""Weakly supervised pairs (Ada-GVAE): which dimensions a pair shares, the pair loss, training on pairs."""

import numpy as np
import pytest
from keras import ops

from keras_ae.data import smileys
from keras_ae.models import weak
from keras_ae.models.vae import build_vae


def test_smiley_pairs_differ_in_exactly_one_factor_each_factor_about_as_often():
    images, factors = smileys.make_pairs(400, seed=2)
    again, _ = smileys.make_pairs(400, seed=2)
    assert images.shape == (400, 2, 64, 64, 3) and factors.shape == (400, 2, 4)
    np.testing.assert_array_equal(images, again)
    changed = factors[:, 0] != factors[:, 1]
    assert (changed.sum(axis=1) == 1).all()
    counts = np.bincount(np.argmax(changed, axis=1), minlength=4)
    assert counts.min() > 70, counts  # 100 expected per factor
    np.testing.assert_array_equal(images[:, 0], smileys.draw(factors[:, 0]))
    np.testing.assert_array_equal(images[:, 1], smileys.draw(factors[:, 1]))


def test_shared_mask_keeps_apart_only_the_dimensions_that_differ():
    mean_1 = np.zeros((2, 4), np.float32)
    mean_2 = np.array([[0, 0, 3, 0], [2, 0.1, 0, 2]], np.float32)
    log_var = np.zeros((2, 4), np.float32)
    mask = ops.convert_to_numpy(weak.shared_mask(mean_1, log_var, mean_2, log_var))
    np.testing.assert_array_equal(mask, [[1, 1, 0, 1], [0, 1, 1, 0]])
    kl = ops.convert_to_numpy(weak.posterior_kl(mean_1, log_var, mean_2, log_var))
    np.testing.assert_allclose(kl[0], [0, 0, 4.5, 0])  # (m2 - m1)^2 / 2 with unit variances


def test_with_a_known_number_of_changes_only_the_most_different_dimensions_stay_apart():
    mean_1 = np.zeros((2, 4), np.float32)
    mean_2 = np.array([[0.5, 0.4, 3, 0], [2, 0.1, 0, 1.9]], np.float32)
    log_var = np.zeros((2, 4), np.float32)
    adaptive = ops.convert_to_numpy(weak.shared_mask(mean_1, log_var, mean_2, log_var))
    np.testing.assert_array_equal(adaptive, [[1, 1, 0, 1], [0, 1, 1, 0]])  # row 2: two dims above the midpoint
    one = ops.convert_to_numpy(weak.shared_mask(mean_1, log_var, mean_2, log_var, changed=1))
    np.testing.assert_array_equal(one, [[1, 1, 0, 1], [0, 1, 1, 1]])  # row 2: only the largest kept apart
    two = ops.convert_to_numpy(weak.shared_mask(mean_1, log_var, mean_2, log_var, changed=2))
    np.testing.assert_array_equal(two, [[0, 1, 0, 1], [0, 1, 1, 0]])


def test_the_pair_loss_follows_the_vaes_pair_changes():
    bundle = build_vae((6, 6, 1), latent_dim=4, hidden=(16,), seed=0)
    vae = bundle.autoencoder
    pairs = np.random.default_rng(1).random((8, 2, 6, 6, 1)).astype("float32")
    losses, state = {}, ops.convert_to_numpy(vae.sampling.seed_generator.state)
    for changes in (None, 1, 3):
        vae.pair_changes = changes
        vae.sampling.seed_generator.state.assign(state)  # the same noise for each setting
        losses[changes] = float(vae.losses_of((pairs, pairs), training=False)[1])
    assert losses[1] != pytest.approx(losses[3], rel=1e-6)  # more dimensions averaged: a different reconstruction
    vae.pair_changes = 1
    vae.sampling.seed_generator.state.assign(state)
    assert float(vae.losses_of((pairs, pairs), training=False)[1]) == pytest.approx(losses[1], rel=1e-6)


def test_the_smileys_dataset_declares_one_change_per_pair_and_none_without_pairs():
    assert smileys.load_smileys(train_size=8, test_size=4).pair_changes == 1
    assert smileys.load_smileys(train_size=8, test_size=4, pairs=False).pair_changes is None


def test_a_batch_of_pairs_trains_the_vae_and_single_images_keep_the_elbo():
    bundle = build_vae((6, 6, 1), latent_dim=3, hidden=(16,), seed=0)
    vae = bundle.autoencoder
    rng = np.random.default_rng(0)
    pairs = rng.random((8, 2, 6, 6, 1)).astype("float32")
    assert weak.is_pair_batch(vae, pairs) and not weak.is_pair_batch(vae, pairs[:, 0])
    total, reconstruction, kl = (float(v) for v in vae.losses_of((pairs, pairs), training=True))
    assert np.isfinite([total, reconstruction, kl]).all() and reconstruction > 0 and kl >= 0
    single = vae.losses_of((pairs[:, 0], pairs[:, 0]), training=True)
    assert float(single[1]) != pytest.approx(reconstruction, rel=1e-6)  # a different loss, not the ELBO of x_1
    history = vae.fit(pairs, epochs=3, batch_size=4, verbose=0).history
    assert len(history["loss"]) == 3 and np.isfinite(history["loss"]).all()
    assert vae.predict(pairs[:, 0], verbose=0).shape == (8, 6, 6, 1)  # still one image at a time after
