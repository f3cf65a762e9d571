"""The table formats the fraud commands read and write, registered in `keras_ae.fraud.tables.FORMATS`: CSV (also
compressed, as pandas reads it), a Parquet file, a directory of Parquet files (pyarrow, row group by row group)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import schema
from keras_ae.fraud.csv_format import CsvSink, count_rows, read_copies, read_frames
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


def note_extents(extents: dict[str, int], table) -> dict[str, int]:
    """`extents` (column name -> the largest magnitude of its whole numbers so far) updated with `table`'s integer
    columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name, column in zip(table.schema.names, table.columns, strict=True):
        if pa.types.is_integer(column.type) and column.null_count < len(column):
            low, high = pc.min_max(column).values()
            extents[name] = max(extents.get(name, 0), abs(low.as_py()), abs(high.as_py()))
    return extents


def _widened(schema, table, extents: dict[str, int] | None = None):
    """The schema both `schema` (what is written so far) and `table` (the next chunk) fit: a column of whole numbers
    in one chunk and decimals in another becomes floating point, unless a whole number in it (`extents`: those
    written so far, by column; the chunk's own are measured) is beyond 2^53, which floating point cannot hold
    exactly (it becomes text); a column empty in one chunk takes the other's type, and a column of numbers in one
    chunk and text in another becomes text."""
    import pyarrow as pa

    largest = note_extents(dict(extents or {}), table)

    def text(kind) -> bool:
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)

    fields = []
    for old, new in zip(schema, table.schema, strict=True):
        if text(old.type) and (text(new.type) or not pa.types.is_nested(new.type)):
            fields.append(old)  # text stays the text type it was written as: no back and forth between chunks
            continue
        kinds = (old.type, new.type)
        if any(map(pa.types.is_integer, kinds)) and any(map(pa.types.is_floating, kinds)) and \
                largest.get(old.name, 0) > 2**53:  # floating point would change those whole numbers: as text
            fields.append(pa.field(old.name, pa.large_string()))
            continue
        signs = {pa.types.is_unsigned_integer(t) for t in (old.type, new.type) if pa.types.is_integer(t)}
        if len(signs) == 2 and pa.uint64() in (old.type, new.type):  # no integer type holds both: the numbers as text
            fields.append(pa.field(old.name, pa.large_string()))
            continue
        try:
            fields.append(pa.unify_schemas([pa.schema([old]), pa.schema([new])], promote_options="permissive")[0])
        except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            fields.append(pa.field(old.name, pa.large_string()))
    return pa.schema(fields)  # without the pandas metadata of the narrower types


def _cast(table, schema):
    import pyarrow as pa

    return pa.Table.from_arrays([column.cast(field.type) for column, field in zip(table.columns, schema, strict=True)],
                                schema=schema)


def _copy(source_path: pathlib.Path, writer, schema) -> None:
    """Write the row groups of the Parquet file at `source_path` to `writer`, cast to `schema`."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(source_path)
    try:
        for group in range(source.num_row_groups):
            writer.write_table(_cast(source.read_row_group(group), schema))
    finally:
        source.close()


def _rewrite(path: pathlib.Path, schema) -> None:
    """Rewrite the Parquet file at `path` with `schema`, row group by row group."""
    import pyarrow.parquet as pq

    wider = path.with_name(path.name + ".wider")
    with pq.ParquetWriter(str(wider), schema) as writer:
        _copy(path, writer, schema)
    wider.replace(path)


def _arrow(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


class _ParquetFileSink:
    """One Parquet file; where a chunk's column types differ from the file's so far (pandas reads each CSV chunk on
    its own), what is written so far is copied once into a new file with the types both fit (`_widened`), which
    the writing goes on in and which replaces the first at close."""

    def __init__(self, tmp: pathlib.Path, sep: str):
        self.tmp, self.target, self.writer, self.schema, self.extents = tmp, tmp, None, None, {}

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = _arrow(frame)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(str(self.target), self.schema)
        elif not table.schema.equals(self.schema):
            wider = _widened(self.schema, table, self.extents)
            if not wider.equals(self.schema):
                self.writer.close()
                old, self.target = self.target, self.tmp.with_name(self.tmp.name + f".{id(wider)}")
                self.writer = pq.ParquetWriter(str(self.target), wider)
                try:
                    _copy(old, self.writer, wider)
                finally:  # an earlier widened copy is ours to remove, done or not (abort removes the rest)
                    if old != self.tmp:
                        old.unlink(missing_ok=True)
                self.schema = wider
        self.writer.write_table(_cast(table, self.schema))
        note_extents(self.extents, table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.target != self.tmp and self.target.exists():
            self.target.replace(self.tmp)
            self.target = self.tmp


class _ParquetDatasetSink:
    """A directory of Parquet parts, all with one schema: where a chunk's column types differ, the parts written so
    far are rewritten with the types both fit (`_widened`), so the directory reads back as one table."""

    def __init__(self, tmp: pathlib.Path, sep: str):
        self.tmp, self.parts, self.schema, self.extents = tmp, 0, None, {}

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = _arrow(frame)
        if self.schema is None:
            self.schema = table.schema
        elif not table.schema.equals(self.schema):
            wider = _widened(self.schema, table, self.extents)
            if not wider.equals(self.schema):
                for part in range(self.parts):
                    _rewrite(self.tmp / f"part-{part:05d}.parquet", wider)
                self.schema = wider
        pq.write_table(_cast(table, self.schema), self.tmp / f"part-{self.parts:05d}.parquet")
        note_extents(self.extents, table)
        self.parts += 1

    def close(self) -> None:
        pass


FORMATS.register("csv", TableFormat(reads=lambda p: True, writes=lambda p: True, header=schema.read_header,
                                    frames=read_frames, rows=count_rows, sink=CsvSink, plain_text=True,
                                    copies=read_copies))
FORMATS.register("parquet", TableFormat(reads=lambda p: p.suffix.lower() in PARQUET_SUFFIXES,
                                        writes=lambda p: p.suffix.lower() in PARQUET_SUFFIXES,
                                        header=_parquet_header, frames=_parquet_frames, rows=_parquet_rows,
                                        sink=_ParquetFileSink))
FORMATS.register("parquet-directory", TableFormat(reads=lambda p: p.is_dir(), writes=lambda p: p.suffix == "",
                                                  header=_parquet_header, frames=_parquet_frames,
                                                  rows=_parquet_rows, sink=_ParquetDatasetSink, directory=True))
