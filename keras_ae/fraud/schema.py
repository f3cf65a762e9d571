"""Column and header checks for transaction tables: one-line UsageErrors naming the file and column.

The cells themselves are read in `keras_ae.fraud.cells`; where a problem is (file, row, line, column) is said by
`keras_ae.fraud.places`.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud.places import where as _where

LABEL_COLUMN = "Class"
KAGGLE_FEATURES = ["Time", *[f"V{i}" for i in range(1, 29)], "Amount"]
KAGGLE_COLUMNS = [*KAGGLE_FEATURES, LABEL_COLUMN]
OTHER_DELIMITERS = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}
# the columns `score` adds to a table: an input column of one of these names would be hidden or overwritten
RESULT_NAMES = ("score", "reconstruction_error", "flag", "top_features", "p_value", "unscorable_reason")


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


def check_named_features(features: Sequence, header: Sequence, source: str) -> None:
    """A feature to fit on must have a name: a header field left empty (pandas calls it "Unnamed: 5") is the row
    index written with the table, or a separator ending the header line, never a measurement to learn."""
    for column in features:
        if _UNNAMED.fullmatch(str(column)) or not str(column).strip():
            at = list(header).index(column) + 1
            why = "the row index written with the table?" if at == 1 else \
                "a separator ending the header line?" if at == len(header) else "a name left out?"
            raise UsageError(f"{_where(source, column=column)}: column {at} of {len(header)} has no name in the "
                             f"header ({why}); name it, or leave it out: {drop_hint(str(column), source)}")


_UNNAMED = re.compile(r"Unnamed: \d+(_level_\d+)?")  # what pandas calls a column without a name


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
        alike = [str(c) for c in header if str(c).strip().lower() == str(missing[0]).strip().lower()]
        hint = f" (the table has {alike[0]!r}: spaces or capitals differ)" if alike else ""
        raise UsageError(
            f"{_where(source, column=missing[0])}: missing{more}{hint}; expected columns: {short_list(required)}"
        )
    known = set(required) | set(allowed)
    extra = [c for c in header if c not in known]
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        if str(extra[0]) in RESULT_NAMES:  # a scored table given back: refitting without `score` would not help
            raise UsageError(f"{_where(source, column=extra[0])}: a column that scoring adds: this is a scored table; "
                             "score the table it was made from")
        if _UNNAMED.fullmatch(str(extra[0])):  # pandas' name for an empty header field: say what the file holds
            at = list(header).index(extra[0]) + 1
            why = "the row index written with the table?" if at == 1 else \
                "a separator ending the header line?" if at == len(header) else "a name left out?"
            raise UsageError(f"{source}: column {at} of {len(header)} has no name in the header ({why}); a model "
                             f"scores only the columns it was fitted on: {short_list(required)}")
        raise UsageError(
            f"{_where(source, column=extra[0])}: unexpected column{more}; expected columns: "
            f"{short_list(required)} (a model ignores only the columns dropped when it was fitted: remove this one "
            f"from the table, or refit without it: {drop_hint(extra[0], source)})"
        )


def drop_hint(column: str, source: str) -> str:
    """How to fit without `column`: the command's flag for a file, FraudDetector's drop parameter for an array in
    Python (source "X")."""
    import shlex

    return f"FraudDetector(drop=[{column!r}])" if source == "X" else f"fit --drop {shlex.quote(column)}"


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
    if not block.size:
        return
    constant = [str(c) for c, same in zip(features, np.ptp(block, axis=0) == 0, strict=True) if same]
    if len(features) and len(constant) == len(features):
        raise UsageError(f"{source}: no feature varies over the {len(values):,} {rows} (constant columns: "
                         f"{short_list(constant)}); there is nothing to learn")
    largest = np.abs(block).max(axis=0)
    for column, top in zip(features, largest, strict=True):  # squares below float64's range: no spread to scale by
        if 0 < top < np.finfo(np.float64).tiny ** 0.5:  # (a far value would then look like the normal ones)
            raise UsageError(f"{_where(source, column=column)}: its largest value is {top:.3g}, too small for its "
                             f"spread to be computed (about 1e-154 at least); express it in other units (scaled up), "
                             f"or leave it out: {drop_hint(str(column), source)}")


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
    could not be written with, a newline, a quote, a character beyond ASCII, which pandas' fast reader cannot take)
    is a ValueError saying what is wanted."""
    sep = "\t" if sep in ("\\t", "tab") else sep
    if not isinstance(sep, str) or len(sep) != 1 or sep in ("\n", "\r", '"') or not sep.isascii():
        raise ValueError(f"must be one ASCII character such as ',', ';' or a tab ('\\t'), received {sep!r}")
    if sep.isalnum() or sep in ".+-":  # it would split the numbers themselves (1.5, -2, 1e-5, inf) and the scores
        raise ValueError(f"must not be a character numbers are written with (a letter, a digit, '.', '+' or '-'), "
                         f"received {sep!r}")
    return sep


def read_header(path: str | os.PathLike, sep: str = ",") -> list[str]:
    """Column names of a CSV file, checked (exists, not empty, plausible delimiter, no duplicates); `sep` is one
    character (`csv_separator`, as `tables.open_table` passes it)."""
    from keras_ae.fraud.compression import check_whole_zstd, compressed_hint, decompression_errors
    from keras_ae.fraud.csv_format import error_text

    path = check_file(path)
    check_whole_zstd(path)
    first = None  # the first line's fields, as written (pandas renames a repeated name: "V1", "V1.1")
    try:  # pandas skips blank lines to find the header, but reads the rows with them: the header must come first
        first = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False,
                            skip_blank_lines=False).iloc[0].tolist()
        blank = all(not str(value).strip() for value in first)
    except pd.errors.EmptyDataError:
        blank = True
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, *decompression_errors()):
        blank = False  # said below
    if blank:
        raise UsageError(f"{path}: line 1 holds no column names; the first line must be the header row (remove any "
                         "blank lines above it)")
    try:
        header = list(pd.read_csv(path, sep=sep, nrows=0).columns)
        if first is not None and len(first) == len(header) and len(set(first)) < len(first):
            header = first  # a name given twice: as the file writes it, for the message naming it
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError,
            *decompression_errors()) as err:  # a truncated or corrupt compressed file; a zip archive holding no file
        # or several (ValueError)
        raise UsageError(f"{path}: cannot read a CSV header: {error_text(err)}{compressed_hint(path)}") from None
    check_header(header, str(path), sep)
    return [str(c) for c in header]
