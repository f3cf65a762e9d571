"""CSV tables (also compressed, as pandas reads them): reading them in chunks, again for writing their cells back out
as they were, counting their rows, and writing them. Registered as the "csv" format by `keras_ae.fraud.formats`."""

from __future__ import annotations

import contextlib
import csv
import pathlib
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud.compression import COMPRESSED_SUFFIXES, compressed_hint, decompression_errors

NEWLINE = b"\n"
_WORDS = {True: "True", False: "False"}  # booleans read from a CSV, as the text they were


def error_text(err: BaseException) -> str:
    """An error of reading a (compressed) CSV in one line: its first, or what it is where it says nothing."""
    import tarfile

    if isinstance(err, tarfile.TarError):  # its message lists every method tried, over several lines
        return "not a readable tar archive"
    lines = str(err).strip().splitlines()
    return lines[0].rstrip(":") if lines else type(err).__name__


def _fields_problem(text: str) -> str:
    """pandas' "Expected 31 fields in line 3, saw 32" as this package says it."""
    import re

    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if not found:
        return f"malformed CSV: {text}"
    expected, line, saw = found.groups()
    return (f"line {line} has {saw} fields but the header names {expected} columns (a separator inside a value that is "
            "not quoted?)")


@contextlib.contextmanager
def _read_errors(path: pathlib.Path) -> Iterator[None]:
    """What reading a CSV can raise, as one-line UsageErrors naming the file."""
    try:
        yield
    except pd.errors.ParserError as err:
        raise UsageError(f"{path}: {_fields_problem(str(err).strip().splitlines()[-1])}") from None
    except csv.Error as err:  # the second reading of `_Records`
        raise UsageError(f"{path}: malformed CSV: {err}") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not a UTF-8 text CSV file ({err.reason}{where_not_utf8(path)})"
                         f"{compressed_hint(path)}") from None
    except decompression_errors() as err:  # a truncated or corrupt compressed file
        raise UsageError(f"{path}: cannot read: {error_text(err)}") from None


def where_not_utf8(path: str | pathlib.Path) -> str:
    """' at byte N (line L)' of the first byte of a file that is not UTF-8 (its decompressed text for a compressed
    CSV), or '' when it cannot be found. (A decoding error inside pandas counts bytes from its own buffer.)"""
    import codecs

    from pandas.io.common import get_handle

    decoder, offset, line = codecs.getincrementaldecoder("utf-8")(), 0, 1
    try:
        with get_handle(str(path), "rb", compression="infer", is_text=False) as handle:
            while chunk := handle.handle.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    # the decoder may hold back up to 3 bytes of an incomplete character from the previous chunk
                    start = max(0, err.start - len(err.object) + len(chunk))
                    return f" at byte {offset + start} (line {line + chunk[:start].count(NEWLINE)})"
                offset += len(chunk)
                line += chunk.count(NEWLINE)
    except (OSError, EOFError, ValueError):
        return ""
    return ""


def read_frames(path: pathlib.Path, sep: str, chunksize: int) -> Iterator[pd.DataFrame]:
    """The rows of a CSV file, `chunksize` at a time, as pandas reads them (the words True and False as text). A row
    with fewer fields than the header (a line cut short) is refused, as a row with more is: pandas would fill the
    missing fields in as blanks, and a row cut short in a column the model ignores would be scored as if whole."""
    with _read_errors(path), contextlib.ExitStack() as stack:
        records, first_row = None, 1
        for frame in pd.read_csv(path, sep=sep, chunksize=chunksize, skip_blank_lines=False):
            if not isinstance(frame.index, pd.RangeIndex):  # pandas took a first column without a name as index
                raise UsageError(f"{path}: row 1 (line 2) has {len(frame.columns) + frame.index.nlevels} fields but "
                                 f"the header names {len(frame.columns)} columns")
            blank_last = np.flatnonzero(frame.iloc[:, -1].isna().to_numpy())  # where a short row can be (only there)
            if len(blank_last):
                records = records or stack.enter_context(_Records(path, sep))
                records.check(first_row + blank_last, len(frame.columns))
            first_row += len(frame)
            yield _text_booleans(frame)


class _Records:
    """The records of a CSV file read again with Python's csv module, to count the fields of the rows whose last
    field pandas gives as blank: one left empty (``1,2,``) or left out (``1,2``, a row cut short)."""

    def __init__(self, path: pathlib.Path, sep: str):
        self.path, self.sep = path, sep

    def __enter__(self) -> _Records:
        import io

        from pandas.io.common import get_handle

        self.limit = csv.field_size_limit(sys.maxsize)  # pandas takes a field of any length: so must this
        self.handle = get_handle(str(self.path), "rb", compression="infer", is_text=False)
        text = io.TextIOWrapper(self.handle.handle, encoding="utf-8-sig", newline="")
        self.reader, self.row = csv.reader(text, delimiter=self.sep), 0
        next(self.reader, None)  # the header
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()
        csv.field_size_limit(self.limit)

    def check(self, rows: np.ndarray, columns: int) -> None:
        """A UsageError for the first of `rows` (numbered from 1, ascending) with fewer fields than `columns` but
        more than none (a blank line is a row of blanks, unscorable, as pandas reads it)."""
        for row in rows.tolist():
            record = None
            while self.row < row:
                record, self.row = next(self.reader, None), self.row + 1
            if record is not None and 0 < len(record) < columns:
                raise UsageError(f"{self.path}: row {row} (line {self.reader.line_num}) has {len(record)} fields but "
                                 f"the header names {columns} columns (a line cut short?)")


