"""Capacity annealing (Burgess et al. 2018): the KL term beta * |KL - C| and the callback that raises C."""

import keras
import numpy as np
import pytest

from keras_ae.models.vae import build_vae
from keras_ae.models.vae_schedules import CapacityAnnealing


def test_capacity_turns_the_kl_term_into_a_distance_from_c():
    plain = build_vae((4, 4, 1), latent_dim=2, hidden=(8,), seed=0, beta=3.0).autoencoder
    assert plain.capacity is None and "capacity" not in [v.name for v in plain.non_trainable_variables]
    vae = build_vae((4, 4, 1), latent_dim=2, hidden=(8,), seed=0, beta=3.0, capacity=25.0).autoencoder
    x = np.random.default_rng(0).random((16, 4, 4, 1)).astype("float32")
    vae.capacity.assign(10.0)
    total, reconstruction, kl = (float(v) for v in vae.losses_of((x, x), training=False))
    assert total == pytest.approx(reconstruction + 3.0 * abs(kl - 10.0), rel=1e-5)
    assert kl < 10.0  # a fresh model carries little: below C the term rewards more information


def test_capacity_annealing_raises_c_linearly_to_the_target_and_keeps_it(tmp_path):
    vae = build_vae((4, 4, 1), latent_dim=2, hidden=(8,), seed=0, capacity=20.0).autoencoder
    seen = []

    class Record(keras.callbacks.Callback):  # reads C at each epoch's start, after CapacityAnnealing set it
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(self.model.capacity.numpy()))

    x = np.random.default_rng(0).random((8, 4, 4, 1)).astype("float32")
    vae.fit(x, epochs=6, batch_size=4, verbose=0, callbacks=[CapacityAnnealing(4), Record()])
    assert seen == pytest.approx([5.0, 10.0, 15.0, 20.0, 20.0, 20.0])
    path = tmp_path / "vae.keras"
    vae.save(path)
    again = keras.models.load_model(path)
    assert again.target_capacity == 20.0 and float(again.capacity.numpy()) == 20.0
    with pytest.raises(ValueError, match="capacity > 0"):
        build_vae((4, 4, 1), latent_dim=2, hidden=(8,)).autoencoder.fit(
            x, epochs=1, verbose=0, callbacks=[CapacityAnnealing(2)])
    with pytest.raises(ValueError, match=r"capacity to be a finite number in \[0, 3\.4e\+38\]"):
        build_vae((4, 4, 1), latent_dim=2, hidden=(8,), capacity=-1.0)


def test_a_warm_up_as_long_as_the_training_is_told():
    from keras_ae.runs.train_vae import warmup_note

    assert warmup_note(0, 1, 32.0) is None and warmup_note(5, 20, 32.0) is None and warmup_note(5, 6, 32.0) is None
    # epoch e trains with beta * e / 5: with 5 epochs the last (e = 4) has 4/5 of beta, with 1 epoch none of it
    assert "the last trains with beta 25.6 of 32" in warmup_note(5, 5, 32.0)
    assert "the last trains with beta 0 of 32" in warmup_note(5, 1, 32.0)
