"""The table formats the fraud commands read and write, registered in `keras_ae.fraud.tables.FORMATS`: CSV (also
compressed, as pandas reads it), a Parquet file, a directory of Parquet files (pyarrow, row group by row group)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import schema
from keras_ae.fraud.csv_format import CsvSink, count_rows, read_copies, read_frames
from keras_ae.fraud.parquet_sinks import ParquetDatasetSink, ParquetFileSink
from keras_ae.fraud.tables import FORMATS, PARQUET_SUFFIXES, TableFormat, table_columns


# ---------------------------------------------------------------- Parquet: a file, or a directory of files
def _unreadable(path, err: BaseException) -> UsageError:
    """One line for a Parquet file pyarrow cannot read (damaged footer or page, not Parquet at all; a column name
    given twice, which it says without the name: named here)."""
    twice = _named_twice(pathlib.Path(path)) if "duplicate field" in str(err) else None
    if twice is not None:
        return UsageError(f"{twice[0]}: the column name {twice[1]!r} appears twice; every column needs a name of its "
                          "own")
    return UsageError(f"{path}: cannot read Parquet: {(str(err).strip() or type(err).__name__).splitlines()[0]}")


def _named_twice(path: pathlib.Path) -> tuple[pathlib.Path, str] | None:
    """(file, column name) for the first Parquet file at or under `path` whose schema names a column twice."""
    import collections

    import pyarrow.parquet as pq

    hidden = (".", "_")  # what pyarrow's dataset leaves out
    for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not any(
            part.startswith(hidden) for part in p.relative_to(path).parts)):
        try:
            names = pq.read_schema(file).names
        except Exception:  # noqa: BLE001  (not Parquet: not the file that names a column twice)
            continue
        twice = [name for name, count in collections.Counter(names).items() if count > 1]
        if twice:
            return file, twice[0]
    return None


def _dataset(path: pathlib.Path):
    import pyarrow.dataset as ds

    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    try:
        data = ds.dataset(str(path), format="parquet")
    except Exception as err:  # pyarrow raises its own error types for unreadable files
        raise _unreadable(path, err) from None
    if path.is_dir() and not data.files:
        raise UsageError(f"{path}: a directory with no Parquet file in it")
    for file in data.files if path.is_dir() else ():
        folders = pathlib.Path(file).resolve().relative_to(path.resolve()).parts[:-1]
        keyed = [f for f in folders if "=" in f and not f.startswith("=")]
        if keyed:  # Spark reads a folder day=1/ as a column 'day'
            key = keyed[0].split("=", 1)[0]
            raise UsageError(f"{path}: {pathlib.Path(file).parent} is a partition folder (Spark reads its name, "
                             f"{keyed[0]}, as a column {key!r}); score or fit each partition folder on its own")
        if not _parquet_magic(pathlib.Path(file)):
            raise UsageError(f"{file}: not a Parquet file; a directory of Parquet files may hold only those (and "
                             "hidden or _-prefixed bookkeeping files)")
    return data


def same_columns(path: pathlib.Path) -> None:
    """Every file of a Parquet directory must hold the columns of the first, in its order (one process finds a
    change when it reaches the file; Spark would read them under one schema, dropping or inventing columns)."""
    import pyarrow.parquet as pq

    from keras_ae.fraud.scoring import header_change

    files = _dataset(path).files if path.is_dir() else []
    first = None
    for file in files:
        try:
            names = table_columns(pq.read_schema(file).names)
        except Exception as err:  # noqa: BLE001 - pyarrow's own error types for a damaged footer
            raise _unreadable(file, err) from None
        first = names if first is None else first
        if names != first:
            raise UsageError(f"{file}: {header_change(first, names)}")


def _parquet_magic(path: pathlib.Path) -> bool:
    """The file starts and ends with Parquet's magic bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(max(0, path.stat().st_size - 4))
            return head == b"PAR1" and f.read(4) == b"PAR1"
    except OSError:
        return False


def _parquet_header(path: pathlib.Path, sep: str) -> list[str]:
    names = table_columns(_dataset(path).schema.names)
    schema.check_header(names, str(path), sep)
    return names


def _parquet_rows(path: pathlib.Path) -> int:
    import pyarrow as pa

    try:
        return int(_dataset(path).count_rows())
    except (OSError, pa.ArrowException) as err:  # a damaged file's footer
        raise _unreadable(path, err) from None


def _stored_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A frame pandas rebuilt from its metadata (its types kept: nullable integers stay integers) with the
    stored `columns` as columns, in their stored order: a named index it made of one ('Time') back among them, an
    unnamed one (a filtered frame's row labels) left out."""
    if list(frame.columns) == columns:
        return frame
    named = [name for name in frame.index.names if name is not None and name in columns]
    if named:
        frame = frame.reset_index(level=named)
    return frame[columns].reset_index(drop=True)


def _exact_integers(frame: pd.DataFrame, batch) -> pd.DataFrame:
    """`frame` with each Arrow integer column of `batch` that has a missing value in pandas' nullable integer type
    (pandas makes such a column float64, where an 18-digit id loses its last digits)."""
    import pyarrow as pa

    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_integer(column.type) and column.null_count and name in frame.columns:
            kind = pd.api.types.pandas_dtype(str(column.type).replace("int", "Int").replace("uInt", "UInt"))
            frame[name] = column.to_pandas(types_mapper={column.type: kind}.get).array
    return frame


def _parquet_frames(path: pathlib.Path, sep: str, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # File by file, row group by row group, without pre-buffering: memory stays that of one row group
    # (a dataset scan reads ahead, and pre-buffering reads whole files, both growing with the table).
    for file in _dataset(path).files:
        try:
            reader = pq.ParquetFile(file, pre_buffer=False)
            for group in range(reader.num_row_groups):
                for batch in reader.iter_batches(batch_size=chunksize, row_groups=[group]):
                    if batch.num_rows:
                        yield _exact_integers(_stored_columns(batch.to_pandas(), table_columns(batch.schema.names)),
                                              batch)
        except (OSError, pa.ArrowException) as err:  # a damaged file: its footer or a page cannot be decoded
            raise _unreadable(file, err) from None


FORMATS.register("csv", TableFormat(reads=lambda p: True, writes=lambda p: True, header=schema.read_header,
                                    frames=read_frames, rows=count_rows, sink=CsvSink, plain_text=True,
                                    copies=read_copies))
FORMATS.register("parquet", TableFormat(reads=lambda p: p.suffix.lower() in PARQUET_SUFFIXES,
                                        writes=lambda p: p.suffix.lower() in PARQUET_SUFFIXES,
                                        header=_parquet_header, frames=_parquet_frames, rows=_parquet_rows,
                                        sink=ParquetFileSink))
FORMATS.register("parquet-directory", TableFormat(reads=lambda p: p.is_dir(), writes=lambda p: p.suffix == "",
                                                  header=_parquet_header, frames=_parquet_frames,
                                                  rows=_parquet_rows, sink=ParquetDatasetSink, directory=True))
