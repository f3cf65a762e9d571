"""Column and cell checks for transaction tables: one-line UsageErrors naming the file, column and row.

Row numbers are the file's: row 1 is the first data row (line 2 of a CSV with a header). A frame that
comes from a chunk of a file passes `first_row`, so messages still name the row in the file.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError

LABEL_COLUMN = "Class"
KAGGLE_FEATURES = ["Time", *[f"V{i}" for i in range(1, 29)], "Amount"]
KAGGLE_COLUMNS = [*KAGGLE_FEATURES, LABEL_COLUMN]
OTHER_DELIMITERS = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}
# the columns `score` adds to a table: an input column of one of these names would be hidden or overwritten
RESULT_NAMES = ("score", "reconstruction_error", "flag", "top_features", "p_value", "unscorable_reason")


def row_place(source: str, row: int) -> str:
    """"row N (line L)": a CSV row and the line it starts on (row 1 is line 2, after the header, unless quoted
    fields before it span lines); "row N" of a Parquet table."""
    text = str(source).lower().rstrip("/")
    if text.endswith((".parquet", ".pq")) or (source not in ("X", "y") and pathlib.Path(source).is_dir()):
        return f"row {row}"
    line = _start_line(pathlib.Path(source), row) if source not in ("X", "y") else None
    return f"row {row} (line {row + 1 if line is None else line})"


def _start_line(path: pathlib.Path, row: int) -> int | None:
    """The line a data row of a plain CSV file starts on, read as a CSV reader reads it (a quote opens a field only
    at its start, so a quoted field may span lines and `12" screen` does not); None when the file is not such a
    file or cannot be read."""
    import csv

    from keras_ae.fraud.tables import COMPRESSED_SUFFIXES

    try:
        if not path.is_file() or path.suffix.lower() in COMPRESSED_SUFFIXES:
            return None
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            header = f.readline()
            f.seek(0)
            reader = csv.reader(f, delimiter=max((",", ";", "\t", "|"), key=header.count))
            start = 1
            for record, _ in enumerate(reader):  # record 0: the header
                if record == row:
                    return start
                start = reader.line_num + 1
    except (OSError, csv.Error):
        return None
    return None


def _where(source: str, row: int | None = None, column: str | None = None) -> str:
    parts = [source]
    if row is not None:  # a CSV row's line in the file; Parquet has rows, not lines
        parts.append(row_place(source, row))
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


def check_header(header: Sequence[str], source: str, sep: str = ",") -> None:
    """Reject a header that shows the file uses another delimiter, or holds duplicated names."""
    if len(header) == 1:
        for delim, name in OTHER_DELIMITERS.items():
            if delim != sep and delim in str(header[0]):
                raise UsageError(
                    f"{source}: the header is one column {str(header[0])[:40]!r}...; the file "
                    f"looks separated by {name}, not sep={sep!r}"
                )
    seen = set()
    for name in header:
        if name in seen:
            raise UsageError(f"{source}: column {name!r} appears twice in the header")
        seen.add(name)


def check_result_names(header: Sequence[str], source: str, fitting: bool = True) -> None:
    """No column of a table to fit on or to write scored may bear the name of a column scoring adds
    (`RESULT_NAMES`): the scored table would hold it twice (a CSV: the user's `flag` read back instead of the
    detector's) or overwrite it (Parquet). Scores in Python and `evaluate` write no table: they do not ask."""
    clash = next((str(c) for c in header if str(c) in RESULT_NAMES), None)
    if clash is not None:
        advice = "rename it" if fitting else "rename it in the table (and refit a model fitted on it)"
        raise UsageError(f"{_where(source, column=clash)}: named like a column that scoring adds "
                         f"({', '.join(RESULT_NAMES)}); the scored table would hold two, so {advice}")


def check_columns(
    header: Sequence[str], required: Sequence[str], source: str, allowed: Sequence[str] = ()
) -> None:
    """Every `required` column must be present; any column neither required nor `allowed` is extra."""
    present = set(header)
    missing = [c for c in required if c not in present]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UsageError(
            f"{_where(source, column=missing[0])}: missing{more}; expected columns: {short_list(required)}"
        )
    known = set(required) | set(allowed)
    extra = [c for c in header if c not in known]
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise UsageError(
            f"{_where(source, column=extra[0])}: unexpected column{more}; expected columns: "
            f"{short_list(required)} (name columns to ignore with drop=...)"
        )


def check_column_options(header: Sequence[str], source: str, time_column: str, time_mode: str,
                         amount_column: str, label_column: str | None = None, drop: Sequence[str] = ()) -> None:
    """Column options must name columns the table has: a time column to transform (time_mode hour or keep) or one
    other than the default "Time" (to drop), an amount column other than the default "Amount", the label column,
    every dropped column; the time and amount columns differ."""
    present = set(map(str, header))
    named = [("time_column", time_column)] if time_mode != "drop" or time_column != "Time" else []
    if amount_column != "Amount":
        named.append(("amount_column", amount_column))
    if label_column is not None:
        named.append(("label_column", label_column))
    named += [("drop", c) for c in drop]
    for option, column in named:
        if str(column) not in present:
            raise UsageError(f"{option}={column!r}: {source} has no such column (columns: {short_list(header)})")
    if time_column == amount_column:
        raise UsageError(f"time_column and amount_column both name {time_column!r}")


def short_list(names: Sequence[str], limit: int = 8) -> str:
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[: limit - 2]) + f", ..., {names[-1]}"


