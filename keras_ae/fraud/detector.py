"""FraudDetector: a scikit-learn style outlier detector built on dense autoencoders.

It learns what normal transactions look like (rows labelled 1 are left out of training) and scores a
row by how badly a small ensemble of autoencoders reconstructs it. Each member's squared errors are
divided by that member's mean error on held-out normal rows, so the score reads "times the typical
error of a normal row" and the members can be averaged.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import platform
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from keras_ae import anomaly
from keras_ae.errors import UsageError
from keras_ae.fraud import schema
from keras_ae.fraud.preprocess import TIME_MODES, Preprocessor

THRESHOLD_RULES = ("percentile", "fpr", "f1", "value")
RULE_DEFAULTS = {"percentile": 99.5, "fpr": 0.005}  # the rule's parameter when none is given
BUNDLE_FORMAT = 1


def auto_architecture(n_features: int, x: np.ndarray | None = None) -> tuple[tuple[int, ...], int]:
    """Hidden widths and bottleneck sized from the feature count: 30 -> (14,) and 6, 8 -> (8,) and 2.

    A narrow code matters more than anything else for reconstruction detectors: a wide one learns to
    reconstruct the anomalies too. The code grows with the features up to 7, the hidden layer is twice
    the code (at least the feature count on small tables, at most 14), like the d-14-7-14-d notebook model.
    Given the (standardised) training rows `x`, the code is also kept no wider than the number of
    principal components that explain 90% of their variance.
    """
    latent = int(min(7, max(2, math.ceil(n_features / 5))))
    k90 = _components_for_variance(x, 0.9) if x is not None and len(x) > n_features else None
    if k90 is not None:
        latent = max(2, min(latent, k90))
    return _hidden_for(latent, n_features), latent


def member_architectures(n_features: int, x: np.ndarray | None, n_models: int) -> list:
    """(hidden, code) of every ensemble member: narrow codes, with every second member as wide as the
    90%-variance components (at most 7 and below the feature count).

    Some tables hide anomalies in low-variance directions that a narrow code throws away (ADBench Wilt:
    5 features, 4 components for 90%), others need a narrow code; mixing both kinds of member covers both.
    """
    hidden, narrow = auto_architecture(n_features, x)
    k90 = _components_for_variance(x, 0.9) if x is not None and len(x) > n_features else narrow
    wide = int(max(2, min(7, k90, n_features - 1)))
    return [
        (hidden, narrow) if k % 2 == 0 else (_hidden_for(wide, n_features), wide) for k in range(n_models)
    ]


def _components_for_variance(x: np.ndarray, share: float) -> int:
    variance = np.linalg.svd(x - x.mean(axis=0), compute_uv=False) ** 2
    return int(np.searchsorted(np.cumsum(variance) / variance.sum(), share) + 1)


def _hidden_for(latent: int, n_features: int) -> tuple[int, ...]:
    return (int(max(2 * latent, min(n_features, 14))),)


class FraudDetector:
    """Reconstruction-error outlier detector for transaction tables (fit on normal rows).

    Args:
        hidden, latent_dim: encoder widths and code size; None sizes them from the feature count.
        n_models: autoencoders in the ensemble (different seeds; their standardised errors are averaged).
        epochs, batch_size, learning_rate, patience: training; early stopping watches the loss on
            held-out normal rows and keeps the best weights.
        validation_fraction: share of the normal rows held out for early stopping and thresholds.
        noise: std of Gaussian noise added to the (standardised) inputs while training (denoising).
        weight_decay: AdamW weight decay.
        clip: standardised training inputs are clipped to [-clip, clip] so a few extreme rows do not
            dominate training; scoring never clips, so extreme rows keep large errors.
        threshold_rule: "percentile" of the normal validation errors (value = percentile, default 99.5),
            "fpr" (value = target false-positive rate, default 0.005), "f1" (max F1 on the labelled
            validation rows; needs frauds in `y`) or "value" (value = the threshold itself).
        threshold_value: the rule's parameter (see above).
        trim_fraction: for training data that may hold unlabelled frauds: after a first fit, drop
            this share of the training rows with the highest error and fit again.
        label_column, time_column, amount_column, time_mode, log_amount, drop: how a DataFrame's
            columns are used (see `Preprocessor`); `drop` lists columns to ignore.
        seed: every random draw derives from it.
    """

    def __init__(
        self,
        hidden: Sequence[int] | None = None,
        latent_dim: int | None = None,
        n_models: int = 3,
        epochs: int = 100,
        batch_size: int | None = None,
        learning_rate: float = 1e-3,
        patience: int = 20,
        validation_fraction: float = 0.2,
        noise: float = 0.1,
        weight_decay: float = 1e-4,
        clip: float = 5.0,
        threshold_rule: str = "percentile",
        threshold_value: float | None = None,
        trim_fraction: float = 0.0,
        label_column: str = schema.LABEL_COLUMN,
        time_column: str = "Time",
        amount_column: str = "Amount",
        time_mode: str = "drop",
        log_amount: bool = True,
        drop: Sequence[str] = (),
        seed: int = 0,
        verbose: int = 0,
    ):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.n_models = n_models
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.noise = noise
        self.weight_decay = weight_decay
        self.clip = clip
        self.threshold_rule = threshold_rule
        self.threshold_value = threshold_value
        self.trim_fraction = trim_fraction
        self.label_column = label_column
        self.time_column = time_column
        self.amount_column = amount_column
        self.time_mode = time_mode
        self.log_amount = log_amount
        self.drop = drop
        self.seed = seed
        self.verbose = verbose

    # ----------------------------------------------------------------------------------------- params
    def get_params(self, deep: bool = True) -> dict:
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> FraudDetector:
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"unknown parameter {key!r} for FraudDetector")
            setattr(self, key, value)
        return self

    def _check_params(self) -> None:
        checks = {
            "n_models": self.n_models >= 1,
            "epochs": self.epochs >= 1,
            "patience": self.patience >= 1,
            "learning_rate": self.learning_rate > 0,
            "validation_fraction": 0 < self.validation_fraction < 1,
            "noise": self.noise >= 0,
            "weight_decay": self.weight_decay >= 0,
            "clip": self.clip > 0,
            "trim_fraction": 0 <= self.trim_fraction < 0.5,
            "batch_size": self.batch_size is None or self.batch_size >= 1,
            "latent_dim": self.latent_dim is None or self.latent_dim >= 1,
            "hidden": self.hidden is None or all(int(h) >= 1 for h in self.hidden),
            "time_mode": self.time_mode in TIME_MODES,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"invalid {name}={getattr(self, name)!r}")
        _check_rule(self.threshold_rule, self.threshold_value)

    # ------------------------------------------------------------------------------------------ input
    def _frame(self, X, source: str = "X", first_row: int = 1) -> pd.DataFrame:
        """X as a DataFrame of the feature columns (checked: columns present, numeric, finite)."""
        if isinstance(X, pd.DataFrame):
            frame = X
        else:
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise UsageError(
                    f"{source}: expected a 2-D table of rows x features, received shape {arr.shape}"
                )
            names = (
                self.columns_
                if hasattr(self, "columns_") and len(self.columns_) == arr.shape[1]
                else [f"x{i}" for i in range(arr.shape[1])]
            )
            frame = pd.DataFrame(arr, columns=names)
        if hasattr(self, "columns_"):
            allowed = [self.label_column, *self.drop]
            schema.check_columns([str(c) for c in frame.columns], self.columns_, source, allowed=allowed)
        if len(frame) == 0:
            raise UsageError(f"{source}: no rows")
        return frame

    def _features(self, frame: pd.DataFrame, source: str, first_row: int = 1) -> pd.DataFrame:
        values = schema.numeric_block(frame, self.columns_, source, first_row)
        return pd.DataFrame(values, columns=self.columns_)

    # --------------------------------------------------------------------------------------------- fit
    def fit(self, X, y=None) -> FraudDetector:
        """Learn preprocessing and the autoencoders on the normal rows of X (rows with y == 1 are left out).

        With frauds in `y`, they are kept aside as labelled validation rows (the "f1" threshold rule).
        """
        self._check_params()
        frame = X if isinstance(X, pd.DataFrame) else self._frame(X)
        if isinstance(X, pd.DataFrame):
            if y is None and self.label_column in frame.columns:
                y = schema.labels_block(frame, self.label_column, "X")
            drop = {self.label_column, *self.drop}
            columns = [str(c) for c in frame.columns if c not in drop]
        else:
            columns = [str(c) for c in frame.columns]
        if not columns:
            raise UsageError("X: no feature column left after removing the label and dropped columns")
        self.columns_ = columns
        values = self._features(frame, "X")
        labels = np.zeros(len(values), dtype=np.int8) if y is None else _labels(y, len(values))
        normal = values[labels == 0].reset_index(drop=True)
        if len(normal) < 10:
            raise UsageError(f"X: only {len(normal)} normal rows; at least 10 are needed to fit")

        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(normal))
        n_val = max(2, int(round(self.validation_fraction * len(normal))))
        train, val = normal.iloc[order[n_val:]], normal.iloc[order[:n_val]]
        self._fit_models(train, val)
        if self.trim_fraction > 0:
            errors = self.score_samples(train)
            keep = errors <= np.quantile(errors, 1 - self.trim_fraction)
            self.trimmed_rows_ = int((~keep).sum())
            self._fit_models(train[keep], val)
        else:
            self.trimmed_rows_ = 0

        fraud = values[labels == 1]
        val_scores = self.score_samples(val)
        fraud_scores = self.score_samples(fraud) if len(fraud) else np.empty(0)
        self.validation_scores_ = np.concatenate([val_scores, fraud_scores])
        self.validation_labels_ = np.concatenate(
            [np.zeros(len(val_scores), np.int8), np.ones(len(fraud_scores), np.int8)]
        )
        self.n_train_rows_ = int(len(train) - self.trimmed_rows_)
        self.n_validation_rows_ = int(len(val))
        self.n_fraud_rows_ = int(len(fraud))
        self.threshold_  # noqa: B018  (fail now, not at predict, when the rule cannot be applied)
        return self

    def _fit_models(self, train: pd.DataFrame, val: pd.DataFrame) -> None:
        import keras

        from keras_ae import training
        from keras_ae.models import build_dense

        self.preprocessor_ = Preprocessor(
            self.columns_, self.time_column, self.amount_column, self.time_mode, self.log_amount
        ).fit(train)
        x_train = np.clip(self.preprocessor_.transform(train), -self.clip, self.clip)
        x_val_raw = self.preprocessor_.transform(val)
        x_val = np.clip(x_val_raw, -self.clip, self.clip)
        n_features = x_train.shape[1]
        architectures = member_architectures(n_features, x_train[:20_000], self.n_models)
        if self.hidden is not None or self.latent_dim is not None:  # one given size for every member
            hidden, latent = architectures[0]
            hidden = tuple(int(h) for h in self.hidden) if self.hidden is not None else hidden
            latent = int(self.latent_dim) if self.latent_dim is not None else latent
            architectures = [(hidden, latent)] * self.n_models
        # Batches of 32 on small tables (reconstruction detectors need many updates to fit the normal
        # rows tightly), growing to 512 on large ones (about 100+ steps an epoch either way).
        batch = self.batch_size or int(min(512, max(32, 2 ** round(math.log2(max(1, len(x_train) / 100))))))

        # The members train side by side as one Keras model (one fit instead of n_models): the same
        # (noisy) batches, different initial weights, one loss = the mean of their MSEs.
        training.set_seed(self.seed)
        members = [
            build_dense(
                input_shape=(n_features,),
                latent_dim=latent,
                hidden=hidden,
                output_activation="linear",
                name=f"member_{k}",
            ).autoencoder
            for k, (hidden, latent) in enumerate(architectures)
        ]
        ensemble = _ensemble(members)
        ensemble.compile(
            optimizer=keras.optimizers.AdamW(self.learning_rate, weight_decay=self.weight_decay),
            loss=_EnsembleMSE(self.n_models),
        )
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.patience, restore_best_weights=True
        )
        result = training.fit(
            ensemble,
            x_train,
            x_val,
            epochs=self.epochs,
            batch_size=batch,
            noise=("gaussian", self.noise) if self.noise else None,
            seed=self.seed,
            callbacks=[stop],
            verbose=self.verbose,
            value_range=(-self.clip, self.clip),
            train_loss_after_epoch=False,
        )
        self._keras_models_ = members
        self.weights_ = [_dense_stack(m) for m in members]
        self.member_scales_ = [float(e.mean()) for e in _member_errors(self.weights_, x_val_raw)]
        self.epochs_run_ = result.epochs
        self.hidden_, self.latent_dim_ = architectures[0]
        self.architectures_, self.batch_size_ = [(list(h), c) for h, c in architectures], batch

    # ---------------------------------------------------------------------------------------- scoring
    @property
    def models_(self) -> list:
        """The member autoencoders as Keras models (read from the bundle on first use after `load`)."""
        self._check_fitted()
        if getattr(self, "_keras_models_", None) is None:
            import keras

            self._keras_models_ = [
                keras.saving.load_model(self._bundle_dir_ / f"member_{k}.keras", compile=False)
                for k in range(len(self.weights_))
            ]
        return self._keras_models_

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError("This FraudDetector is not fitted yet; call fit(X) first")

    def feature_errors(self, X, source: str = "X", first_row: int = 1) -> np.ndarray:
        """Per-row, per-feature squared errors in units of a normal row's mean error (ensemble mean)."""
        self._check_fitted()
        frame = (
            X
            if isinstance(X, pd.DataFrame)
            and list(X.columns) == self.columns_
            and all(X.dtypes == np.float64)
            else self._features(self._frame(X, source), source, first_row)
        )
        x = self.preprocessor_.transform(frame)
        total = np.zeros(x.shape, dtype=np.float64)
        for member, scale in zip(_member_errors(self.weights_, x), self.member_scales_, strict=True):
            total += member / scale
        return total / len(self.weights_)

    def score_samples(self, X) -> np.ndarray:
        """Reconstruction error per row (1.0 = a typical normal row's error); higher = more suspicious."""
        return self.feature_errors(X).mean(axis=1)

    def decision_function(self, X) -> np.ndarray:
        """score_samples minus the threshold: positive for flagged rows."""
        return self.score_samples(X) - self.threshold_

    def predict(self, X) -> np.ndarray:
        """1 for rows whose error is above the threshold (flagged as fraud), else 0."""
        return (self.score_samples(X) > self.threshold_).astype(int)

    def explain(self, X, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the `top` raw columns whose reconstruction error contributes most, with their share.

        Shares are fractions of the row's total error (they sum to at most 1).
        """
        contrib = self.feature_errors(X)
        names, share = self._column_shares(contrib)
        return top_columns(names, share, top)

    def _column_shares(self, contrib: np.ndarray) -> tuple[list[str], np.ndarray]:
        sources = self.preprocessor_.source_of()
        names = list(dict.fromkeys(sources))
        if len(names) != len(sources):  # e.g. Time -> hour sin and cos: add them up under "Time"
            index = np.array([names.index(s) for s in sources])
            summed = np.zeros((len(contrib), len(names)))
            np.add.at(summed.T, index, contrib.T)
            contrib = summed
        return names, contrib / np.maximum(contrib.sum(axis=1, keepdims=True), 1e-12)

    # ------------------------------------------------------------------------------------- threshold
    @property
    def threshold_(self) -> float:
        """The threshold from the current rule, derived from the stored validation errors (no retraining)."""
        self._check_fitted()
        return _apply_rule(
            self.threshold_rule, self.threshold_value, self.validation_scores_, self.validation_labels_
        )

    def set_threshold(self, rule: str, value: float | None = None) -> FraudDetector:
        """Change the threshold rule after fit; `predict` follows at once."""
        _check_rule(rule, value)
        if hasattr(self, "validation_scores_"):
            _apply_rule(rule, value, self.validation_scores_, self.validation_labels_)
        self.threshold_rule, self.threshold_value = rule, value
        return self

    @property
    def scaler_(self):
        """The sklearn StandardScaler learned on the normal training rows (after Time/Amount transforms)."""
        self._check_fitted()
        return self.preprocessor_.scaler_

    @property
    def features_(self) -> list[str]:
        self._check_fitted()
        return self.preprocessor_.features

    def threshold_info(self) -> dict:
        """The rule, its parameter as given (None = default), the parameter in effect, the threshold."""
        value = self.threshold_value
        effective = RULE_DEFAULTS.get(self.threshold_rule) if value is None else value
        return {
            "rule": self.threshold_rule,
            "value": value,
            "effective_value": effective,
            "threshold": self.threshold_,
        }

    # -------------------------------------------------------------------------------------- save/load
    def save(self, directory: str | os.PathLike, metrics: dict | None = None) -> pathlib.Path:
        """Write the bundle: member_<k>.keras, preprocessing.json, validation.npz, detector.json (last)."""
        import keras
        import tensorflow as tf

        from keras_ae import __version__
        from keras_ae.io import atomic_path, write_json

        self._check_fitted()
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for k, net in enumerate(self.models_):
            with atomic_path(directory / f"member_{k}.keras") as tmp:
                net.save(tmp)
        write_json(directory / "preprocessing.json", self.preprocessor_.to_dict())
        arrays = {
            f"m{k}_l{i}_{name}": value
            for k, member in enumerate(self.weights_)
            for i, (w, b, _) in enumerate(member)
            for name, value in (("W", w), ("b", b))
        }
        with atomic_path(directory / "weights.npz") as tmp:
            np.savez(tmp, **arrays)
        with atomic_path(directory / "validation.npz") as tmp:
            np.savez(tmp, scores=self.validation_scores_, labels=self.validation_labels_)
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        params["drop"] = list(self.drop)
        meta = {
            "format": BUNDLE_FORMAT,
            "kind": "keras_ae.fraud.FraudDetector",
            "columns": self.columns_,
            "features": self.preprocessor_.features,
            "label_column": self.label_column,
            "params": params,
            "architecture": {
                "hidden": list(self.hidden_),
                "latent_dim": self.latent_dim_,
                "members": self.architectures_,
                "batch_size": self.batch_size_,
                "epochs_run": self.epochs_run_,
            },
            "member_scales": self.member_scales_,
            "member_activations": [[act for _, _, act in member] for member in self.weights_],
            "threshold": self.threshold_info(),
            "training": {
                "normal_rows": self.n_train_rows_,
                "validation_rows": self.n_validation_rows_,
                "fraud_rows_held_out": self.n_fraud_rows_,
                "trimmed_rows": self.trimmed_rows_,
            },
            "metrics": metrics or {},
            "versions": {
                "keras_ae": __version__,
                "keras": keras.__version__,
                "tensorflow": tf.__version__,
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "python": platform.python_version(),
            },
        }
        write_json(directory / "detector.json", meta)
        return directory

    @classmethod
    def load(
        cls, directory: str | os.PathLike, columns: Sequence[str] | None = None, source: str = "the data"
    ) -> FraudDetector:
        """Load a bundle written by `save`; with `columns` (of `source`), check it was made for them.

        Scoring runs on the stored weights in NumPy; the Keras models are read only when `models_` is used.
        """
        from keras_ae.io import read_json

        directory = pathlib.Path(directory)
        if not (directory / "detector.json").is_file():
            raise UsageError(f"{directory}: not a fraud detector bundle (no detector.json)")
        meta = read_json(directory / "detector.json", what="detector bundle file")
        if meta.get("kind") != "keras_ae.fraud.FraudDetector" or meta.get("format") != BUNDLE_FORMAT:
            raise UsageError(
                f"{directory}/detector.json: not a FraudDetector bundle of format {BUNDLE_FORMAT}"
            )
        params = dict(meta["params"])
        params["hidden"] = tuple(params["hidden"]) if params["hidden"] is not None else None
        params["drop"] = tuple(params["drop"])
        det = cls(**params)
        det.columns_ = list(meta["columns"])
        if columns is not None:
            det._check_bundle_columns(columns, directory, source)
        det.preprocessor_ = Preprocessor.from_dict(
            read_json(directory / "preprocessing.json", what="detector bundle file")
        )
        with np.load(directory / "weights.npz") as w:
            det.weights_ = [
                [(w[f"m{k}_l{i}_W"], w[f"m{k}_l{i}_b"], act) for i, act in enumerate(acts)]
                for k, acts in enumerate(meta["member_activations"])
            ]
        det.member_scales_ = [float(s) for s in meta["member_scales"]]
        det._keras_models_, det._bundle_dir_ = None, directory
        with np.load(directory / "validation.npz") as val:
            det.validation_scores_, det.validation_labels_ = val["scores"], val["labels"]
        arch = meta["architecture"]
        det.hidden_, det.latent_dim_ = tuple(arch["hidden"]), arch["latent_dim"]
        det.architectures_ = arch["members"]
        det.batch_size_, det.epochs_run_ = arch["batch_size"], arch["epochs_run"]
        training_info = meta["training"]
        det.n_train_rows_, det.n_validation_rows_ = (
            training_info["normal_rows"],
            training_info["validation_rows"],
        )
        det.n_fraud_rows_, det.trimmed_rows_ = (
            training_info["fraud_rows_held_out"],
            training_info["trimmed_rows"],
        )
        det.metadata_ = meta
        return det

    def _check_bundle_columns(self, columns: Sequence[str], directory, source: str) -> None:
        columns = [str(c) for c in columns]
        present = sum(c in columns for c in self.columns_)
        if present < len(self.columns_) / 2:  # mostly other columns: the wrong model for this data
            missing = next(c for c in self.columns_ if c not in columns)
            raise UsageError(
                f"model {directory} was made for other columns: {source} lacks column {missing!r} "
                f"(and {len(self.columns_) - present - 1} more); the model expects "
                f"{schema._short(self.columns_)}"
            )
        schema.check_columns(columns, self.columns_, source, allowed=[self.label_column, *self.drop])


class _EnsembleMSE:
    """MSE of every member's reconstruction (outputs concatenated) against the one clean input."""

    def __init__(self, n_models: int):
        self.n_models = n_models
        self.__name__ = "ensemble_mse"

    def __call__(self, y_true, y_pred):
        import keras

        return keras.ops.mean((keras.ops.tile(y_true, [1, self.n_models]) - y_pred) ** 2, axis=-1)


def _ensemble(members: list) -> keras.Model:  # noqa: F821
    """One model: the input goes through every member; their reconstructions are concatenated."""
    import keras

    inputs = keras.Input(shape=members[0].input_shape[1:], name="row")
    outputs = [m(inputs) for m in members]
    joined = keras.layers.Concatenate(name="reconstructions")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, joined, name="ensemble")


