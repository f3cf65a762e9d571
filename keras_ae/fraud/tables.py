"""Transaction tables of any size, read and written in bounded memory: CSV (also .gz, .bz2, .zip, .xz, .zst, as
pandas reads them), a Parquet file, or a directory of Parquet files (pyarrow record batches).

Readers check what they read (the file exists, the header is sane) and name the file in every error; writers
write a temporary file or directory beside the target and rename it into place only when complete.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterator

import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import schema

PARQUET_SUFFIXES = (".parquet", ".pq")
NEWLINE = b"\n"
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")


def is_parquet(path: str | os.PathLike) -> bool:
    """A Parquet file (by its extension) or a directory (of Parquet files)."""
    path = pathlib.Path(path)
    return path.suffix.lower() in PARQUET_SUFFIXES or path.is_dir()


def is_plain_csv(path: str | os.PathLike) -> bool:
    return not is_parquet(path) and pathlib.Path(path).suffix.lower() not in COMPRESSED_SUFFIXES


def _dataset(path: pathlib.Path):
    import pyarrow.dataset as ds

    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    try:
        data = ds.dataset(str(path), format="parquet")
    except Exception as err:  # pyarrow raises its own error types for unreadable files
        raise UsageError(f"{path}: cannot read Parquet: {str(err).splitlines()[0]}") from None
    if path.is_dir() and not data.files:
        raise UsageError(f"{path}: a directory with no Parquet file in it")
    return data


def read_header(path: str | os.PathLike, sep: str = ",") -> list[str]:
    """Column names of a table, checked (exists, not empty, plausible delimiter, no duplicates)."""
    path = pathlib.Path(path)
    if is_parquet(path):
        names = list(_dataset(path).schema.names)
        schema.check_header(names, str(path), sep)
        return names
    return schema.read_header(path, sep)


def count_rows(path: str | os.PathLike) -> int | None:
    """Data rows of a table for a progress bar (None for a compressed CSV: unknown without reading it)."""
    path = pathlib.Path(path)
    if is_parquet(path):
        return int(_dataset(path).count_rows())
    if not is_plain_csv(path):
        return None
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without a newline
    return max(0, lines - 1)


def has_quotes(path: str | os.PathLike) -> bool:
    """Whether a plain file holds a double quote anywhere (where a quoted field could span lines)."""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            if b'"' in chunk:
                return True
    return False


def iter_frames(path: str | os.PathLike, sep: str = ",", chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """The table in DataFrames of at most `chunksize` rows (errors name the file)."""
    path = pathlib.Path(path)
    if is_parquet(path):
        import pyarrow.parquet as pq

        # File by file, row group by row group, without pre-buffering: memory stays that of one row group
        # (a dataset scan reads ahead, and pre-buffering reads whole files, both growing with the table).
        for file in _dataset(path).files:
            reader = pq.ParquetFile(file, pre_buffer=False)
            for group in range(reader.num_row_groups):
                for batch in reader.iter_batches(batch_size=chunksize, row_groups=[group]):
                    if batch.num_rows:
                        yield batch.to_pandas()
        return
    try:
        for frame in pd.read_csv(path, sep=sep, chunksize=chunksize, skip_blank_lines=False,
                                 engine="c" if len(sep) == 1 else "python"):
            if not isinstance(frame.index, pd.RangeIndex):  # pandas took a first column without a name as index
                raise UsageError(f"{path}: row 1 (line 2) has {len(frame.columns) + frame.index.nlevels} fields but "
                                 f"the header names {len(frame.columns)} columns")
            yield frame
    except pd.errors.ParserError as err:
        raise UsageError(f"{path}: malformed CSV: {str(err).strip().splitlines()[-1]}") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not a UTF-8 text CSV file ({err.reason}{where_not_utf8(path)})") from None
    except (OSError, EOFError) as err:  # a truncated or corrupt compressed file
        raise UsageError(f"{path}: cannot read: {err}") from None


def where_not_utf8(path: str | os.PathLike) -> str:
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


def read_table(path: str | os.PathLike, sep: str = ",") -> pd.DataFrame:
    """The whole table in memory (for fitting)."""
    frames = [frame for frame in iter_frames(path, sep, chunksize=200_000) if len(frame)]
    if not frames:
        raise UsageError(f"{path}: no data rows (the table holds only a header)")
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
    """Write DataFrames to CSV (by extension, compression too) or Parquet: a `.parquet`/`.pq` file, or a
    directory of Parquet files when `out` has no extension. Everything goes to a temporary path beside `out`,
    renamed onto it by `commit()`; `abort()` (or an exception in a `with` block) removes it."""

    def __init__(self, out: str | os.PathLike, sep: str = ","):
        self.out, self.sep = pathlib.Path(out), sep
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.kind = "dataset" if self.out.suffix == "" else "parquet" if is_parquet(self.out) else "csv"
        if self.kind == "dataset":
            self.tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".tmp", dir=self.out.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{self.out.stem}.", suffix=f".tmp{''.join(self.out.suffixes)}",
                                        dir=self.out.parent)
            os.close(fd)
            self.tmp = pathlib.Path(name)
        self._parquet, self._parts, self._header, self._closers = None, 0, True, []

    def on_close(self, *closers) -> None:
        """Call `closers` (e.g. file handles' close) before the output is committed or removed."""
        self._closers += closers

    def _close(self) -> None:
        for close in self._closers:
            close()
        self._closers = []

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            frame.to_csv(self.tmp, mode="w" if self._header else "a", header=self._header, index=False, sep=self.sep)
            self._header = False
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.kind == "dataset":
            pq.write_table(table, self.tmp / f"part-{self._parts:05d}.parquet")
            self._parts += 1
            return
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(str(self.tmp), table.schema)
        self._parquet.write_table(table.cast(self._parquet.schema))

    def commit(self) -> pathlib.Path:
        self._close()
        if self._parquet is not None:
            self._parquet.close()
        umask = os.umask(0)
        os.umask(umask)
        if self.kind != "dataset":
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
            if self._parquet is not None:
                self._parquet.close()
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
