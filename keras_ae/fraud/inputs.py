"""The fraud detector's input boundary: a table (DataFrame or 2-D array) and labels, checked once, with
one-line errors that name the problem (sparse, complex, wrong width, wrong columns, no rows)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import cells, schema


def as_frame(detector: Any, X: Any, source: str = "X") -> pd.DataFrame:
    """X as a DataFrame with string column names; once `detector` is fitted, its columns are checked."""
    from scipy import sparse

    fitted = hasattr(detector, "columns_")
    if sparse.issparse(X):
        raise UsageError(f"{source}: sparse input is not supported; pass a dense array or a DataFrame")
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise UsageError(f"{source}: expected a 2-D table of rows x features, received shape {arr.shape}")
        if arr.dtype.kind == "c":
            raise UsageError(f"{source}: Complex data not supported")
        names = [f"x{i}" for i in range(arr.shape[1])]
        if fitted:
            if arr.shape[1] != len(detector.columns_):
                raise UsageError(f"{source} has {arr.shape[1]} features, but {type(detector).__name__} is "
                                 f"expecting {len(detector.columns_)} features as input")
            if hasattr(detector, "feature_names_in_"):
                warnings.warn(f"X does not have valid feature names, but {type(detector).__name__} was fitted "
                              "with feature names", UserWarning, stacklevel=4)
            names = detector.columns_
        frame = pd.DataFrame(arr, columns=names)
    if not all(isinstance(c, str) for c in frame.columns):  # e.g. pd.DataFrame(array): 0, 1, 2 -> "0", "1", "2"
        frame = frame.rename(columns=str)
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise UsageError(f"{source}: column {str(repeated[0])!r} appears twice")
    if fitted:
        schema.check_columns(list(frame.columns), detector.columns_, source,
                             allowed=[detector.label_column, *detector.drop])
    if len(frame) == 0:
        raise UsageError(f"{source}: no rows")
    return frame


def labels(y: Any, n: int) -> np.ndarray:
    """`y` as int8 0/1 labels for `n` rows, or a UsageError naming the first bad one."""
    y = np.asarray(y).ravel()
    if len(y) != n:
        raise UsageError(f"y: {len(y)} labels for {n} rows")
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        raise UsageError("y: labels must be 0 (normal) or 1 (fraud)") from None
    bad = np.flatnonzero(~np.isin(values, (0, 1)))
    if len(bad):
        raise UsageError(f"y: row {bad[0] + 1}: label must be 0 (normal) or 1 (fraud), received {y[bad[0]]!r}")
    return values.astype(np.int8)


def values(detector: Any, X: Any, source: str = "X") -> pd.DataFrame:
    """The fitted detector's checked feature columns of X as float64, in the order of `columns_` (every cell
    checked, whatever the dtype: a NaN in a float64 frame is refused like one in a CSV)."""
    frame = as_frame(detector, X, source)
    return pd.DataFrame(cells.numeric_block(frame, detector.columns_, source), columns=detector.columns_)


def fit_table(detector: Any, X: Any, y: Any = None) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    """What `fit` learns from: (the feature columns, their values as float64, labels 0/1 per row). A DataFrame's
    label column gives the labels when `y` is None, and is left out of the features with `detector.drop`."""
    frame = as_frame(detector, X)
    if isinstance(X, pd.DataFrame) and y is None and detector.label_column in frame.columns:
        y = cells.labels_block(frame, detector.label_column, "X")
    label = detector.label_column if isinstance(X, pd.DataFrame) and y is None and \
        detector.label_column not in (schema.LABEL_COLUMN, "") else None  # one named on purpose must be there
    schema.check_result_names(list(frame.columns), "X")
    # drop names columns to leave out where a table has them (the command passes X without them), not checked here
    schema.check_column_options(list(frame.columns), "X", detector.time_column, detector.time_mode,
                                detector.amount_column, label)
    drop = {detector.label_column, *detector.drop} if isinstance(X, pd.DataFrame) else set()
    columns = [c for c in frame.columns if c not in drop]
    if not columns:
        raise UsageError(f"X: 0 feature(s) (shape=({len(frame)}, 0)) while a minimum of 1 is required.")
    schema.check_named_features(columns, list(frame.columns), "X")
    table = pd.DataFrame(cells.numeric_block(frame, columns, "X", text_hint=True), columns=columns)
    given = np.zeros(len(table), dtype=np.int8) if y is None else labels(y, len(table))
    if isinstance(X, pd.DataFrame) and y is not None and detector.label_column in frame.columns:
        try:  # both: they must agree, or which is meant? (a column without labels, blank or NaN, leaves y to say)
            own = cells.labels_block(frame, detector.label_column, "X")
        except UsageError:
            own = given
        differ = np.flatnonzero(own != given)
        if len(differ):
            raise UsageError(f"y and X's label column {detector.label_column!r} disagree in {len(differ):,} row(s) "
                             f"(first: row {differ[0] + 1}, y={given[differ[0]]}, {detector.label_column}="
                             f"{own[differ[0]]}); give the labels once: y, or the column")
    return columns, table, given