def _dense_stack(net) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(kernel, bias, activation) of every Dense layer of a (nested) dense autoencoder, input to output."""
    import keras

    stack = []
    for layer in net.layers:
        if isinstance(layer, keras.Model):
            stack += _dense_stack(layer)
        elif isinstance(layer, keras.layers.Dense):
            kernel, bias = (np.asarray(v, dtype=np.float32) for v in layer.get_weights())
            stack.append((kernel, bias, layer.activation.__name__))
    return stack


_ACTIVATIONS = {"relu": lambda a: np.maximum(a, 0, out=a), "linear": lambda a: a}


def _member_errors(weights: list, x: np.ndarray) -> list[np.ndarray]:
    """Squared errors (rows x features) of each member, computed in NumPy from the Dense weights.

    Small dense nets run as fast in NumPy as in TensorFlow, and scoring then needs no graph or
    device memory, which keeps chunked scoring of large files lean.
    """
    x = np.asarray(x, dtype=np.float32)
    errors = []
    for member in weights:
        h = x
        for kernel, bias, act in member:
            if act not in _ACTIVATIONS:
                raise ValueError(f"unsupported activation {act!r} in a fraud detector member")
            h = _ACTIVATIONS[act](h @ kernel + bias)
        errors.append((h.astype(np.float64) - x) ** 2)
    return errors


def _labels(y, n: int) -> np.ndarray:
    y = np.asarray(y).ravel()
    if len(y) != n:
        raise UsageError(f"y: {len(y)} labels for {n} rows")
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        raise UsageError("y: labels must be 0 (normal) or 1 (fraud)") from None
    bad = np.flatnonzero(~np.isin(values, (0, 1)))
    if len(bad):
        raise UsageError(
            f"y: row {bad[0] + 1}: label must be 0 (normal) or 1 (fraud), received {y[bad[0]]!r}"
        )
    return values.astype(np.int8)


def _check_rule(rule: str, value: float | None) -> None:
    if rule not in THRESHOLD_RULES:
        raise UsageError(f"unknown threshold rule {rule!r} (known: {', '.join(THRESHOLD_RULES)})")
    if rule == "percentile" and value is not None and not 0 < value < 100:
        raise UsageError(f"threshold percentile must be between 0 and 100, received {value}")
    if rule == "fpr" and value is not None and not 0 < value < 1:
        raise UsageError(f"threshold false-positive rate must be between 0 and 1, received {value}")
    if rule == "value" and value is None:
        raise UsageError("threshold rule 'value' needs a value (--threshold-value)")


def _apply_rule(rule: str, value: float | None, scores: np.ndarray, labels: np.ndarray) -> float:
    _check_rule(rule, value)
    if rule == "f1":
        if not (labels == 1).any():
            raise UsageError("threshold rule 'f1' needs labelled frauds in the data given to fit")
        return anomaly.choose_threshold("f1", scores, labels)
    return anomaly.choose_threshold(rule, scores, labels, RULE_DEFAULTS.get(rule) if value is None else value)


def top_columns(names: Sequence[str], share: np.ndarray, top: int) -> list[list[tuple[str, float]]]:
    """The `top` largest shares per row as (column, share) pairs."""
    top = max(1, min(int(top), share.shape[1]))
    idx = np.argsort(-share, axis=1, kind="stable")[:, :top]
    return [[(names[j], float(share[i, j])) for j in row] for i, row in enumerate(idx)]


def describe(detector: FraudDetector) -> str:
    """One line: columns, members, architecture and threshold."""
    info = detector.threshold_info()
    d = len(detector.features_)
    shapes = ", ".join(f"{d}-{'-'.join(map(str, h))}-{c}" for h, c in detector.architectures_)
    value = "" if info["effective_value"] is None else " " + json.dumps(info["effective_value"])
    return (
        f"{len(detector.columns_)} columns -> {d} features, {len(detector.weights_)} autoencoders "
        f"({shapes}), threshold {info['threshold']:.4g} ({info['rule']}{value})"
    )
