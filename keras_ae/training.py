"""One `fit` used by every command: seeds, a tf.data input pipeline, compile, callbacks, history."""

from __future__ import annotations

import dataclasses
import json
import os
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
    """Seed Python, NumPy and TensorFlow; with `deterministic`, ask TensorFlow for deterministic ops.

    Without it, op determinism is switched off again (Keras will not XLA-compile while it is on).
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    else:
        from tensorflow.python.framework import config  # no public switch-off; Keras reads the same flag

        config.disable_op_determinism()


def device_name() -> str:
    """'GPU: <name>' when TensorFlow sees a GPU, else 'CPU'."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU: {details.get('device_name', gpus[0].name)} x{len(gpus)}"


def configure_gpus() -> list[str]:
    """Let TensorFlow grow GPU memory as needed (instead of taking it all); returns the GPUs it sees.

    Must run before TensorFlow initialises its devices; later calls change nothing.
    """
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # devices already initialised: keep TensorFlow's setting
            pass
    return [gpu.name for gpu in gpus]


STRATEGIES = ("auto", "mirrored", "multi-worker")


def _tf_config_workers() -> int:
    """Number of workers in the TF_CONFIG cluster (0 when TF_CONFIG is unset)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (ValueError, AttributeError):
        raise ValueError(f"TF_CONFIG is not a JSON object with a 'cluster', received {raw!r}") from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def get_strategy(name: str = "auto", devices: list[str] | None = None) -> tf.distribute.Strategy:
    """The tf.distribute strategy to build and train under.

    Args:
        name: "auto" (MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored when
            TensorFlow sees several GPUs, else the default one-device strategy), "mirrored" (every
            GPU of this machine, or `devices`), or "multi-worker" (the cluster in TF_CONFIG; one
            worker without it).
        devices: devices for "mirrored", e.g. ``["/cpu:0", "/cpu:1"]``.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
    if name == "auto":
        if _tf_config_workers() > 1:
            name = "multi-worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    _tf_config_workers()  # a malformed TF_CONFIG is reported here, not deep inside TensorFlow
    return tf.distribute.MultiWorkerMirroredStrategy()


def _noise_fn(kind: str, amount: float, low: float, high: float):
    """A tf.data map function (input, target, seed) -> (noisy input, target).

    The draws are stateless, keyed by a per-batch seed that the pipeline takes from a seeded
    `tf.data.Dataset.random` stream which changes every epoch: fresh noise each epoch, the same
    noise for the same seed, and nothing stateful for tf.data or tf.distribute to trip on.
    """
    check_noise(kind, amount)

    def corrupt(x, target, seed):
        seed = tf.cast(seed, tf.int32)
        if kind == "gaussian":
            noisy = x + amount * tf.random.stateless_normal(tf.shape(x), seed, dtype=x.dtype)
        else:
            hit_seed, salt_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
            hit = tf.random.stateless_uniform(tf.shape(x), hit_seed) < amount
            salt = tf.random.stateless_uniform(tf.shape(x), salt_seed) < 0.5
            noisy = tf.where(hit, tf.where(salt, high, low), x)
        return tf.clip_by_value(noisy, low, high), target

    return corrupt


def _batches_from_arrays(x: np.ndarray, target: np.ndarray | None, batch_size: int, shuffle: bool,
                         seed: int) -> tf.data.Dataset:
    """(input, target) batches of in-memory arrays: shuffle indices, batch them, gather the rows.

    Gathering whole batches by index is far cheaper than slicing one example at a time (the arrays
    already live in memory, so there is nothing to cache); it is also how Keras feeds NumPy arrays.
    """
    arrays = (x,) if target is None else (x, target)
    indices = tf.data.Dataset.range(len(x))
    if shuffle:
        indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    data = tf.data.Dataset.from_tensors(arrays).repeat()

    def gather(index, tensors):
        rows = tuple(tf.gather(t, index) for t in tensors)
        return (rows[0], rows[0]) if target is None else rows

    return tf.data.Dataset.zip((indices, data)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)


def _batches_from_stream(images: tf.data.Dataset, batch_size: int, shuffle: bool, seed: int,
                         cache: bool | str, shuffle_buffer: int) -> tf.data.Dataset:
    """(image, image) batches of a tf.data stream of single images: cache, shuffle, batch."""
    if cache:
        images = images.cache("" if cache is True else str(cache))
    if shuffle:
        images = images.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return images.batch(batch_size).map(lambda x: (x, x))


