"""One `fit` used by every run: compile, callbacks, history; seeds and the global state a run changes.

On TensorFlow (the default backend) batches come from the tf.data pipeline (`pipeline`, also streams and
distribution strategies); on another Keras backend (JAX) from `arrays.ArrayBatches`, arrays in memory only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from keras_ae import interrupt
from keras_ae.errors import UsageError
from keras_ae.models.base import Autoencoder
from keras_ae.models.vae import VAE
from keras_ae.training.callbacks import StopOnNaN, StopOnRequest, TrainLossAfterEpoch

if TYPE_CHECKING:
    import tensorflow as tf

TRAIN_EVAL_LIMIT = 10_000  # examples used for the "training loss after the epoch" curve


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; with `deterministic`, ask TensorFlow for deterministic ops.

    Without it, op determinism is switched off again (Keras will not XLA-compile while it is on).
    """
    keras.utils.set_random_seed(int(seed))
    set_determinism(deterministic)


def on_tensorflow() -> bool:
    """Whether Keras runs on TensorFlow (the default backend: tf.data pipelines, streams, strategies)."""
    return keras.backend.backend() == "tensorflow"


def set_determinism(deterministic: bool) -> None:
    """Switch TensorFlow's op determinism on or off (Keras will not XLA-compile while it is on); nothing to do
    on another backend."""
    if not on_tensorflow():
        return
    import tensorflow as tf

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    else:
        from tensorflow.python.framework import config  # no public switch-off; Keras reads the same flag

        config.disable_op_determinism()


def _op_determinism_enabled() -> bool:
    if not on_tensorflow():
        return False
    from tensorflow.python.framework import config

    return bool(config.is_op_determinism_enabled())


@contextlib.contextmanager
def global_state(seed: int | None = None, deterministic: bool = True,
                 mixed_precision: bool | None = None) -> Iterator[None]:
    """Set the seeds, op determinism and mixed-precision policy for a run; restore them afterwards,
    also when the run fails, so a caller in the same process keeps its own settings.

    Python's and NumPy's global random states are restored too (TensorFlow's global seed cannot be read back).
    """
    policy = keras.mixed_precision.global_policy()
    determinism = _op_determinism_enabled()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        if seed is not None:
            set_seed(seed, deterministic=deterministic)
        if mixed_precision is not None:
            keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
        set_determinism(determinism)
        random.setstate(python_state)
        np.random.set_state(numpy_state)


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


def keras_verbose(verbose: int | str) -> int | str:
    """Keras's progress bar (1, "auto") on a terminal; one plain line per epoch (2) into a file or a pipe,
    where the bar's redraws would become one very long line of ANSI codes."""
    if verbose in (1, "auto") and not sys.stdout.isatty():
        return 2
    return verbose


