"""A fraud fit as a run: read a transactions CSV, hold out a stratified test share, fit a `FraudDetector` on the
normal rows of the rest, write the bundle, hold-out metrics and pictures. `keras-ae-fraud fit` is `fit_fraud`
behind argparse."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

from keras_ae.errors import UsageError


@dataclasses.dataclass
class FraudFitConfig:
    input: str
    out: str
    label_column: str = "Class"
    drop: tuple[str, ...] = ()
    time_column: str = "Time"
    time: str = "drop"
    amount_column: str = "Amount"
    no_log_amount: bool = False
    test_size: float = 0.3
    threshold_rule: str = "percentile"
    threshold_value: float | None = None
    trim: float = 0.0
    method: str = "ae+knn"
    neighbors: int = 1
    ae_weight: float = 0.25
    n_models: int = 3
    epochs: int = 100
    seed: int = 0
    sep: str = ","
    verbose: int = 1

    def check(self) -> None:
        """ValueError naming the first field out of range, before any work."""
        from keras_ae.anomaly.thresholds import check_rule

        if not 0 < self.test_size < 1:
            raise ValueError(f"Expected test_size between 0 and 1, received test_size={self.test_size}")
        if not 0 <= self.trim < 0.5:
            raise ValueError(f"Expected trim in [0, 0.5), received trim={self.trim}")
        if self.ae_weight < 0:
            raise ValueError(f"Expected ae_weight >= 0, received ae_weight={self.ae_weight}")
        for name in ("n_models", "epochs", "neighbors"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Expected {name} > 0, received {name}={getattr(self, name)}")
        check_rule(self.threshold_rule, self.threshold_value)

    def detector(self, label: str | None):
        from keras_ae.fraud import FraudDetector

        return FraudDetector(n_models=self.n_models, epochs=self.epochs, threshold_rule=self.threshold_rule,
                             threshold_value=self.threshold_value, trim_fraction=self.trim, method=self.method,
                             n_neighbors=self.neighbors, ae_weight=self.ae_weight,
                             label_column=label or "Class", time_column=self.time_column,
                             amount_column=self.amount_column, time_mode=self.time,
                             log_amount=not self.no_log_amount, drop=tuple(self.drop), seed=self.seed,
                             verbose=self.verbose)


@dataclasses.dataclass
class FraudFitResult:
    detector: Any
    out: pathlib.Path
    metrics: dict | None
    rows: int


def fit_fraud(config: FraudFitConfig) -> FraudFitResult:
    """Fit on the normal rows of the table (all rows when it has no labels); hold-out metrics when it has.

    `config.input` is a CSV (also compressed), a Parquet file or a directory of Parquet files."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from keras_ae import anomaly, figures
    from keras_ae.fraud import figures as fraud_figures
    from keras_ae.io import atomic_dir, write_json

    config.check()
    out = pathlib.Path(config.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"out={config.out!r} is an existing file, not a directory")
    values, labels, label = read_training_table(config)
    detector = config.detector(label)
    if labels is None:
        print(f"fitting on {len(values):,} unlabelled rows (no hold-out metrics)")
        detector.fit(values)
        with atomic_dir(out) as tmp:
            detector.save(tmp)
        return FraudFitResult(detector, out, None, len(values))
    idx_train, idx_test = train_test_split(np.arange(len(values)), test_size=config.test_size, stratify=labels,
                                           random_state=config.seed)
    print(f"fitting on the normal rows of {len(idx_train):,} training rows ({int(labels[idx_train].sum())} "
          f"frauds kept for validation); hold-out: {len(idx_test):,} rows, {int(labels[idx_test].sum())} frauds")
    detector.fit(values.iloc[idx_train], labels[idx_train])
    scores, y = detector.score_samples(values.iloc[idx_test]), labels[idx_test]
    metrics = anomaly.detection_metrics(scores, y, detector.threshold_)
    metrics["threshold_rule"] = detector.threshold_info()
    metrics["hold_out_rows"] = int(len(idx_test))
    with atomic_dir(out) as tmp:  # the model directory appears complete or not at all
        detector.save(tmp, metrics=metrics)
        fraud_figures.error_histogram(scores, y, detector.threshold_, tmp / "error_histogram.png",
                                      title="Hold-out anomaly score by class")
        figures.roc_curves([("autoencoder", scores, y)], tmp / "roc.png", title="Hold-out ROC curve")
        fraud_figures.precision_recall_curve(scores, y, tmp / "precision_recall.png",
                                             title="Hold-out precision-recall curve")
        write_json(tmp / "metrics.json", metrics)
    return FraudFitResult(detector, out, metrics, len(values))


def read_training_table(config):
    """The whole training table, checked: (frame of features, labels or None, label column or None)."""
    import pandas as pd

    from keras_ae.fraud import schema, tables

    path = pathlib.Path(config.input)
    header = tables.read_header(path, config.sep)
    label = None if config.label_column.lower() == "none" else config.label_column
    required = ([label] if label else []) + list(config.drop)
    schema.check_columns(header, required, str(path), allowed=header)
    frame = tables.read_table(path, config.sep)
    columns = [c for c in header if c != label and c not in config.drop]
    if not columns:
        raise UsageError(f"{path}: no feature column left after the label and drop=...")
    values = pd.DataFrame(schema.numeric_block(frame, columns, str(path)), columns=columns)
    schema.require_variation(values, columns, str(path))  # at once, not after reading labels and splitting
    labels = schema.labels_block(frame, label, str(path)) if label else None
    if labels is not None:
        schema.require_both_classes(labels, label, str(path), "fit (hold-out metrics)")
        if int(labels.sum()) < 2:
            raise UsageError(f"{path}, column {label!r}: only one fraud; a stratified hold-out needs at least 2")
    return values, labels, label
