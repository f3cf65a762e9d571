"""FraudDetector: a scikit-learn outlier detector built on an ensemble of small dense autoencoders.

It learns what normal transactions look like (rows labelled 1 are left out of training) and scores a row
by how badly the autoencoders reconstruct it. Sizing (`sizing`), Keras training (`ensemble`), the NumPy
forward pass (`inference`), explanations (`explain`) and the saved bundle (`bundle`) live beside it.
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from keras_ae import options
from keras_ae.errors import UsageError
from keras_ae.fraud import bundle, combined, explain, inference, inputs, params, rows, schema
from keras_ae.fraud.params import UNSCORABLE
from keras_ae.fraud.preprocess import TIME_MODES, Preprocessor
from keras_ae.fraud.threshold import RULE_DEFAULTS, ThresholdMixin  # noqa: F401  (RULE_DEFAULTS: public name)

MIN_NORMAL_ROWS = 10


class FraudDetector(ThresholdMixin, BaseEstimator):
    """Autoencoder outlier detector for transaction tables, fitted on normal rows.

    A row's score joins two views of "unlike the normal rows" (`combined`): the ensemble's reconstruction
    error and the squared distance to the nearest normal rows, each scaled robustly on held-out normal rows.
    Score convention (as PyOD): `score_samples` is higher for more anomalous rows (0 = a typical normal row,
    1 = one interquartile range of normal rows above it); `reconstruction_errors` gives the autoencoders'
    part alone (1.0 = a typical normal row's error); `predict` returns 1 for a flagged row (score above
    `threshold_`) and 0 otherwise; `decision_function` is `score_samples - threshold_`.

    Args:
        hidden, latent_dim: encoder widths and code size; None sizes them from the table (`sizing`).
        n_models: autoencoders in the ensemble (their standardised errors are averaged), 1 to 100.
        epochs, batch_size, learning_rate, patience: training; early stopping on held-out normal rows.
        validation_fraction: share of the normal rows held out for early stopping and thresholds.
        noise: std of Gaussian noise added to the standardised inputs while training (denoising).
        weight_decay: AdamW weight decay.
        clip: standardised training inputs are clipped to [-clip, clip]; scoring never clips.
        threshold_rule, threshold_value: a rule of `keras_ae.anomaly.thresholds.THRESHOLD_RULES` applied to
            the validation scores, and its value ("alpha", the default: flag rows whose conformal p-value among
            the held-out normal rows is at most alpha, default 0.005, so the false-positive rate on new normal
            rows is at most alpha in expectation; "percentile": default 99.5; "fpr": default 0.005; "f1": needs
            frauds in `y`; "value": the threshold itself).
        trim_fraction: after a first fit, drop this share of the highest-error training rows and fit again.
        method: "ae+knn" (default), "ae" (reconstruction error only) or "knn" (neighbour distance only).
        n_neighbors: neighbours of the distance part (1: training rows are all normal, so the nearest one is
            the most local evidence). ae_weight: the reconstruction part's weight against 1 for the distance.
        max_reference: normal rows kept as the neighbour reference (a random sample of them when more).
        label_column, time_column, amount_column, time_mode, log_amount, drop: how a DataFrame's columns
            are used (see `Preprocessor`); `drop` lists columns to ignore; `label_column` "" means none (every
            column is a feature).
        seed: every random draw derives from it, an integer in [0, 2**32). verbose: 0 silent, 1 (default) one
            progress line on stderr (epoch, loss, time left), 2 Keras's output.
        unscorable: a row that cannot be scored (a missing, NaN, infinite or non-numeric cell, a value beyond
            float32's range) is never passed as normal: "refuse" (default) raises a UsageError naming its row
            and column; "flag" scores it +inf (flagged) with the reason in `scored(X).reasons`.

    Attributes:
        threshold_: the threshold in effect (set by `fit` and `set_threshold`).
        columns_, n_features_in_, feature_names_in_: the raw feature columns seen in `fit`.
        preprocessor_: transforms and standardisation learned on the normal training rows.
        weights_, member_scales_: every member's Dense weights and mean normal validation error.
        architectures_, hidden_, latent_dim_, batch_size_, epochs_run_: what was trained.
        validation_scores_, validation_labels_: held-out normal rows (0) and labelled frauds (1).
        n_train_rows_, n_validation_rows_, n_fraud_rows_, trimmed_rows_: row counts of the fit.
    """

    def __init__(self, hidden: Sequence[int] | None = None, latent_dim: int | None = None, n_models: int = 3,
                 epochs: int = 100, batch_size: int | None = None, learning_rate: float = 1e-3, patience: int = 20,
                 validation_fraction: float = 0.2, noise: float = 0.1, weight_decay: float = 1e-4,
                 clip: float = 5.0, threshold_rule: str = "alpha", threshold_value: float | None = None,
                 trim_fraction: float = 0.0, method: str = "ae+knn", n_neighbors: int = 1, ae_weight: float = 0.25,
                 max_reference: int = 10_000, label_column: str = schema.LABEL_COLUMN, time_column: str = "Time",
                 amount_column: str = "Amount", time_mode: str = "drop", log_amount: bool = True,
                 drop: Sequence[str] = (), seed: int = 0, verbose: int = 1, unscorable: str = "refuse"):
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
        self.method = method
        self.n_neighbors = n_neighbors
        self.ae_weight = ae_weight
        self.max_reference = max_reference
        self.label_column = label_column
        self.time_column = time_column
        self.amount_column = amount_column
        self.time_mode = time_mode
        self.log_amount = log_amount
        self.drop = drop
        self.seed = seed
        self.verbose = verbose
        self.unscorable = unscorable

    SPECS = params.SPECS  # one specification per numeric parameter, shared with the fit command
    CHOICES = {"time_mode": TIME_MODES, "method": tuple(combined.SCORES), "verbose": (0, 1, 2),
               "unscorable": UNSCORABLE}

    def check_params(self) -> None:
        """UsageError naming the first parameter out of range, with its value (the rules of `SPECS`)."""
        params.check(self)

    def split_rows(self, n_normal: int) -> tuple[np.ndarray, np.ndarray]:
        """(training, held-out) indices among `n_normal` normal rows, as `fit` splits them (held-out rows: early
        stopping, score scales, thresholds)."""
        order = np.random.default_rng(self.seed).permutation(n_normal)
        n_val = max(2, int(round(self.validation_fraction * n_normal)))
        return order[n_val:], order[:n_val]

    # --------------------------------------------------------------------------------------------- fit
    def fit(self, X, y=None) -> FraudDetector:
        """Learn preprocessing and the autoencoders on the normal rows of X (rows with y == 1 are left out).

        With frauds in `y` (or in a DataFrame's label column), they are kept aside as labelled validation
        rows (the "f1" rule). Returns self.
        """
        params.check(self, fitting=True)
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)  # a refit starts from nothing
        columns, values, labels = inputs.fit_table(self, X, y)
        preprocessor = Preprocessor.of(self, columns)  # unfitted: the checks of the rows it will learn from
        preprocessor.require_hours(values, np.arange(len(values)) + 1, "X")  # every row is scored
        normal = values[labels == 0].reset_index(drop=True)
        from keras_ae.anomaly.thresholds import check_rule

        if check_rule(self.threshold_rule, self.threshold_value).labelled and not (labels == 1).any():
            raise UsageError(f"threshold rule {self.threshold_rule!r} needs labelled frauds in the data given to fit "
                             "(none in y or the label column); choose alpha, percentile or fpr", param="threshold_rule")
        if len(normal) < MIN_NORMAL_ROWS:
            raise UsageError(f"X: n_samples={len(normal)} normal rows; at least {MIN_NORMAL_ROWS} are needed to fit")
        reference = min(len(normal), self.max_reference) - 1  # leave-one-out: a validation row is not its neighbour
        if "knn" in combined.SCORES[self.method] and self.n_neighbors > reference:
            raise UsageError(f"n_neighbors={self.n_neighbors} is more than the {reference:,} normal rows the distance "
                             "part can compare a row with; choose fewer neighbours")
        used = [c for c in columns if not (c == self.time_column and self.time_mode == "drop")]
        schema.require_variation(normal, used, "X", rows="normal rows")
        preprocessor.require_spread(normal, np.flatnonzero(labels == 0) + 1, "X")
        self.columns_, self.n_features_in_ = columns, len(columns)
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        kept, held_out = self.split_rows(len(normal))
        train, val = normal.iloc[kept], normal.iloc[held_out]
        self._fit_models(train, val)
        self.trimmed_rows_ = 0
        if self.trim_fraction > 0:
            errors = self.feature_errors(train).mean(axis=1)  # before the scoring state exists
            keep = errors <= np.quantile(errors, 1 - self.trim_fraction)
            self.trimmed_rows_ = int((~keep).sum())
            self._fit_models(train[keep], val)
        self.scoring_, val_scores = combined.fit_state(
            self.weights_, self.member_scales_, self.method, self.preprocessor_.transform(normal),
            held_out, self.n_neighbors, self.ae_weight, self.max_reference, self.seed)
        fraud = values[labels == 1]
        fraud_scores = self.scored(fraud, ranges=False).score if len(fraud) else np.empty(0)
        self.validation_scores_ = np.concatenate([val_scores, fraud_scores])
        self.check_rows_ = bundle.check_rows(val.to_numpy(np.float64))  # a saved bundle scores them again on load
        self.validation_labels_ = np.concatenate([np.zeros(len(val_scores), np.int8), np.ones(len(fraud), np.int8)])
        self.n_train_rows_ = int(len(train) - self.trimmed_rows_)
        self.n_validation_rows_, self.n_fraud_rows_ = int(len(val)), int(len(fraud))
        self.threshold_ = self._threshold(self.threshold_rule, self.threshold_value)
        return self

    def _fit_models(self, train: pd.DataFrame, val: pd.DataFrame) -> None:
        from keras_ae.fraud import ensemble

        for name, value in ensemble.fit_members(self, train, val).items():
            setattr(self, name, value)

    # ---------------------------------------------------------------------------------------- scoring
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "weights_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError("This FraudDetector is not fitted yet; call fit(X) first")
        params.check(self)  # set_params after fit may have changed what scoring reads

    def feature_errors(self, X, source: str = "X") -> np.ndarray:
        """Per-row, per-feature squared errors of the ensemble, each in units of that feature's mean error on the
        held-out normal rows (so 1.0 is typical for every feature; before the scoring state exists, in units of
        each member's mean error)."""
        self._check_fitted()
        x = rows.standardise(inputs.values(self, X, source).to_numpy(), self.columns_, self.preprocessor_, source)
        with np.errstate(over="ignore", invalid="ignore"):
            errors = inference.ensemble_errors(self.weights_, self.member_scales_, x)
        broken = ~np.isfinite(errors).all(axis=1)
        if broken.any():  # a value so large that the reconstruction overflows float32: never a normal row
            i = int(np.flatnonzero(broken)[0])
            raise UsageError(f"{source}, row {i + 1}: its reconstruction error is not a finite number (a value too "
                             "large for the model's float32 computation)")
        scales = getattr(getattr(self, "scoring_", None), "feature_scales", None)
        return errors / np.asarray(scales) if scales is not None else errors

    def scored(self, X, source: str = "X", first_row: int = 1, ranges: bool = True) -> combined.Scored:
        """Scores, reconstruction errors and per-feature contributions of the rows of X (unscorable rows refused or
        flagged, by `unscorable`; a far amount +inf unless `ranges` is False; see `keras_ae.fraud.rows`)."""
        self._check_fitted()
        return rows.score_frame(inputs.as_frame(self, X, source), self.columns_, self.preprocessor_, self.scoring_,
                                source, first_row, getattr(self, "unscorable", "refuse"), ranges)

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score per row (0 = a typical normal row); higher = more suspicious; float64's largest value for a
        row whose amount lies far outside the normal training amounts (flagged under every finite threshold)."""
        return self.scored(X).score

    def reconstruction_errors(self, X) -> np.ndarray:
        """The autoencoders' part: reconstruction error per row (1.0 = a typical normal row's error); rows that
        cannot be scored are refused, or NaN (flagged by `predict`) with `unscorable="flag"`."""
        return self.scored(X).reconstruction_error

    def decision_function(self, X) -> np.ndarray:
        """score_samples minus the threshold: positive for flagged rows."""
        return self.score_samples(X) - self.threshold_

    def predict(self, X) -> np.ndarray:
        """1 for rows whose error is above the threshold (flagged as fraud), else 0."""
        return (self.score_samples(X) > self.threshold_).astype(int)

    def column_shares(self, contrib: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Raw column names and each one's share of every row's error, from `feature_errors` output."""
        return explain.column_shares(self.preprocessor_.source_of(), contrib)

    def explain(self, X, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the `top` raw columns whose reconstruction error contributes most, with their share; an empty
        list for a row that could not be scored (flagged with unscorable="flag": `scored(X).reasons` says why)."""
        options.POSITIVE_INT.check("top", top)
        scored = self.scored(X)
        names, share = self.column_shares(scored.contributions)
        tops = explain.top_columns(names, share, top)
        return tops if scored.reasons is None else [[] if why else row for row, why in zip(tops, scored.reasons,
                                                                                           strict=True)]

    @property
    def scaler_(self):
        """The StandardScaler learned on the normal training rows (after the Time/Amount transforms)."""
        self._check_fitted()
        return self.preprocessor_.scaler_

    @property
    def features_(self) -> list[str]:
        self._check_fitted()
        return self.preprocessor_.features

    @property
    def models_(self) -> list:
        """The member autoencoders as Keras models (rebuilt from the weights, or read from the bundle)."""
        self._check_fitted()
        if getattr(self, "_keras_models_", None) is None:
            from keras_ae.fraud import ensemble

            self._keras_models_ = ensemble.rebuild(self.weights_, self.architectures_)
        return self._keras_models_

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_keras_models_", None)  # rebuilt from weights_ on demand
        return state

    # -------------------------------------------------------------------------------------- save/load
    def save(self, directory: str | os.PathLike, metrics: dict | None = None) -> pathlib.Path:
        """Write the bundle (see `keras_ae.fraud.bundle`) into a new `directory`, or in place of a fraud model
        directory there (when the new one is whole); anything else there is refused (`bundle.save_new`)."""
        self._check_fitted()
        return bundle.save_new(self, directory, metrics)

    @classmethod
    def load(cls, directory: str | os.PathLike, columns: Sequence[str] | None = None,
             source: str = "the data") -> FraudDetector:
        """Load a bundle written by `save`; with `columns` (of `source`), check it was made for them. Only JSON and
        NumPy files are read: scoring the loaded detector never imports TensorFlow."""
        return bundle.load(cls, directory, columns, source)


def describe(detector: FraudDetector) -> str:
    """One line: columns, members, architecture and threshold."""
    info = detector.threshold_info()
    d = len(detector.features_)
    shapes = ", ".join(f"{d}-{'-'.join(map(str, h))}-{c}" for h, c in detector.architectures_)
    value = "" if info["effective_value"] is None else " " + json.dumps(info["effective_value"])
    return (f"{len(detector.columns_)} columns -> {d} features, {len(detector.weights_)} autoencoders ({shapes}), "
            f"threshold {info['threshold']:.4g} ({info['rule']}{value})")
