"""Schedules of a VAE's KL term during training, as Keras callbacks: `KLWarmup` raises beta from 0,
`CapacityAnnealing` raises the capacity C of a VAE built with one (Burgess et al. 2018)."""

from __future__ import annotations

import keras


class KLWarmup(keras.callbacks.Callback):
    """KL warm-up: beta rises linearly from 0 to the model's beta over the first `epochs` epochs.

    Early epochs then train almost a plain autoencoder, so the decoder learns to use every latent
    dimension before the KL term pulls the codes towards N(0, I); without it weak factors collapse to
    the prior before the decoder has learnt to draw them (Bowman et al. 2016; Sonderby et al. 2016).
    Epoch e (from 0) trains with beta * min(1, e / epochs); the model's `beta` is restored at the end.
    """

    def __init__(self, epochs: int):
        super().__init__()
        if epochs < 0:
            raise ValueError(f"Expected kl_warmup epochs >= 0, received {epochs}")
        self.epochs = int(epochs)
        self.target: float | None = None

    def on_train_begin(self, logs=None):
        self.target = float(self.model.initial_beta)

    @staticmethod
    def share(epoch: int, epochs: int) -> float:
        """The share of the model's beta that epoch `epoch` (from 0) trains with, for a warm-up of `epochs`."""
        return min(1.0, epoch / epochs) if epochs else 1.0

    def on_epoch_begin(self, epoch, logs=None):
        if self.epochs:
            self.model.beta.assign(self.target * self.share(epoch, self.epochs))

    def on_train_end(self, logs=None):
        self.model.beta.assign(self.target)


class CapacityAnnealing(keras.callbacks.Callback):
    """Capacity annealing (Burgess et al. 2018, "Understanding disentangling in beta-VAE"): the VAE's capacity C
    rises linearly from 0 to its target over the first `epochs` epochs and stays there.

    The loss beta * |KL - C| lets the code carry C nats: while KL is below C the term rewards more
    information, so factors that add little to the reconstruction (a thin mouth line) are encoded too, and
    each step up in C is spent on the factor that helps the reconstruction most, one after the other.
    Epoch e (from 0) trains with C = target * min(1, (e + 1) / epochs).
    """

    def __init__(self, epochs: int):
        super().__init__()
        if epochs < 1:
            raise ValueError(f"Expected capacity annealing epochs >= 1, received {epochs}")
        self.epochs = int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        if self.model.capacity is None:
            raise ValueError("CapacityAnnealing needs a VAE built with capacity > 0")
        self.model.capacity.assign(self.model.target_capacity * min(1.0, (epoch + 1) / self.epochs))

    def on_train_end(self, logs=None):
        self.model.capacity.assign(self.model.target_capacity)
