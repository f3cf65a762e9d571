"""Transaction tables of any size, read and written in bounded memory: CSV (also .gz, .bz2, .zip, .xz, .zst, as
pandas reads them), a Parquet file, or a directory of Parquet files (pyarrow record batches).

Readers check what they read (the file exists, the header is sane) and name the file in every error; writers
write a temporary file or directory beside the target and rename it into place only when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud.compression import COMPRESSED_SUFFIXES
from keras_ae.fraud.csv_format import where_not_utf8  # noqa: F401  (public here too)
from keras_ae.registry import Registry

PARQUET_SUFFIXES = (".parquet", ".pq")
# pandas stores an unnamed row index (one that is not 0, 1, 2, ...: a filtered frame's) as a column of this name;
# a named one ('Time') under its name. The table's columns are its stored columns less the unnamed index: a named
# index is a column like the others, and the row labels of a frame are no feature.
PANDAS_INDEX = re.compile(r"__index_level_\d+__")


def table_columns(names) -> list[str]:
    """The stored column names less pandas' unnamed row index."""
    return [name for name in names if not PANDAS_INDEX.fullmatch(str(name))]


@dataclasses.dataclass(frozen=True)
class TableFormat:
    """One way a table is stored. A new format is one `FORMATS.register(name, TableFormat(...))` call.

    Attributes:
        reads: whether a path (that exists) is a table of this format.
        writes: whether an output path asks for this format (by its name).
        header: ``(path, sep) -> column names``, checked (`schema.check_header`).
        frames: ``(path, sep, chunksize) -> DataFrames`` of at most `chunksize` rows, in bounded memory.
        rows: ``path -> data rows`` for a progress bar, or None when unknown without reading the table.
        sink: ``(temporary path, sep) -> object`` with ``write(frame)`` and ``close()``, writing the output.
        directory: the output is a directory (its temporary path is made as one).
        plain_text: rows are lines of text that can be copied as they are (a plain CSV file).
        copies: ``(path, sep, chunksize, text) -> DataFrames``, the rows of `frames` again, chunk for chunk, as they
            are written back out: each cell's own text (`text`: for a text output), else integers kept exact
            (nullable, where `frames` would make a column with a blank cell float); None: the rows of `frames`.
    """

    reads: Callable[[pathlib.Path], bool]
    writes: Callable[[pathlib.Path], bool]
    header: Callable[[pathlib.Path, str], list[str]]
    frames: Callable[[pathlib.Path, str, int], Iterator[pd.DataFrame]]
    rows: Callable[[pathlib.Path], int | None]
    sink: Callable[[pathlib.Path, str], Any]
    directory: bool = False
    plain_text: bool = False
    copies: Callable[[pathlib.Path, str, int, bool], Iterator[pd.DataFrame]] | None = None


FORMATS: Registry[TableFormat] = Registry("table format")
DEFAULT_FORMAT = "csv"  # whatever no other format claims: CSV, compressed by its extension as pandas reads it


def format_of(path: str | os.PathLike, output: bool = False) -> TableFormat:
    """The format of a table at `path` (or, with `output`, the one an output name asks for)."""
    path = pathlib.Path(path)
    for name, entry in FORMATS.items():
        if name != DEFAULT_FORMAT and (entry.writes(path) if output else entry.reads(path)):
            return entry
    return FORMATS.get(DEFAULT_FORMAT)