def make_dataset(
    x: np.ndarray | tf.data.Dataset,
    target: np.ndarray | None = None,
    batch_size: int = 128,
    shuffle: bool = True,
    seed: int = 0,
    noise: tuple[str, float] | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    cache: bool | str = False,
    shuffle_buffer: int = 10_000,
) -> tf.data.Dataset:
    """Input pipeline of (input, target) batches: (cache,) shuffle, batch, noise drawn per epoch, prefetch.

    Args:
        x: images in memory (n, ...) or a `tf.data.Dataset` of single images (streamed from files,
            tensorflow-datasets, ...).
        target: what the model should output; defaults to `x` (plain reconstruction). Arrays only.
        noise: ("gaussian" | "salt-pepper", amount) corrupts the input only, afresh every epoch.
        cache: streams only: True caches decoded images in memory after the first epoch, a path
            caches them in that file; False reads the source every epoch (data larger than memory).
        shuffle_buffer: streams only: shuffle buffer size in images (arrays are fully shuffled).
    """
    if isinstance(x, tf.data.Dataset):
        if target is not None:
            raise ValueError("target is only supported for in-memory arrays, received a tf.data.Dataset")
        ds = _batches_from_stream(x, batch_size, shuffle, seed, cache, shuffle_buffer)
    else:
        ds = _batches_from_arrays(np.asarray(x), None if target is None else np.asarray(target), batch_size,
                                  shuffle, seed)
    if noise is not None and noise[1] > 0:
        corrupt = _noise_fn(noise[0], noise[1], *value_range)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(lambda batch, pair_seed: corrupt(*batch, pair_seed),
                                                  num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    # Multi-worker training shards by batch: each worker reads the pipeline and keeps its share.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def compile_model(model: keras.Model, loss: str = "binary_crossentropy", learning_rate: float = 1e-3,
                  jit_compile: bool | str = "auto", steps_per_execution: int = 1,
                  optimizer: keras.optimizers.Optimizer | None = None) -> keras.Model:
    """Compile with Adam; a VAE brings its own loss, other models get `loss` and an MSE metric.

    Call it inside the strategy's scope (the optimizer's variables are created here).

    Args:
        jit_compile: True compiles each step with XLA; "auto" lets Keras decide (XLA on GPU only).
        steps_per_execution: training steps run per call into TensorFlow (fewer Python round trips
            for small models; progress bars and batch-level callbacks then update every N steps).
        optimizer: replaces Adam(learning_rate) when given.
    """
    optimizer = optimizer or keras.optimizers.Adam(learning_rate=learning_rate)
    if steps_per_execution <= 0:
        raise ValueError(f"Expected steps_per_execution > 0, received {steps_per_execution}")
    common = {"optimizer": optimizer, "jit_compile": jit_compile, "steps_per_execution": steps_per_execution}
    if isinstance(model, VAE):
        model.compile(**common)
    else:
        model.compile(loss=loss, metrics=[keras.metrics.MeanSquaredError(name="mse")], **common)
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


def _build_for_multi_worker(net: keras.Model, train: tf.data.Dataset) -> None:
    """Work around keras-team/keras#20585 (open): Keras 3 `fit` fails under MultiWorkerMirroredStrategy.

    Two steps of Keras's TensorFlow trainer reduce across workers in a way the collective strategy
    rejects: before the first epoch it averages one distributed batch only to learn its shapes, and
    after every step it averages the scalar logs along an axis 0 they do not have. The shapes are
    known from the dataset's element_spec, so the model's compiled state is built from them here and
    Keras's step is skipped; the per-step logs are averaged over workers without an axis.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    with net.distribute_strategy.scope():
        net._symbolic_build(data_batch=train.element_spec)
    net._maybe_symbolic_build = lambda *args, **kwargs: None
    if not getattr(tf_trainer.reduce_per_replica, "keras_ae_patch", False):
        original = tf_trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and reduction in ("auto", "mean"):
                return tf.nest.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
            return original(values, strategy, reduction)

        reduce_per_replica.keras_ae_patch = True
        tf_trainer.reduce_per_replica = reduce_per_replica


@dataclasses.dataclass
class FitResult:
    history: dict[str, list[float]]
    seconds: float
    epochs: int


def fit(
    model: Autoencoder | keras.Model,
    x_train: np.ndarray | tf.data.Dataset,
    x_val: np.ndarray,
    epochs: int,
    batch_size: int = 128,
    noise: tuple[str, float] | None = None,
    seed: int = 0,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    value_range: tuple[float, float] = (0.0, 1.0),
    train_loss_after_epoch: bool = True,
    cache: bool | str = False,
    shuffle_buffer: int = 10_000,
    shuffle: bool = True,
) -> FitResult:
    """Train a compiled autoencoder to reconstruct its (clean) input; returns per-epoch history.

    `x_train` is an array in memory or a `tf.data.Dataset` of single images (a stream; see
    `make_dataset` for `cache`, `shuffle_buffer`, `shuffle`). `batch_size` is the global batch: under a
    multi-device strategy each of the N replicas gets batch_size / N examples per step.
    With `noise`, inputs are corrupted afresh every epoch and the targets stay clean (denoising);
    validation inputs are corrupted once with a fixed seed so the curve is comparable across epochs.
    History holds the Keras logs plus ``train_loss_after_epoch`` when that curve is asked for.
    """
    if epochs <= 0:
        raise ValueError(f"Expected epochs > 0, received epochs={epochs}")
    net = model.autoencoder if isinstance(model, Autoencoder) else model
    stream = isinstance(x_train, tf.data.Dataset)
    train = make_dataset(x_train, batch_size=batch_size, shuffle=shuffle, seed=seed, noise=noise,
                         value_range=value_range, cache=cache, shuffle_buffer=shuffle_buffer)
    val = make_dataset(x_val, batch_size=batch_size, shuffle=False, seed=seed + 1, noise=noise,
                       value_range=value_range)
    val = val.cache() if noise else val  # same corrupted validation inputs every epoch
    callbacks = list(callbacks or [])
    after = None
    if train_loss_after_epoch:
        subset = x_train.take(TRAIN_EVAL_LIMIT) if stream else x_train[:TRAIN_EVAL_LIMIT]
        after = TrainLossAfterEpoch(make_dataset(subset, batch_size=batch_size, shuffle=False, seed=seed + 2,
                                                 noise=noise, value_range=value_range).cache())
        callbacks.append(after)
    if isinstance(net.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
        _build_for_multi_worker(net, train)
    start = time.perf_counter()
    # shuffle=False: the pipeline already shuffles (Keras would only warn that it ignores the flag).
    history = net.fit(train, validation_data=val, epochs=epochs, callbacks=callbacks, verbose=verbose,
                      shuffle=False)
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
