"""Where a problem is in a table, as its messages say it: "x.csv, row 4 (line 7), column 'V3'".

Row numbers are the file's: row 1 is the first data row (line 2 of a CSV with a header, unless quoted fields
above it span lines). A frame that comes from a chunk of a file passes its first row, so messages still name the
row in the file. Parquet tables have rows, not lines; a DataFrame in Python is "X".
"""

from __future__ import annotations

import pathlib


def row_place(source: str, row: int) -> str:
    """"row N (line L)": a CSV row and the line it starts on (row 1 is line 2, after the header, unless quoted
    fields before it span lines); "row N" of a Parquet table; "row N (position N-1)" of an array or DataFrame."""
    if source in ("X", "y"):  # an array or DataFrame in Python: its 0-based position, as X[i] or X.iloc[i] takes it
        return f"row {row} (position {row - 1})"
    text = str(source).lower().rstrip("/")
    if text.endswith((".parquet", ".pq")) or pathlib.Path(source).is_dir():
        return f"row {row}"
    line = _start_line(pathlib.Path(source), row)
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


def where(source: str, row: int | None = None, column: str | None = None) -> str:
    parts = [source]
    if row is not None:  # a CSV row's line in the file; Parquet has rows, not lines
        parts.append(row_place(source, row))
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)
