"""The Keras callbacks of training: a stop request acted on between batches, the training loss after each epoch,
one progress line for a whole fit."""

from __future__ import annotations

import time

import keras
import numpy as np

from keras_ae import interrupt
from keras_ae.progress import Progress


class StopOnRequest(keras.callbacks.Callback):
    """Raise KeyboardInterrupt between batches once a stop was requested (`keras_ae.interrupt.deferred`)."""

    def on_train_batch_end(self, batch, logs=None):
        interrupt.check()

    def on_test_batch_end(self, batch, logs=None):
        interrupt.check()

    def on_epoch_end(self, epoch, logs=None):
        interrupt.check()


class StopOnNaN(keras.callbacks.Callback):
    """Stop training once a batch loss is no finite number (as Keras's TerminateOnNaN, without its printed line:
    the command says it once, in its own words), remembering the epoch (0-based): a stop in the middle of an
    epoch leaves no entry in the history, whose last loss would then look finite."""

    def __init__(self):
        super().__init__()
        self.epoch, self.diverged_at = 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            self.model.stop_training = True
            if self.diverged_at is None:
                self.diverged_at = self.epoch


class TrainLossAfterEpoch(keras.callbacks.Callback):
    """Evaluate the training loss with the weights at the end of each epoch (not averaged during it)."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset
        self.values: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        result = self.model.evaluate(self.dataset, verbose=0, return_dict=True)
        self.values.append(float(result["loss"]))


class EpochProgress(keras.callbacks.Callback):
    """One progress line for a whole fit (epoch, loss, time left; see `keras_ae.progress.Progress`): on a
    terminal it redraws itself, into a file or a pipe it is a plain line every `every` seconds."""

    def __init__(self, epochs: int, label: str = "", every: float = 10.0, early_stopping: bool = False,
                 stream=None, keys: tuple[str, ...] = ("loss", "val_loss"), scale: int = 1):
        super().__init__()
        self.keys, self.scale = keys, scale  # scale: epochs counted per Keras epoch (passes over the data)
        self.bar = Progress(epochs * scale, unit="epoch", label=label, every=every, upper_bound=early_stopping,
                            stream=stream)

    def on_train_begin(self, logs=None):
        self.bar.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        note = ", ".join(f"{key.replace('_', ' ')} {logs[key]:.4g}" for key in self.keys if key in logs)
        self.bar.update(self.scale, note)

    def on_train_end(self, logs=None):
        self.bar.close(finished=True)
