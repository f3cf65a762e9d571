"""Training the fraud detector's autoencoders with Keras: the members train side by side as one model
(`fit_members`: the preprocessing, the members' sizes and their training, as `FraudDetector.fit` runs them).

Everything else of the detector (scoring, explanations, the saved bundle) runs on the Dense weights this
module hands back, in NumPy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from keras_ae import training
from keras_ae.errors import UsageError
from keras_ae.fraud import inference, rows, sizing
from keras_ae.fraud.inference import Member
from keras_ae.fraud.preprocess import Preprocessor
from keras_ae.models.dense import build_dense


class EnsembleMSE:
    """MSE of every member's reconstruction (outputs concatenated) against the one clean input."""

    def __init__(self, n_models: int):
        self.n_models = n_models
        self.__name__ = "ensemble_mse"

    def __call__(self, y_true, y_pred):
        return keras.ops.mean((keras.ops.tile(y_true, [1, self.n_models]) - y_pred) ** 2, axis=-1)


def joined(members: list[keras.Model]) -> keras.Model:
    """One model: the input goes through every member; their reconstructions are concatenated."""
    inputs = keras.Input(shape=members[0].input_shape[1:], name="row")
    outputs = [m(inputs) for m in members]
    out = keras.layers.Concatenate(name="reconstructions")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, out, name="ensemble")


def dense_stack(net: keras.Model) -> Member:
    """(kernel, bias, activation) of every Dense layer of a (nested) dense autoencoder, input to output."""
    stack: Member = []
    for layer in net.layers:
        if isinstance(layer, keras.Model):
            stack += dense_stack(layer)
        elif isinstance(layer, keras.layers.Dense):
            kernel, bias = (np.asarray(v, dtype=np.float32) for v in layer.get_weights())
            stack.append((kernel, bias, layer.activation.__name__))
    return stack


def build_members(n_features: int, architectures: Sequence[tuple[Sequence[int], int]]) -> list[keras.Model]:
    return [build_dense(input_shape=(n_features,), latent_dim=latent, hidden=tuple(hidden),
                        output_activation="linear", name=f"member_{k}").autoencoder
            for k, (hidden, latent) in enumerate(architectures)]


def rebuild(weights: Sequence[Member], architectures: Sequence[tuple[Sequence[int], int]]) -> list[keras.Model]:
    """Keras models of the members from their stored Dense weights (e.g. after unpickling)."""
    members = build_members(int(weights[0][0][0].shape[0]), architectures)
    for net, member in zip(members, weights, strict=True):
        dense = [layer for sub in net.layers if isinstance(sub, keras.Model) for layer in sub.layers
                 if isinstance(layer, keras.layers.Dense)]
        for layer, (kernel, bias, _) in zip(dense, member, strict=True):
            layer.set_weights([kernel, bias])
    return members


@dataclasses.dataclass
class Trained:
    models: list[keras.Model]
    weights: list[Member]
    epochs: int


def train_members(x_train: np.ndarray, x_val: np.ndarray, architectures: Sequence[tuple[Sequence[int], int]],
                  epochs: int, batch_size: int, learning_rate: float, weight_decay: float, patience: int,
                  noise: float, clip: float, seed: int, verbose: int = 0) -> Trained:
    """Train one autoencoder per architecture on the same (noisy) batches with different initial weights;
    early stopping on the validation loss keeps the best weights. `verbose`: 0 silent, 1 one progress line
    (epoch, loss, time left) on stderr, 2 Keras's own output."""
    members = build_members(x_train.shape[1], architectures)
    ensemble = joined(members)
    ensemble.compile(optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay),
                     loss=EnsembleMSE(len(members)))
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    if verbose == 1:
        callbacks.append(training.EpochProgress(epochs, label=f"fit {len(members)} autoencoder(s): ",
                                                early_stopping=True))
    result = training.fit(ensemble, x_train, x_val, epochs=epochs, batch_size=batch_size,
                          noise=("gaussian", noise) if noise else None, seed=seed, callbacks=callbacks,
                          verbose=2 if verbose == 2 else 0, value_range=(-clip, clip), train_loss_after_epoch=False,
                          refuse_divergence="learning_rate")
    return Trained(members, [dense_stack(m) for m in members], result.epochs)


def fit_members(detector, train, val) -> dict:
    """Fit `detector`'s preprocessing on the normal training rows and train its members (early stopping on
    `val`); returns the fitted attributes, name -> value (`preprocessor_`, `weights_`, `member_scales_`, ...)."""
    d = detector
    preprocessor = Preprocessor.of(d, d.columns_).fit(train)
    preprocessor.fit_ranges(pd.concat([train, val]))  # every normal row but trimmed ones: no held-out one is far out
    stats = preprocessor.stats_
    broken = ~(np.isfinite(stats["mean"]) & np.isfinite(stats["scale"]) & (stats["scale"] > 0))
    if broken.any():
        column = preprocessor.source_of()[int(np.flatnonzero(broken)[0])]
        raise UsageError(f"X, column {column!r}: values too large to standardise (their spread overflows)")
    x_train = np.clip(rows.standardise(train.to_numpy(), d.columns_, preprocessor), -d.clip, d.clip)
    x_val_raw = rows.standardise(val.to_numpy(), d.columns_, preprocessor)
    architectures = sizing.member_architectures(x_train.shape[1], x_train[:20_000], d.n_models)
    if d.hidden is not None or d.latent_dim is not None:  # one given size for every member
        hidden, latent = architectures[0]
        hidden = tuple(int(h) for h in d.hidden) if d.hidden is not None else hidden
        latent = int(d.latent_dim) if d.latent_dim is not None else latent
        architectures = [(hidden, latent)] * d.n_models
    batch = d.batch_size or sizing.batch_size_for(len(x_train))
    with training.global_state(seed=d.seed):
        trained = train_members(
            x_train, np.clip(x_val_raw, -d.clip, d.clip), architectures, epochs=d.epochs, batch_size=batch,
            learning_rate=d.learning_rate, weight_decay=d.weight_decay, patience=d.patience, noise=d.noise,
            clip=d.clip, seed=d.seed, verbose=d.verbose)
    hidden, latent = architectures[0]
    return {"preprocessor_": preprocessor, "_keras_models_": trained.models, "weights_": trained.weights,
            "member_scales_": [float(e.mean()) for e in inference.member_errors(trained.weights, x_val_raw)],
            "epochs_run_": trained.epochs, "hidden_": hidden, "latent_dim_": latent,
            "architectures_": [(list(h), c) for h, c in architectures], "batch_size_": batch}