def _build_for_multi_worker(net: keras.Model, train) -> None:
    """Work around keras-team/keras#20585 (open): Keras 3 `fit` fails under MultiWorkerMirroredStrategy.

    Two steps of Keras's TensorFlow trainer reduce across workers in a way the collective strategy
    rejects: before the first epoch it averages one distributed batch only to learn its shapes, and
    after every step it averages the scalar logs along an axis 0 they do not have. The shapes are
    known from the dataset's element_spec, so the model's compiled state is built from them here and
    Keras's step is skipped; the per-step logs are averaged over workers without an axis.
    """
    import tensorflow as tf
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
    stages: tuple[tuple[str, int], ...] | None = None  # (name, epochs run) of each stage, when training ran in stages


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
    train_eval: np.ndarray | None = None,
    refuse_divergence: str | None = "lr",
) -> FitResult:
    """Train a compiled autoencoder to reconstruct its (clean) input; returns per-epoch history.

    `x_train` is an array in memory or a `tf.data.Dataset` of single images (a stream; see
    `make_dataset` for `cache`, `shuffle_buffer`, `shuffle`). `batch_size` is the global batch: under a
    multi-device strategy each of the N replicas gets batch_size / N examples per step.
    With `noise`, inputs are corrupted afresh every epoch and the targets stay clean (denoising);
    validation inputs are corrupted once with a fixed seed so the curve is comparable across epochs.
    History holds the Keras logs plus ``train_loss_after_epoch`` when that curve is asked for, measured on
    `train_eval` when given (the single images of training pairs, so it compares with the validation loss),
    else on the first images of `x_train`. Training whose loss stops being a finite number ends at once; with
    `refuse_divergence` (the name of the caller's learning-rate option) that is a UsageError naming it, with None
    the history is returned as it is (a sweep reports the configuration as diverged).
    """
    if epochs <= 0:
        raise ValueError(f"Expected epochs > 0, received epochs={epochs}")
    net = model.autoencoder if isinstance(model, Autoencoder) else model
    stream = hasattr(x_train, "element_spec")  # a tf.data.Dataset of single images
    callbacks = list(callbacks or [])
    after = None
    if on_tensorflow():
        import tensorflow as tf

        from keras_ae.training.pipeline import make_dataset

        train = make_dataset(x_train, batch_size=batch_size, shuffle=shuffle, seed=seed, noise=noise,
                             value_range=value_range, cache=cache, shuffle_buffer=shuffle_buffer)
        val = make_dataset(x_val, batch_size=batch_size, shuffle=False, seed=seed + 1, noise=noise,
                           value_range=value_range)
        val = val.cache() if noise else val  # same corrupted validation inputs every epoch
        if train_loss_after_epoch:
            subset = x_train.take(TRAIN_EVAL_LIMIT) if stream else (x_train if train_eval is None
                                                                    else train_eval)[:TRAIN_EVAL_LIMIT]
            after = TrainLossAfterEpoch(make_dataset(subset, batch_size=batch_size, shuffle=False, seed=seed + 2,
                                                     noise=noise, value_range=value_range).cache())
        if isinstance(net.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            _build_for_multi_worker(net, train)
    else:
        from keras_ae.training.arrays import ArrayBatches

        if stream:
            raise UsageError(f"streamed training data needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                             f"Keras runs on {keras.backend.backend()}")
        train = ArrayBatches(x_train, batch_size=batch_size, shuffle=shuffle, seed=seed, noise=noise,
                             value_range=value_range)
        val = ArrayBatches(x_val, batch_size=batch_size, shuffle=False, seed=seed + 1, noise=noise,
                           value_range=value_range, fixed_noise=True)
        if train_loss_after_epoch:
            subset = (x_train if train_eval is None else train_eval)[:TRAIN_EVAL_LIMIT]
            after = TrainLossAfterEpoch(ArrayBatches(subset, batch_size=batch_size, shuffle=False,
                                                     seed=seed + 2, noise=noise, value_range=value_range,
                                                     fixed_noise=True))
    if after is not None:
        callbacks.append(after)
    start = time.perf_counter()
    # shuffle=False: the pipeline already shuffles (Keras would only warn that it ignores the flag).
    nan = StopOnNaN()
    with interrupt.deferred():  # a stop request is raised between batches, not inside TensorFlow
        history = net.fit(train, validation_data=val, epochs=epochs, callbacks=[*callbacks, StopOnRequest(), nan],
                          verbose=keras_verbose(verbose), shuffle=False)
    seconds = time.perf_counter() - start
    logs: dict[str, Any] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    if nan.diverged_at is not None:  # stopped inside an epoch, whose logs (if any) average the finite batches
        for values in logs.values():
            del values[nan.diverged_at:]
            values.extend([float("nan")] * (nan.diverged_at + 1 - len(values)))
    # an update that made the weights non-finite shows first in the validation loss (the training loss of an epoch is
    # measured before its updates): that epoch diverged too, and its loss is recorded as not a number
    for i, value in enumerate(logs.get("val_loss", [])):
        if not np.isfinite(value) and i < len(logs.get("loss", [])):
            logs["loss"][i] = float("nan")
    diverged = [i for i, v in enumerate(logs.get("loss", [])) if not np.isfinite(v)]
    if diverged and refuse_divergence:
        raise UsageError(f"training diverged: the loss is not a finite number at epoch {diverged[0] + 1}; train "
                         f"with a smaller learning rate ({refuse_divergence})")
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
