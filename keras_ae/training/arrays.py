"""Batches of in-memory arrays for any Keras backend: a `keras.utils.PyDataset` (JAX, PyTorch, or TensorFlow
without tf.data), with the same contract as the tf.data pipeline: (input, target) batches, the order reshuffled
and the input noise drawn afresh every epoch, seeded; fixed noise for validation."""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_ae.data.noise import add_noise, check_noise


class ArrayBatches(keras.utils.PyDataset):
    """(input, target) batches of `x` (target: `target`, default `x`); with `noise` = (kind, amount) the inputs are
    corrupted, afresh every epoch unless `fixed_noise` (validation: the same corrupted inputs every epoch)."""

    def __init__(self, x: np.ndarray, target: np.ndarray | None = None, batch_size: int = 128, shuffle: bool = True,
                 seed: int = 0, noise: tuple[str, float] | None = None,
                 value_range: tuple[float, float] = (0.0, 1.0), fixed_noise: bool = False):
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"Expected batch_size > 0, received batch_size={batch_size}")
        if noise is not None:
            check_noise(*noise)
        self.x = np.asarray(x)
        self.target = None if target is None else np.asarray(target)
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, int(seed)
        self.noise = noise if noise is not None and noise[1] > 0 else None
        self.value_range, self.fixed_noise = value_range, fixed_noise
        self.epoch = 0
        self.order = self._order()

    def _order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        clean = self.x[rows]
        target = clean if self.target is None else self.target[rows]
        if self.noise is None:
            return clean, target
        epoch = 0 if self.fixed_noise else self.epoch
        seed = int(np.random.default_rng([self.seed, epoch, index]).integers(2**31))
        noisy = add_noise(clean, self.noise[0], self.noise[1], seed=seed, low=self.value_range[0],
                          high=self.value_range[1])
        return noisy.astype(clean.dtype, copy=False), target

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()
