"""A fraud fit as a run: read a transactions CSV, hold out a stratified test share, fit a `FraudDetector` on the
normal rows of the rest, write the bundle, hold-out metrics and pictures. `keras-ae-fraud fit` is `fit_fraud`
behind argparse."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, ClassVar

from keras_ae import options
from keras_ae.errors import UsageError
from keras_ae.fraud import params
from keras_ae.runs.common import require_paths

DEFAULT_LABEL = "Class"  # the label column of the credit-card file (keras_ae.fraud.schema.LABEL_COLUMN)


@dataclasses.dataclass
class FraudFitConfig:
    input: str
    out: str
    label_column: str = "Class"  # DEFAULT_LABEL; absent from the table: every row is normal
    drop: tuple[str, ...] = ()
    time_column: str = "Time"
    time_mode: str = "drop"
    amount_column: str = "Amount"
    log_amount: bool = True
    test_size: float = 0.3
    threshold_rule: str = "alpha"
    threshold_value: float | None = None
    trim_fraction: float = 0.0
    method: str = "ae+knn"
    n_neighbors: int = 1
    ae_weight: float = 0.25
    n_models: int = 3
    epochs: int = 100
    seed: int = 0
    sep: str = ","
    verbose: int = 1

    # The detector's own specifications, under its own parameter names (one rule per option, `keras_ae.options`).
    SPECS: ClassVar[dict] = {"test_size": options.FRACTION_OPEN,
                             **{name: params.FIT_SPECS[name] for name in ("trim_fraction", "n_neighbors", "ae_weight",
                                                                      "n_models", "epochs", "seed")}}
    CHOICES: ClassVar[dict] = {"time_mode": params.TIME_MODES, "method": params.METHODS, "verbose": (0, 1, 2),
                               "log_amount": (True, False)}

    def check(self) -> None:
        """UsageError naming the first option out of range, before any work (no file is read)."""
        from keras_ae.anomaly.thresholds import check_rule

        require_paths(self, "input", "out")
        for name, spec in self.SPECS.items():
            setattr(self, name, spec.check(name, getattr(self, name)))
        for name, choices in self.CHOICES.items():
            if getattr(self, name) not in choices:
                raise UsageError(f"{name} must be one of {', '.join(map(str, choices))}, "
                                 f"received {getattr(self, name)!r}", param=name)
        for name in ("label_column", "time_column", "amount_column", "sep"):
            if not isinstance(getattr(self, name), str):
                raise UsageError(f"{name} must be a string, received {getattr(self, name)!r}", param=name)
        if isinstance(self.drop, str) or not all(isinstance(c, str) for c in self.drop):
            raise UsageError(f"drop must be a list of column names, received {self.drop!r}")
        params.check_roles(self.label_column, self.time_column, self.time_mode, self.drop, self.amount_column)
        check_rule(self.threshold_rule, self.threshold_value)

    def check_files(self, other_inputs: tuple = ()):
        """The input's header and the output, checked before any work (one line naming a missing or repeated
        column, or a column option that names no column); returns the opened `tables.Table` to pass along."""
        from keras_ae import outputs
        from keras_ae.fraud import schema, tables

        table = tables.open_table(self.input, self.sep)
        label = self.label(table.header)
        schema.check_column_options(table.header, str(self.input), self.time_column, self.time_mode,
                                    self.amount_column, label, self.drop)
        outputs.check_output(self.out, "model", [self.input, *other_inputs])
        return table

    def label(self, header) -> str | None:
        """The label column of a table with this header, or None: 'none', or the default label column absent
        (a table of normal transactions: every row is taken as normal). A label column named otherwise and
        absent is a UsageError."""
        if self.label_column.lower() == "none":
            return None
        if self.label_column not in header:
            if self.label_column == DEFAULT_LABEL:
                return None
            raise UsageError(f"{self.input}, column {self.label_column!r}: missing (the 0/1 label column; for a "
                             "table of normal rows without labels, use label_column='none')")
        return self.label_column

    def detector(self, label: str | None):
        from keras_ae.fraud import FraudDetector

        return FraudDetector(n_models=self.n_models, epochs=self.epochs, threshold_rule=self.threshold_rule,
                             threshold_value=self.threshold_value, trim_fraction=self.trim_fraction,
                             method=self.method, n_neighbors=self.n_neighbors, ae_weight=self.ae_weight,
                             label_column=label or ("" if self.label_column.lower() == "none" else DEFAULT_LABEL),
                             time_column=self.time_column,
                             amount_column=self.amount_column, time_mode=self.time_mode,
                             log_amount=self.log_amount, drop=tuple(self.drop), seed=self.seed,
                             verbose=self.verbose)


@dataclasses.dataclass
class FraudFitResult:
    detector: Any
    out: pathlib.Path
    metrics: dict | None
    rows: int


def fit_fraud(config: FraudFitConfig, table=None) -> FraudFitResult:
    """Fit on the normal rows of the table (all rows when it has no labels); hold-out metrics when it has.

    `config.input` is a CSV (also compressed), a Parquet file or a directory of Parquet files; `config.out` must be
    a new path or a fraud model directory (replaced only when the new one is complete). `table`: the input already
    opened and its files checked by `config.check_files()` (the command does so before TensorFlow loads)."""
    from keras_ae import outputs

    config.check()
    table = config.check_files() if table is None else table
    with outputs.claimed(config.out, "model", [config.input]) as out:
        return _fit(config, out, table)


def _fit(config: FraudFitConfig, out: pathlib.Path, table) -> FraudFitResult:
    import numpy as np
    from sklearn.model_selection import train_test_split

    from keras_ae import anomaly, figures
    from keras_ae.fraud import bundle
    from keras_ae.fraud import figures as fraud_figures
    from keras_ae.fraud.preprocess import Preprocessor
    from keras_ae.io import atomic_dir, write_json

    values, labels, label = read_training_table(config, table)
    detector = config.detector(label)
    # every row is scored, the held-out ones too: each needs its hour of day where the time mode reads it
    Preprocessor.of(detector, values.columns).require_hours(values, np.arange(len(values)) + 1, str(table.path))
    if labels is None:
        require_rows(table.path, len(values), "rows")
        require_spread(detector, values, np.arange(len(values)), table.path)
        print(f"fitting on {len(values):,} unlabelled rows (no hold-out metrics)")
        detector.fit(values)
        with atomic_dir(out) as tmp:
            bundle.save(detector, tmp)
        return FraudFitResult(detector, pathlib.Path(config.out), None, len(values))
    n_test = int(np.ceil(config.test_size * len(values)))
    if n_test < 2 or len(values) - n_test < 2:
        raise UsageError(f"test_size={config.test_size} holds out {n_test} of {len(values):,} rows; the stratified "
                         "hold-out and the training rows each need at least one normal row and one fraud")
    try:
        idx_train, idx_test = train_test_split(np.arange(len(values)), test_size=config.test_size, stratify=labels,
                                               random_state=config.seed)
    except ValueError as err:  # too few rows of a class for the split asked for
        raise UsageError(f"test_size={config.test_size}: {err}") from None
    for part, idx in (("hold-out", idx_test), ("training", idx_train)):
        frauds = int(labels[idx].sum())
        if frauds == 0 or frauds == len(idx):
            raise UsageError(f"test_size={config.test_size} leaves the {part} rows ({len(idx):,}) with "
                             f"{'no fraud' if frauds == 0 else 'only frauds'}; choose a test size that keeps both "
                             "classes on each side")
    require_rows(table.path, int((labels[idx_train] == 0).sum()),
                 f"normal rows among the {len(idx_train):,} training rows (test_size={config.test_size} holds out "
                 f"{len(idx_test):,})")
    require_spread(detector, values, idx_train[labels[idx_train] == 0], table.path)  # the rows fit learns from
    print(f"fitting on the normal rows of {len(idx_train):,} training rows (its {int(labels[idx_train].sum())} "
          "frauds are not learnt from: they are scored for the validation pictures and the f1 threshold rule); "
          f"hold-out: {len(idx_test):,} rows, {int(labels[idx_test].sum())} frauds")
    detector.fit(values.iloc[idx_train], labels[idx_train])
    scores, y = detector.score_samples(values.iloc[idx_test]), labels[idx_test]
    metrics = anomaly.detection_metrics(scores, y, detector.threshold_)
    metrics["threshold_rule"] = detector.threshold_info()
    metrics["hold_out_rows"] = int(len(idx_test))
    with atomic_dir(out) as tmp:  # the model directory appears complete or not at all
        bundle.save(detector, tmp, metrics=metrics)
        fraud_figures.error_histogram(scores, y, detector.threshold_, tmp / "error_histogram.png",
                                      title="Hold-out anomaly score by class")
        figures.roc_curves([(f"score ({detector.method})", scores, y)], tmp / "roc.png", title="Hold-out ROC curve")
        fraud_figures.precision_recall_curve(scores, y, tmp / "precision_recall.png",
                                             title="Hold-out precision-recall curve", threshold=detector.threshold_)
        write_json(tmp / "metrics.json", metrics)
        bundle.write_manifest(tmp)  # last: every file of the directory, verified when the model is loaded
    return FraudFitResult(detector, pathlib.Path(config.out), metrics, len(values))


def require_rows(path, count: int, what: str) -> None:
    """A UsageError naming the file when fewer rows than a fit needs are left to learn from."""
    from keras_ae.fraud.detector import MIN_NORMAL_ROWS

    if count < MIN_NORMAL_ROWS:
        raise UsageError(f"{path}: {count} {what}; at least {MIN_NORMAL_ROWS} normal rows are needed to fit")


def require_spread(detector, values, positions, path) -> None:
    """The spread check (`Preprocessor.require_spread`) on the normal rows `fit` will learn from (their positions
    in the file's rows), naming the file's row."""
    from keras_ae.fraud.preprocess import Preprocessor

    Preprocessor.of(detector, values.columns).require_spread(values.iloc[positions].reset_index(drop=True),
                                                             positions + 1, str(path))


def read_training_table(config, table=None):
    """The whole training table (`table`: the `tables.Table` already opened, else `config.input` is), checked:
    (frame of features, labels or None, label column or None)."""
    import pandas as pd

    from keras_ae.fraud import cells, schema, tables

    table = table or tables.open_table(config.input, config.sep)
    path, header = table.path, table.header
    label = config.label(header)
    if label is None and config.label_column.lower() != "none":
        print(f"note: {path} has no {config.label_column!r} column: every row is taken as normal (no hold-out "
              "metrics); name the 0/1 label column with label_column (--label-column) if it has another name")
    required = ([label] if label else []) + list(config.drop)
    schema.check_result_names(header, str(path))
    schema.check_columns(header, required, str(path), allowed=header)
    frame = tables.read_table(table)
    columns = [c for c in header if c != label and c not in config.drop]
    if not columns:
        raise UsageError(f"{path}: no feature column left after the label and drop=...")
    if columns == [config.time_column] and config.time_mode == "drop":
        raise UsageError(f"{path}: the only feature column left after the label and drop=... is the time column "
                         f"{config.time_column!r}, which time_mode 'drop' leaves out (--time hour or keep uses it)")
    schema.check_named_features(columns, header, str(path))
    values = pd.DataFrame(cells.numeric_block(frame, columns, str(path), text_hint=True), columns=columns)
    schema.require_variation(values, columns, str(path))  # at once, not after reading labels and splitting
    labels = cells.labels_block(frame, label, str(path)) if label else None
    if labels is not None:
        schema.require_both_classes(labels, label, str(path), "fit (hold-out metrics)")
        if int(labels.sum()) < 2:
            raise UsageError(f"{path}, column {label!r}: only one fraud; a stratified hold-out needs at least 2")
    return values, labels, label
