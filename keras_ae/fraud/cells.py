"""Cells of a transaction table as the float64 a model scores, or one-line UsageErrors naming the file, row, column
and value of the first that is not a real number a float32 model can take (`numeric_block`); labels as 0/1
(`labels_block`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud.places import where as _where
from keras_ae.fraud.schema import drop_hint

FLOAT32_MAX = float(np.finfo(np.float32).max)  # the models compute in float32: a larger value cannot be scored


def _cell_problem(series: pd.Series, i: int, value: float, nonnumeric: bool) -> str:
    if nonnumeric:
        return f"non-numeric value {str(series.iloc[i])[:30]!r}"
    if np.isnan(value):
        return "empty or NaN value"
    if np.isinf(value):
        return f"infinite value {value}"
    return f"value {value:.9g} is beyond float32's range (|x| <= {FLOAT32_MAX:.9g}); it cannot be scored"


# a decimal number in ASCII, as a CSV parser reads one (surrounding spaces and tabs allowed)
_DECIMAL = re.compile(r"[ \t]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t]*", re.ASCII)


def _real(value) -> float:
    """One cell of an object column as a float: NaN for text, complex numbers, bytes and anything else that is
    not a real number (an integer too large for float64 is infinite)."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (int, np.integer)):
        try:
            return float(value)
        except OverflowError:
            return float(np.sign(int(value))) * np.inf
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):  # as pandas reads a number: not Python's wider float() (١٢, 1_000, a no-break space)
        return float(value) if _DECIMAL.fullmatch(value) else np.nan
    return np.nan  # complex, bytes, dates, lists, ...


def _present(series: pd.Series) -> np.ndarray:
    """Whether each cell holds a value (not NaN, None, NaT, pd.NA). pandas' own test raises on a signalling
    decimal NaN (Decimal("sNaN")); cell by cell, such a cell is present, and no real number."""
    try:
        return series.notna().to_numpy()
    except ArithmeticError:  # decimal.InvalidOperation
        return np.array([v is not None and v is not pd.NA and v is not pd.NaT and not (isinstance(v, float) and v != v)
                         for v in series.tolist()], dtype=bool)


def _object_cells(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, whether each present cell is not a real number) of a column that is not numeric."""
    present = _present(series)
    # pandas decodes bytes (a Parquet binary column) as if they were text: b"1.23" is not a number a model was
    # fitted on
    binary = np.fromiter((isinstance(v, (bytes, bytearray, memoryview)) for v in series.tolist()), dtype=bool,
                         count=len(series))
    try:
        converted = pd.to_numeric(series, errors="coerce")
        if converted.dtype.kind in "biuf":
            values = np.where(binary, np.nan, converted.to_numpy(dtype=np.float64, na_value=np.nan))
            return values, np.isnan(values) & present
    except (ArithmeticError, TypeError, ValueError):  # OverflowError, decimal.InvalidOperation
        pass
    values = np.array([_real(v) if ok else np.nan for v, ok in zip(series.tolist(), present, strict=True)],
                      dtype=np.float64)  # cell by cell: complex numbers, huge integers, mixed objects
    return values, np.isnan(values) & present


def numeric_block(frame: pd.DataFrame, columns: Sequence[str], source: str, first_row: int = 1,
                  reasons: np.ndarray | None = None, text_hint: bool = False) -> np.ndarray:
    """The `columns` of `frame` as float64, or a UsageError naming the first bad cell (row, column, value).

    Non-numeric text, empty cells (NaN), infinities and values beyond float32's range (the models compute in
    float32) are all rejected. With `reasons` (an object array, one entry a row), bad cells are not an error:
    each bad row gets its reason there ("column 'V3': empty or NaN value") and 0.0 in every column.
    `text_hint` (fit) ends the error of a non-numeric value in a column of mostly text with how to leave it out.
    """
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    first = None  # (row index, column, problem) of the earliest bad cell
    for j, col in enumerate(columns):
        series = frame[col]
        if series.dtype.kind in "mM" or isinstance(series.dtype, (pd.PeriodDtype, pd.IntervalDtype)):
            # dates, durations, periods and intervals are not the numbers a model was fitted on
            values = np.full(len(series), np.nan)
            nonnumeric = series.notna().to_numpy()
        elif series.dtype.kind in "biuf":
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            nonnumeric = np.zeros(len(values), dtype=bool)
        elif series.dtype.kind == "c":  # complex numbers are not the real numbers a model was fitted on
            values = np.full(len(series), np.nan)
            nonnumeric = series.notna().to_numpy()
        else:
            values, nonnumeric = _object_cells(series)
        with np.errstate(invalid="ignore"):
            bad = nonnumeric | ~(np.abs(values) <= FLOAT32_MAX)  # NaN compares False: caught here too
            bad |= ~_present(series)  # a missing value of any type (NaT, None, pd.NA)
        if bad.any():
            rows = np.flatnonzero(bad)
            if reasons is not None:
                for i in rows:
                    if not reasons[i]:
                        reasons[i] = f"column {col!r}: {_cell_problem(series, int(i), values[i], nonnumeric[i])}"
                values = np.where(bad, 0.0, values)
            elif first is None or rows[0] < first[0]:
                i = int(rows[0])
                problem = _cell_problem(series, i, values[i], bool(nonnumeric[i]))
                text = nonnumeric[i] and nonnumeric.sum() * 2 > _present(series).sum()  # mostly text: not a feature?
                hint = f"; if {col!r} is not a feature (an id, a name, a date), leave it out: {drop_hint(col, source)}"
                first = (i, col, problem + (hint if text and text_hint else ""))
        out[:, j] = values
    if first is not None:
        raise UsageError(f"{_where(source, first_row + first[0], first[1])}: {first[2]}")
    if reasons is not None:
        out[reasons.astype(bool)] = 0.0
    return out


def labels_block(frame: pd.DataFrame, column: str, source: str, first_row: int = 1) -> np.ndarray:
    """The label column as int 0/1, or a UsageError naming the first other value. The words True and False count
    as 1 and 0 here (a yes/no column, as a boolean Parquet label does), unlike in a feature column."""
    series = frame[column]
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        words = series.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
        if words.isin(["true", "false"]).any():
            frame = frame.assign(**{column: words.map(lambda v: {"true": 1, "false": 0}.get(v, v))})
    values = numeric_block(frame, [column], source, first_row)[:, 0]
    bad = np.flatnonzero((values != 0) & (values != 1))
    if len(bad):
        i = int(bad[0])
        raise UsageError(
            f"{_where(source, first_row + i, column)}: label must be 0 (normal) or 1 (fraud), "
            f"received {float(values[i])!r}"  # all its digits: 1.0000000001 is no 1
        )
    return values.astype(np.int8)