@dataclasses.dataclass(frozen=True)
class Table:
    """A table opened once: its path, delimiter, format and (checked) header, passed along to every reader."""

    path: pathlib.Path
    sep: str
    format: TableFormat
    header: list[str]

    def frames(self, chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
        return self.format.frames(self.path, self.sep, chunksize)

    def count_rows(self) -> int | None:
        return self.format.rows(self.path)

    def copies(self, chunksize: int, text: bool) -> Iterator[pd.DataFrame] | None:
        """The rows of `frames(chunksize)` as they are written back out (`TableFormat.copies`), or None where
        those frames are already that."""
        return None if self.format.copies is None else self.format.copies(self.path, self.sep, chunksize, text)

    @property
    def plain_text(self) -> bool:
        return self.format.plain_text


def open_table(path: str | os.PathLike | Table, sep: str = ",") -> Table:
    """The table at `path`, its header read and checked (exists, not empty, plausible delimiter, no duplicates)."""
    if isinstance(path, Table):
        return path
    from keras_ae.fraud.schema import csv_separator

    try:
        sep = csv_separator(sep)
    except ValueError as err:
        raise UsageError(f"sep {err}", param="sep") from None
    path = pathlib.Path(path)
    entry = format_of(path)
    return Table(path, sep, entry, entry.header(path, sep))


def read_header(path: str | os.PathLike, sep: str = ",") -> list[str]:
    """Column names of a table, checked (exists, not empty, plausible delimiter, no duplicates)."""
    return open_table(path, sep).header


def count_rows(path: str | os.PathLike) -> int | None:
    """Data rows of a table for a progress bar (None for a compressed CSV: unknown without reading it)."""
    return format_of(path).rows(pathlib.Path(path))


def iter_frames(path: str | os.PathLike, sep: str = ",", chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """The table in DataFrames of at most `chunksize` rows (errors name the file), opened as `open_table` does."""
    return open_table(path, sep).frames(chunksize)


def is_parquet(path: str | os.PathLike) -> bool:
    """A Parquet file (by its extension) or a directory (of Parquet files)."""
    return format_of(path) is not FORMATS.get(DEFAULT_FORMAT)


def is_plain_csv(path: str | os.PathLike) -> bool:
    """A CSV file whose lines are its rows' text (not compressed)."""
    return format_of(path).plain_text and pathlib.Path(path).suffix.lower() not in COMPRESSED_SUFFIXES


def has_quotes(path: str | os.PathLike) -> bool:
    """Whether a plain file holds a double quote anywhere (where a quoted field could span lines)."""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            if b'"' in chunk:
                return True
    return False


def read_table(path: str | os.PathLike | Table, sep: str = ",") -> pd.DataFrame:
    """The whole table in memory (for fitting)."""
    table = open_table(path, sep)
    frames = [frame for frame in table.frames(chunksize=200_000) if len(frame)]
    if not frames:
        raise UsageError(f"{table.path}: no data rows (the table holds only a header)")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def check_output(out: str | os.PathLike, inputs: str | os.PathLike | None = None) -> pathlib.Path:
    """`out` must not be the input, and an existing `out` must be of the kind its name asks for: a file for a name
    with an extension, a directory (a Parquet dataset) for one without. (`keras_ae.outputs` decides whether an
    existing output may be replaced.)"""
    out = pathlib.Path(out)
    if inputs is not None and out.resolve() == pathlib.Path(inputs).resolve():
        raise UsageError(f"out={str(out)!r} is the input file; write the result elsewhere")
    if out.suffix and out.is_dir():
        raise UsageError(f"out={str(out)!r} is an existing directory; name a new file or directory")
    if not out.suffix and out.exists() and not out.is_dir():
        raise UsageError(f"out={str(out)!r} is an existing file; a name without an extension is a Parquet dataset "
                         "directory")
    return out


class TableWriter:
    """Write DataFrames in the format `out` asks for (`format_of(out, output=True)`: CSV by extension, compression
    too; a `.parquet`/`.pq` file; a directory of Parquet files for a name without extension). Everything goes to a
    temporary path beside `out`, renamed onto it by `commit()`; `abort()` (or an exception in a `with` block)
    removes it."""

    def __init__(self, out: str | os.PathLike, sep: str = ","):
        self.out, self.sep = pathlib.Path(out), sep
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.format = format_of(self.out, output=True)
        if self.format.directory:
            self.tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".tmp", dir=self.out.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{self.out.stem}.", suffix=f".tmp{''.join(self.out.suffixes)}",
                                        dir=self.out.parent)
            os.close(fd)
            self.tmp = pathlib.Path(name)
        self._sink = self.format.sink(self.tmp, sep)
        self._closers = []

    @property
    def plain_text(self) -> bool:
        """Rows written as lines of text that can be appended as they are (a plain CSV file)."""
        return self.format.plain_text and self.out.suffix.lower() not in COMPRESSED_SUFFIXES

    def on_close(self, *closers) -> None:
        """Call `closers` (e.g. file handles' close) before the output is committed or removed."""
        self._closers += closers

    def _close(self) -> None:
        for close in self._closers:
            close()
        self._closers = []

    def write(self, frame: pd.DataFrame) -> None:
        self._sink.write(frame)

    def commit(self) -> pathlib.Path:
        self._close()
        self._sink.close()
        umask = os.umask(0)
        os.umask(umask)
        if not self.format.directory:
            os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp makes the file private: give it the usual permissions
            os.replace(self.tmp, self.out)
            return self.out
        os.chmod(self.tmp, 0o777 & ~umask)
        if self.out.is_dir():  # an earlier scored dataset (checked by the caller): swapped, then removed
            old = self.tmp.with_name(self.tmp.name + ".old")
            os.rename(self.out, old)
            os.rename(self.tmp, self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.tmp, self.out)
        return self.out

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._close()
        with contextlib.suppress(Exception):
            self._sink.close()
        if self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp.exists():
            self.tmp.unlink()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abort()
            return
        try:
            self.commit()
        except BaseException as err:  # a full disk at the last flush, a target we may not replace
            self.abort()
            if isinstance(err, OSError):
                raise UsageError(f"out={str(self.out)!r}: cannot write the output ({err.strerror or err}); "
                                 "nothing was written") from None
            raise


from keras_ae.fraud import formats  # noqa: E402, F401  (registers CSV and Parquet in FORMATS)
