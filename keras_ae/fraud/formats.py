"""The table formats the fraud commands read and write, registered in `keras_ae.fraud.tables.FORMATS`: CSV (also
compressed, as pandas reads it), a Parquet file, a directory of Parquet files (pyarrow, row group by row group)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import schema
from keras_ae.fraud.tables import COMPRESSED_SUFFIXES, FORMATS, PARQUET_SUFFIXES, TableFormat, where_not_utf8


# ---------------------------------------------------------------- Parquet: a file, or a directory of files
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


def _parquet_header(path: pathlib.Path, sep: str) -> list[str]:
    names = list(_dataset(path).schema.names)
    schema.check_header(names, str(path), sep)
    return names


def _parquet_rows(path: pathlib.Path) -> int:
    return int(_dataset(path).count_rows())


def _parquet_frames(path: pathlib.Path, sep: str, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    # File by file, row group by row group, without pre-buffering: memory stays that of one row group
    # (a dataset scan reads ahead, and pre-buffering reads whole files, both growing with the table).
    for file in _dataset(path).files:
        reader = pq.ParquetFile(file, pre_buffer=False)
        for group in range(reader.num_row_groups):
            for batch in reader.iter_batches(batch_size=chunksize, row_groups=[group]):
                if batch.num_rows:
                    yield batch.to_pandas()


class _ParquetFileSink:
    def __init__(self, tmp: pathlib.Path, sep: str):
        self.tmp, self.writer = tmp, None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.tmp), table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _ParquetDatasetSink:
    def __init__(self, tmp: pathlib.Path, sep: str):
        self.tmp, self.parts = tmp, 0

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), self.tmp / f"part-{self.parts:05d}.parquet")
        self.parts += 1

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- CSV, also compressed
def _csv_frames(path: pathlib.Path, sep: str, chunksize: int) -> Iterator[pd.DataFrame]:
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


def _csv_rows(path: pathlib.Path) -> int | None:
    if path.suffix.lower() in COMPRESSED_SUFFIXES:
        return None
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without a newline
    return max(0, lines - 1)


class _CsvSink:
    def __init__(self, tmp: pathlib.Path, sep: str):
        self.tmp, self.sep, self.header = tmp, sep, True

    def write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self.tmp, mode="w" if self.header else "a", header=self.header, index=False, sep=self.sep)
        self.header = False

    def close(self) -> None:
        pass


FORMATS.register("csv", TableFormat(reads=lambda p: True, writes=lambda p: True, header=schema.read_header,
                                    frames=_csv_frames, rows=_csv_rows, sink=_CsvSink, plain_text=True))
FORMATS.register("parquet", TableFormat(reads=lambda p: p.suffix.lower() in PARQUET_SUFFIXES,
                                        writes=lambda p: p.suffix.lower() in PARQUET_SUFFIXES,
                                        header=_parquet_header, frames=_parquet_frames, rows=_parquet_rows,
                                        sink=_ParquetFileSink))
FORMATS.register("parquet-directory", TableFormat(reads=lambda p: p.is_dir(), writes=lambda p: p.suffix == "",
                                                  header=_parquet_header, frames=_parquet_frames,
                                                  rows=_parquet_rows, sink=_ParquetDatasetSink, directory=True))