def require_variation(values: pd.DataFrame, features: Sequence, source: str, rows: str = "rows") -> None:
    """A UsageError naming the columns when none of `features` varies over `values`: every row would get the
    same score and nothing could ever be flagged. (Some constant columns are fine: a value there that differs
    at scoring time is itself a reason to flag a row.)"""
    block = values[list(features)].to_numpy(dtype=np.float64)
    constant = [str(c) for c, same in zip(features, np.ptp(block, axis=0) == 0, strict=True) if same]
    if len(features) and len(constant) == len(features):
        raise UsageError(f"{source}: no feature varies over the {len(values):,} {rows} (constant columns: "
                         f"{short_list(constant)}); there is nothing to learn")


FLOAT32_MAX = float(np.finfo(np.float32).max)  # the models compute in float32: a larger value cannot be scored


def _cell_problem(series: pd.Series, i: int, value: float, nonnumeric: bool) -> str:
    if nonnumeric:
        return f"non-numeric value {str(series.iloc[i])[:30]!r}"
    if np.isnan(value):
        return "empty or NaN value"
    if np.isinf(value):
        return f"infinite value {value}"
    return f"value {value:g} is beyond float32's range (|x| <= {FLOAT32_MAX:.4g}); it cannot be scored"


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


def _object_cells(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, whether each present cell is not a real number) of a column that is not numeric."""
    present = series.notna().to_numpy()
    # pandas decodes bytes (a Parquet binary column) as if they were text: b"1.23" is not a number a model was
    # fitted on
    binary = np.fromiter((isinstance(v, (bytes, bytearray, memoryview)) for v in series.tolist()), dtype=bool,
                         count=len(series))
    try:
        converted = pd.to_numeric(series, errors="coerce")
        if converted.dtype.kind in "biuf":
            values = np.where(binary, np.nan, converted.to_numpy(dtype=np.float64, na_value=np.nan))
            return values, np.isnan(values) & present
    except (OverflowError, TypeError, ValueError):
        pass
    values = np.array([_real(v) if ok else np.nan for v, ok in zip(series.tolist(), present, strict=True)],
                      dtype=np.float64)  # cell by cell: complex numbers, huge integers, mixed objects
    return values, np.isnan(values) & present


def numeric_block(frame: pd.DataFrame, columns: Sequence[str], source: str, first_row: int = 1,
                  reasons: np.ndarray | None = None, text_hint: str = "") -> np.ndarray:
    """The `columns` of `frame` as float64, or a UsageError naming the first bad cell (row, column, value).

    Non-numeric text, empty cells (NaN), infinities and values beyond float32's range (the models compute in
    float32) are all rejected. With `reasons` (an object array, one entry a row), bad cells are not an error:
    each bad row gets its reason there ("column 'V3': empty or NaN value") and 0.0 in every column.
    `text_hint` ends the error of a non-numeric value in a column of mostly text (fit: how to leave it out).
    """
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    first = None  # (row index, column, problem) of the earliest bad cell
    for j, col in enumerate(columns):
        series = frame[col]
        if series.dtype.kind in "mM":  # dates and durations are not the numbers a model was fitted on
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
            bad |= series.isna().to_numpy()  # a missing value of any type (NaT, None, pd.NA)
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
                text = nonnumeric[i] and nonnumeric.sum() * 2 > series.notna().sum()  # mostly text: not a feature?
                first = (i, col, problem + (text_hint.format(column=col) if text else ""))
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
    if series.dtype == object:
        words = series.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
        if words.isin(["true", "false"]).any():
            frame = frame.assign(**{column: words.map(lambda v: {"true": 1, "false": 0}.get(v, v))})
    values = numeric_block(frame, [column], source, first_row)[:, 0]
    bad = np.flatnonzero((values != 0) & (values != 1))
    if len(bad):
        i = int(bad[0])
        raise UsageError(
            f"{_where(source, first_row + i, column)}: label must be 0 (normal) or 1 (fraud), "
            f"received {values[i]:g}"
        )
    return values.astype(np.int8)


def require_both_classes(labels: np.ndarray, column: str, source: str, purpose: str) -> None:
    """Metrics and labelled thresholds need at least one fraud and one normal row."""
    n_fraud = int(np.sum(labels == 1))
    if n_fraud == 0:
        raise UsageError(
            f"{_where(source, column=column)}: no fraud (label 1) among {len(labels)} rows; "
            f"{purpose} needs at least one"
        )
    if n_fraud == len(labels):
        raise UsageError(
            f"{_where(source, column=column)}: every row is a fraud (label 1); "
            f"{purpose} needs normal rows too"
        )


def check_file(path: str | os.PathLike) -> pathlib.Path:
    """The CSV file must exist, be a file and not be empty."""
    path = pathlib.Path(path)
    if not path.exists():
        hint = ""
        if path.name == "creditcard.csv":  # the Kaggle table the README names
            from keras_ae.fraud.download import CREDITCARD_URL

            hint = (f" (the credit-card table: download it from {CREDITCARD_URL} or Kaggle, mlg-ulb/creditcardfraud; "
                    "in Python keras_ae.fraud.fetch_creditcard() returns its path)")
        raise UsageError(f"{path}: no such file{hint}")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise UsageError(f"{path}: the file is empty (expected a CSV header and rows)")
    return path


def csv_separator(sep: object) -> str:
    """`sep` as the one character a CSV file is read and written with; ``\\t`` as typed in a shell (a backslash
    and a t) is a tab. Anything else (several characters, which pandas would take as a pattern the scored table
    could not be written with, a newline, a quote) is a ValueError saying what is wanted."""
    sep = "\t" if sep in ("\\t", "tab") else sep
    if not isinstance(sep, str) or len(sep) != 1 or sep in ("\n", "\r", '"'):
        raise ValueError(f"must be one character such as ',', ';' or a tab ('\\t'), received {sep!r}")
    return sep


def read_header(path: str | os.PathLike, sep: str = ",") -> list[str]:
    """Column names of a CSV file, checked (exists, not empty, plausible delimiter, no duplicates)."""
    path = check_file(path)
    try:
        sep = csv_separator(sep)
    except ValueError as err:
        raise UsageError(f"sep {err}", param="sep") from None
    engine = "c" if len(sep) == 1 else "python"
    try:  # pandas skips blank lines to find the header, but reads the rows with them: the header must come first
        first = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine=engine).iloc[0].tolist()
        blank = all(not str(value).strip() for value in first)
    except pd.errors.EmptyDataError:
        blank = True
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError):
        blank = False  # said below
    if blank:
        raise UsageError(f"{path}: line 1 holds no column names; the first line must be the header row (remove any "
                         "blank lines above it)")
    try:
        header = list(pd.read_csv(path, sep=sep, nrows=0, engine=engine).columns)
        # pandas renames a repeated name ("V1" twice -> "V1", "V1.1"): the raw first row shows the file's names
        raw = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False,
                          engine=engine).iloc[0].tolist()
        if len(raw) == len(header) and len(set(raw)) < len(raw):
            header = raw
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as err:
        # OSError / EOFError: a truncated or corrupt compressed file (gzip, bz2, zip, zstd); ValueError: a zip
        # archive holding no file or several
        raise UsageError(f"{path}: cannot read a CSV header: {str(err).splitlines()[0]}") from None
    check_header(header, str(path), sep)
    return [str(c) for c in header]
