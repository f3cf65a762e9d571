"""The fraud detector's numeric parameters, one specification each (`keras_ae.options`): `FraudDetector`, the fit
command's options and config files all check them with these (light: importing it loads no NumPy or Keras).
`check` applies them, and the other parameter rules, to a detector."""

from __future__ import annotations

from keras_ae import options

SPECS = {
    "n_models": options.Spec(int, 1, 100),  # a bound, so that a slip (1000000000) is refused, not left to fill memory
    "epochs": options.POSITIVE_INT, "patience": options.POSITIVE_INT,
    "learning_rate": options.POSITIVE, "validation_fraction": options.FRACTION_OPEN,
    "noise": options.NON_NEGATIVE, "weight_decay": options.NON_NEGATIVE, "clip": options.POSITIVE,
    "trim_fraction": options.Spec(float, 0, 0.5, high_open=True), "batch_size": options.OPTIONAL_POSITIVE_INT,
    "latent_dim": options.OPTIONAL_POSITIVE_INT, "n_neighbors": options.POSITIVE_INT,
    "ae_weight": options.Spec(float, 0, 1e6), "max_reference": options.Spec(int, 2), "seed": options.SEED,
}
TIME_MODES = ("drop", "hour", "keep")
METHODS = ("ae+knn", "ae", "knn")
UNSCORABLE = ("refuse", "flag")  # what a detector does with a row it cannot score (see `keras_ae.fraud.rows`)


def check(detector) -> None:
    """UsageError naming the first parameter of `detector` out of range, with its value (`SPECS`, the detector's
    `CHOICES`, the column options and the threshold rule)."""
    from keras_ae.anomaly.thresholds import check_rule
    from keras_ae.errors import UsageError

    for name, spec in detector.SPECS.items():
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
        if getattr(detector, name) not in choices:
            raise UsageError(f"{name} must be one of {', '.join(map(str, choices))}, "
                             f"received {getattr(detector, name)!r}", param=name)
    for name in ("label_column", "time_column", "amount_column"):
        if not isinstance(getattr(detector, name), str):
            raise UsageError(f"{name} must be a column name, received {getattr(detector, name)!r}", param=name)
    if isinstance(detector.drop, (str, bytes)) or not all(isinstance(c, str) for c in detector.drop):
        raise UsageError(f"drop must be a list of column names, received {detector.drop!r}")
    check_roles(detector.label_column, detector.amount_column, detector.time_column,
                getattr(detector, "time_mode", "drop"), detector.drop)
    try:
        check_rule(detector.threshold_rule, detector.threshold_value)
    except UsageError:
        raise
    except ValueError as err:
        raise UsageError(str(err)) from None


def check_roles(label_column: str, amount_column: str, time_column: str, time_mode: str, drop) -> None:
    """One column, one role: a UsageError when `drop` names the label, amount or (used) time column, which would be
    used all the same, or when the amount column is the label column."""
    from keras_ae.errors import UsageError

    roles = {"label_column": label_column, "amount_column": amount_column}
    if time_mode != "drop":
        roles["time_column"] = time_column
    if not label_column:  # "": no label column
        del roles["label_column"]
    for name, column in roles.items():
        if column in drop:
            raise UsageError(f"drop={list(drop)!r} names {column!r}, the {name.replace('_', ' ')} "
                             f"({name}={column!r}); leave it out of drop")
    if label_column and amount_column == label_column:
        raise UsageError(f"amount_column and label_column both name {amount_column!r}")
