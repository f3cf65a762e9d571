"""The 5x7 character exercise: train a small dense autoencoder until every glyph comes back (almost) exact.

The lecture's criterion is per character: threshold the output at 0.5 and count the pixels that differ
from the glyph; training stops once no character has more than `max_wrong` wrong pixels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np

from keras_ae import training
from keras_ae.data.noise import salt_and_pepper
from keras_ae.models.base import Autoencoder
from keras_ae.models.dense import build_font


def pixel_errors(reconstruction: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Wrong pixels per example: (reconstruction > threshold) != (target > threshold), counted per row."""
    recon = np.asarray(reconstruction).reshape(len(reconstruction), -1) > threshold
    truth = np.asarray(target).reshape(len(target), -1) > threshold
    return (recon != truth).sum(axis=1)


class StopWhenReconstructed(keras.callbacks.Callback):
    """Stop training once every example has at most `max_wrong` wrong pixels (checked every `every` epochs).

    ``reached_epoch`` is the first checked epoch (1-based) that met the criterion, or None.
    """

    def __init__(self, x: np.ndarray, max_wrong: int = 1, every: int = 10, report_every: int = 0,
                 epoch_scale: int = 1):
        super().__init__()
        self.epoch_scale = epoch_scale  # passes over the data per Keras epoch
        self.x = np.asarray(x, dtype=np.float32)
        self.max_wrong = max_wrong
        self.every = max(1, every)
        self.report_every = report_every
        self.reached_epoch: int | None = None
        self.last_errors: np.ndarray | None = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        done = (epoch + 1) * self.epoch_scale
        errors = pixel_errors(np.asarray(self.model(self.x, training=False)), self.x)
        self.last_errors = errors
        if logs is not None:  # for a progress display after this callback
            logs["worst_wrong_pixels"] = int(errors.max())
        if self.report_every and (epoch + 1) % self.report_every == 0:
            print(f"epoch {done}: loss {logs.get('loss', float('nan')):.4f}, wrong pixels: "
                  f"total {int(errors.sum())}, worst character {int(errors.max())}", flush=True)
        if errors.max() <= self.max_wrong:
            self.reached_epoch = done
            self.model.stop_training = True


@dataclasses.dataclass
class FontFit:
    model: Autoencoder
    history: dict[str, list[float]]
    epochs: int
    reached_epoch: int | None
    seconds: float


def build_font_autoencoder(hidden: Sequence[int] = (25, 10), latent_dim: int = 2, activation: str = "tanh",
                           initializer: str = "glorot", code_activation: str = "linear",
                           input_size: int = 35) -> Autoencoder:
    """The lecture's dense 35-25-10-2-10-25-35 autoencoder (`keras_ae.models.dense.build_font`), layers
    configurable, with the exercise's argument names."""
    return build_font(input_shape=(input_size,), latent_dim=latent_dim, hidden=hidden, activation=activation,
                      code_activation=code_activation, kernel_initializer=initializer)


def passes_in_an_epoch(max_epochs: int, passes_per_epoch: int = 10) -> int:
    """Passes over the glyphs in one Keras epoch: `passes_per_epoch`, or `max_epochs` when that is smaller."""
    return max(1, min(int(passes_per_epoch), int(max_epochs)))


def epoch_cap(max_epochs: int, passes_per_epoch: int = 10) -> int:
    """The passes `train_until_reconstructed` runs at most: `max_epochs` rounded up to whole Keras epochs."""
    passes = passes_in_an_epoch(max_epochs, passes_per_epoch)
    return -(-max_epochs // passes) * passes


def train_until_reconstructed(x: np.ndarray, model: Autoencoder, max_epochs: int = 20000, max_wrong: int = 1,
                              learning_rate: float = 0.003, batch_size: int = 8, seed: int = 0,
                              passes_per_epoch: int = 10, report_every: int = 0, progress: bool = False) -> FontFit:
    """Adam on the glyphs until every one has <= `max_wrong` wrong pixels or `max_epochs` pass.

    An epoch here is one pass over the glyphs, as in the lecture. To keep Keras's per-epoch overhead
    small, one Keras epoch holds `passes_per_epoch` shuffled copies of the font, and the criterion is
    checked after each of them, so epoch counts come in multiples of `passes_per_epoch` (of `max_epochs` when
    that is smaller), and the cap is `epoch_cap`.
    `progress`: one progress line on stderr (epochs, loss, worst character, time left at most).
    """
    training.compile_model(model.autoencoder, loss="binary_crossentropy", learning_rate=learning_rate)
    passes = passes_in_an_epoch(max_epochs, passes_per_epoch)
    stop = StopWhenReconstructed(x, max_wrong=max_wrong, every=1,
                                 report_every=max(1, report_every // passes) if report_every else 0,
                                 epoch_scale=passes)
    epochs = -(-max_epochs // passes)
    callbacks = [stop]
    if progress:
        callbacks.append(training.EpochProgress(epochs, label="training: ", early_stopping=True, scale=passes,
                                                keys=("loss", "worst_wrong_pixels")))
    result = training.fit(model, np.tile(x, (passes, 1)), x, epochs=epochs,
                          batch_size=batch_size, seed=seed, callbacks=callbacks, verbose=0,
                          train_loss_after_epoch=False)
    return FontFit(model, result.history, result.epochs * passes, stop.reached_epoch, result.seconds)


def train_denoiser(x: np.ndarray, model: Autoencoder, fraction: float, epochs: int = 300, copies: int = 16,
                   learning_rate: float = 0.01, seed: int = 0, progress: bool = False) -> FontFit:
    """Train on salt-and-pepper corrupted glyphs (fresh noise every epoch) to output the clean glyphs.

    Each epoch sees `copies` noisy versions of every glyph, in mini-batches of the font's size.
    """
    training.compile_model(model.autoencoder, loss="binary_crossentropy", learning_rate=learning_rate)
    repeated = np.tile(x, (copies, 1))
    callbacks = [training.EpochProgress(epochs, label=f"denoiser {fraction:.0%}: ")] if progress else []
    result = training.fit(model, repeated, x, epochs=epochs, batch_size=len(x), seed=seed, callbacks=callbacks,
                          noise=("salt-pepper", fraction), verbose=0, train_loss_after_epoch=False)
    return FontFit(model, result.history, result.epochs, None, result.seconds)


def denoising_errors(model: Autoencoder, x: np.ndarray, fraction: float, draws: int = 20,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Mean wrong pixels per glyph over `draws` noisy versions: of the noisy input and of the output."""
    noisy_errors, output_errors = [], []
    for k in range(draws):
        noisy = salt_and_pepper(x, fraction, seed=seed + k)
        output = np.asarray(model.autoencoder(noisy, training=False))
        noisy_errors.append(pixel_errors(noisy, x))
        output_errors.append(pixel_errors(output, x))
    return {"input": np.mean(noisy_errors, axis=0), "output": np.mean(output_errors, axis=0)}