def read_copies(path: pathlib.Path, sep: str, chunksize: int, text: bool) -> Iterator[pd.DataFrame]:
    """The rows of `read_frames` again, chunk for chunk (the same parser, read after them), as they are written back
    out: each cell's text as it is (`text`), else with pandas' nullable types (`_usual_type`), so an identifier of
    18 digits beside a blank cell stays exact; in a column of text, only a blank cell is missing (the words NA, nan
    or null stay the text they are, as in a CSV output)."""
    with _read_errors(path):
        if text:
            yield from _read_text(path, sep, chunksize)
            return
        words, texts = None, set()  # the same chunks as text, started when a chunk first holds a column of text
        for number, frame in enumerate(pd.read_csv(path, sep=sep, chunksize=chunksize, skip_blank_lines=False,
                                                   dtype_backend="numpy_nullable")):
            frame = frame.apply(_usual_type)
            # a column of text so far stays one where a chunk holds only blanks and such words
            texts |= {column for column in frame.columns if frame[column].dtype == object}
            if texts:
                if words is None:
                    words = enumerate(_read_text(path, sep, chunksize))
                cells = next(chunk for at, chunk in words if at == number)  # the text chunks before it skipped
                for column in frame.columns.intersection(list(texts)):
                    frame[column] = cells[column].astype(object).where(cells[column] != "", None)
            yield frame


def _read_text(path: pathlib.Path, sep: str, chunksize: int) -> Iterator[pd.DataFrame]:
    return pd.read_csv(path, sep=sep, chunksize=chunksize, skip_blank_lines=False, dtype=str, keep_default_na=False,
                       na_filter=False)


def _usual_type(column: pd.Series) -> pd.Series:
    """A column read with nullable types in the usual NumPy type where that holds its values (blanks as NaN in
    floats, as missing in text); integers with a blank stay nullable, and the words True and False stay text, as
    `read_frames` gives them."""
    kind = column.dtype.kind
    if kind == "b":
        return column.map(_WORDS, na_action="ignore").astype(object)
    if kind in "iu" and not column.hasnans:
        return column.astype(column.dtype.numpy_dtype)
    if kind == "f":
        return column.astype("float64")
    return column if kind in "iu" else column.astype(object)


def _text_booleans(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas reads the words True and False in a CSV as booleans, but only where every cell of the chunk's column is
    one (or empty): the same file would score a stray "True" as 1 or refuse it by where the chunks fall. Such
    cells stay the text they are, which scoring refuses (or flags) as non-numeric wherever it stands."""
    for column in frame.columns[frame.dtypes.eq(bool) | frame.dtypes.eq(object)]:
        series = frame[column]
        if series.dtype == bool:
            frame[column] = series.map(_WORDS).astype(object)
        elif any(isinstance(value, bool) for value in series.dropna().tolist()):
            frame[column] = series.map(lambda value: str(value) if isinstance(value, bool) else value)
    return frame


def count_rows(path: pathlib.Path) -> int | None:
    """The data rows of a plain CSV file (its lines less the header); None for a compressed one."""
    if path.suffix.lower() in COMPRESSED_SUFFIXES:
        return None
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without a newline
    return max(0, lines - 1)


class CsvSink:
    """Writes chunks to one CSV file, the header once."""

    def __init__(self, tmp: pathlib.Path, sep: str):
        self.tmp, self.sep, self.header = tmp, sep, True

    def write(self, frame: pd.DataFrame) -> None:
        import csv

        # Python's CSV writer quotes a field holding a line feed but not one holding a lone carriage return, which
        # readers take as a line break: a chunk with one has every text field quoted
        text = frame.select_dtypes(exclude=["number", "bool"])  # text, categories, dates, ...
        # cell by cell: only text can hold a carriage return (bytes are written as their repr, and decoding them as
        # text, as astype(str) does, fails on bytes that are not UTF-8)
        lone_cr = any("\r" in str(name) for name in frame.columns) or \
            any(isinstance(v, str) and "\r" in v for c in text.columns for v in text[c].tolist())
        frame.to_csv(self.tmp, mode="w" if self.header else "a", header=self.header, index=False, sep=self.sep,
                     quoting=csv.QUOTE_NONNUMERIC if lone_cr else csv.QUOTE_MINIMAL)
        self.header = False

    def close(self) -> None:
        pass
