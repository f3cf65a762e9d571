"""Writing a scored table as Parquet, chunk by chunk: one file or a directory of parts, with one type per column
that every chunk fits (widened, and what is written so far rewritten, where a later chunk needs it)."""

from __future__ import annotations

import pathlib

import pandas as pd


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


class ParquetFileSink:
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


class ParquetDatasetSink:
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
