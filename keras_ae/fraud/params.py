"""The fraud detector's numeric parameters, one specification each (`keras_ae.options`): `FraudDetector`, the fit
command's options and config files all check them with these (light: importing it loads no NumPy or Keras).
`check` applies them, and the other parameter rules, to a detector."""

from __future__ import annotations

from keras_ae import options

SPECS = {
    "n_models": options.POSITIVE_INT, "epochs": options.POSITIVE_INT, "patience": options.POSITIVE_INT,
    "learning_rate": options.LEARNING_RATE, "validation_fraction": options.FRACTION_OPEN,
    "noise": options.NON_NEGATIVE, "weight_decay": options.NON_NEGATIVE, "clip": options.POSITIVE,
    "trim_fraction": options.Spec(float, 0, 0.5, high_open=True), "batch_size": options.OPTIONAL_POSITIVE_INT,
    "latent_dim": options.OPTIONAL_POSITIVE_INT, "n_neighbors": options.POSITIVE_INT,
    "ae_weight": options.Spec(float, 0, 1e6), "max_reference": options.Spec(int, 2), "seed": options.SEED,
}
# Rules for a new fit only (a saved detector made before them still loads): n_models bounded, so that a slip
# (1000000000) is refused rather than left to fill memory.
FIT_SPECS = {**SPECS, "n_models": options.Spec(int, 1, 100)}
TIME_MODES = ("drop", "hour", "keep")
METHODS = ("ae+knn", "ae", "knn")
DEFAULT_CHUNKSIZE = 20_000  # rows a chunk: bounded memory (about 3 KB a row while scored), little overhead
UNSCORABLE = ("refuse", "flag")  # what a detector does with a row it cannot score (see `keras_ae.fraud.rows`)


def check(detector, fitting: bool = False) -> None:
    """UsageError naming the first parameter of `detector` out of range, with its value (`SPECS`, the detector's
    `CHOICES`, the column options and the threshold rule); `fitting`: also the rules for a new fit (`FIT_SPECS`,
    `check_roles`), which a saved detector made before them need not meet."""
    from keras_ae.anomaly.thresholds import check_rule
    from keras_ae.errors import UsageError

    for name, spec in (FIT_SPECS if fitting else detector.SPECS).items():
        value = getattr(detector, name)
        spec.check(name, value)
        plain = value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value
        if spec.kind is int and isinstance(plain, float):  # 3.0 reads as 3 on the command line, not in Python
            raise UsageError(f"{name} must be an integer, received {value!r}", param=name)
    if not isinstance(detector.log_amount, (bool, type(None))) and type(detector.log_amount).__name__ != "bool_":
        raise UsageError(f"log_amount must be True or False, received {detector.log_amount!r}", param="log_amount")
    hidden = detector.hidden
    if hidden is not None:
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__") or not len(hidden):
            raise UsageError(f"hidden must be a list of layer widths, received {hidden!r}")
        for width in hidden:
            options.POSITIVE_INT.check("hidden", width)
    for name, choices in detector.CHOICES.items():
        value = getattr(detector, name)  # True == 1 and 1.0 == 1 in Python: no choice is a bool or a float
        if isinstance(value, (bool, float)) or value not in choices:
            raise UsageError(f"{name} must be one of {', '.join(map(str, choices))}, "
                             f"received {getattr(detector, name)!r}", param=name)
    for name in ("label_column", "time_column", "amount_column"):
        if not isinstance(getattr(detector, name), str):
            raise UsageError(f"{name} must be a column name, received {getattr(detector, name)!r}", param=name)
    if isinstance(detector.drop, (str, bytes)) or not isinstance(detector.drop, (list, tuple)) or \
            not all(isinstance(c, str) for c in detector.drop):
        raise UsageError(f"drop must be a list of column names, received {detector.drop!r}")
    if fitting:
        check_roles(detector.label_column, detector.time_column, detector.time_mode, detector.drop,
                    detector.amount_column)
    try:
        check_rule(detector.threshold_rule, detector.threshold_value)
    except UsageError:
        raise
    except ValueError as err:
        raise UsageError(str(err)) from None


def check_roles(label_column: str, time_column: str, time_mode: str, drop, amount_column: str) -> None:
    """A UsageError for a column named in two roles that cannot both hold: `drop` naming the label column (a
    label is never a feature; it would still be read as the label) or the time column that `time_mode` hour or
    keep uses (it would be ignored without a word), or an amount column that is the label column. (Dropping the
    amount column is fine: it keeps that column out of the features.)"""
    from keras_ae.errors import UsageError

    twice = [c for i, c in enumerate(drop) if c in list(drop)[:i]]
    if twice:
        raise UsageError(f"drop={list(drop)!r} names {twice[0]!r} twice")
    if label_column and label_column in drop:
        raise UsageError(f"drop={list(drop)!r} names {label_column!r}, the label column (label_column="
                         f"{label_column!r}), which is never a feature; leave it out of drop (a table without "
                         "labels has none as its label column: '' in Python, none on the command line)")
    if time_mode != "drop" and time_column in drop:
        raise UsageError(f"drop={list(drop)!r} names {time_column!r}, the time column that time_mode={time_mode!r} "
                         "uses; leave it out of drop, or time_mode 'drop'")
    if label_column and amount_column == label_column:
        raise UsageError(f"amount_column and label_column both name {amount_column!r}")
    if label_column and time_column == label_column:
        raise UsageError(f"time_column and label_column both name {time_column!r}")
