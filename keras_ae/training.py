"""One `fit` used by every command: seeds, a tf.data input pipeline, compile, callbacks, history."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_ae.data.noise import check_noise
from keras_ae.models.base import Autoencoder
from keras_ae.models.vae import VAE

TRAIN_EVAL_LIMIT = 10_000  # examples used for the "training loss after the epoch" curve


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; with `deterministic`, ask TensorFlow for deterministic ops."""
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def device_name() -> str:
    """'GPU: <name>' when TensorFlow sees a GPU, else 'CPU'."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU: {details.get('device_name', gpus[0].name)} x{len(gpus)}"


def _noise_fn(kind: str, amount: float, low: float, high: float, seed: int):
    """A tf.data map function that corrupts the input and keeps the clean target (fresh every epoch)."""
    check_noise(kind, amount)
    generator = tf.random.Generator.from_seed(seed)

    def corrupt(x, target):
        if kind == "gaussian":
            noisy = x + amount * generator.normal(tf.shape(x), dtype=x.dtype)
        else:
            hit = generator.uniform(tf.shape(x)) < amount
            salt = generator.uniform(tf.shape(x)) < 0.5
            noisy = tf.where(hit, tf.where(salt, high, low), x)
        return tf.clip_by_value(noisy, low, high), target

    return corrupt


def make_dataset(
    x: np.ndarray,
    target: np.ndarray | None = None,
    batch_size: int = 128,
    shuffle: bool = True,
    seed: int = 0,
    noise: tuple[str, float] | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> tf.data.Dataset:
    """Input pipeline of (input, target) batches: cache, shuffle, noise (drawn per epoch), batch, prefetch.

    Args:
        target: what the model should output; defaults to `x` (plain reconstruction).
        noise: ("gaussian" | "salt-pepper", amount) corrupts the input only.
    """
    target = x if target is None else target
    ds = tf.data.Dataset.from_tensor_slices((x, target)).cache()
    if shuffle:
        ds = ds.shuffle(min(len(x), 60_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if noise is not None and noise[1] > 0:
        ds = ds.map(_noise_fn(noise[0], noise[1], *value_range, seed), num_parallel_calls=1)
    return ds.prefetch(tf.data.AUTOTUNE)


def compile_model(model: keras.Model, loss: str = "binary_crossentropy", learning_rate: float = 1e-3,
                  jit_compile: bool | str = "auto") -> keras.Model:
    """Compile with Adam; a VAE brings its own loss, other models get `loss` and an MSE metric."""
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    if isinstance(model, VAE):
        model.compile(optimizer=optimizer, jit_compile=jit_compile)
    else:
        model.compile(optimizer=optimizer, loss=loss, metrics=[keras.metrics.MeanSquaredError(name="mse")],
                      jit_compile=jit_compile)
    return model


class TrainLossAfterEpoch(keras.callbacks.Callback):
    """Evaluate the training loss with the weights at the end of each epoch (not averaged during it)."""

    def __init__(self, dataset: tf.data.Dataset):
        super().__init__()
        self.dataset = dataset
        self.values: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        result = self.model.evaluate(self.dataset, verbose=0, return_dict=True)
        self.values.append(float(result["loss"]))


@dataclasses.dataclass
class FitResult:
    history: dict[str, list[float]]
    seconds: float
    epochs: int


def fit(
    model: Autoencoder | keras.Model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    epochs: int,
    batch_size: int = 128,
    noise: tuple[str, float] | None = None,
    seed: int = 0,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    value_range: tuple[float, float] = (0.0, 1.0),
    train_loss_after_epoch: bool = True,
) -> FitResult:
    """Train a compiled autoencoder to reconstruct its (clean) input; returns per-epoch history.

    With `noise`, inputs are corrupted afresh every epoch and the targets stay clean (denoising);
    validation inputs are corrupted once with a fixed seed so the curve is comparable across epochs.
    History holds the Keras logs plus ``train_loss_after_epoch`` when that curve is asked for.
    """
    if epochs <= 0:
        raise ValueError(f"Expected epochs > 0, received epochs={epochs}")
    net = model.autoencoder if isinstance(model, Autoencoder) else model
    train = make_dataset(x_train, batch_size=batch_size, seed=seed, noise=noise, value_range=value_range)
    val = make_dataset(x_val, batch_size=batch_size, shuffle=False, seed=seed + 1, noise=noise,
                       value_range=value_range)
    val = val.cache() if noise else val  # same corrupted validation inputs every epoch
    callbacks = list(callbacks or [])
    after = None
    if train_loss_after_epoch:
        subset = x_train[:TRAIN_EVAL_LIMIT]
        after = TrainLossAfterEpoch(make_dataset(subset, batch_size=batch_size, shuffle=False,
                                                 seed=seed + 2, noise=noise, value_range=value_range).cache())
        callbacks.append(after)
    start = time.perf_counter()
    history = net.fit(train, validation_data=val, epochs=epochs, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - start
    logs: dict[str, Any] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    if after is not None:
        logs["train_loss_after_epoch"] = after.values
    return FitResult(history=logs, seconds=seconds, epochs=len(logs.get("loss", [])))


def evaluate_reconstruction(net: keras.Model, x_in: np.ndarray, x_target: np.ndarray, batch_size: int = 256,
                            value_range: tuple[float, float] = (0.0, 1.0)) -> dict[str, float]:
    """Mean per-pixel binary cross-entropy and MSE of `net(x_in)` against `x_target`, both read in [0, 1]."""
    low, high = value_range
    recon = np.asarray(net.predict(x_in, batch_size=batch_size, verbose=0), dtype=np.float64)
    recon = (recon - low) / (high - low)
    target = (np.asarray(x_target, dtype=np.float64) - low) / (high - low)
    clipped = np.clip(recon, 1e-7, 1 - 1e-7)
    bce = -(target * np.log(clipped) + (1 - target) * np.log(1 - clipped))
    return {"bce": float(bce.mean()), "mse": float(np.mean((recon - target) ** 2))}
