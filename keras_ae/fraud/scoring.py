"""Score CSV files of any size: read in chunks, check every chunk, write a temporary file, rename at the end.

Memory stays bounded by the chunk size whatever the file size; a bad cell anywhere stops the run with a
message that names the file's row and column, and leaves no output behind.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import schema
from keras_ae.fraud.detector import FraudDetector
from keras_ae.fraud.explain import format_top
from keras_ae.io import atomic_path

OUTPUT_COLUMNS = ("reconstruction_error", "flag", "top_features")
DEFAULT_CHUNKSIZE = 50_000


def count_rows(path: str | os.PathLike, block: int = 1 << 22) -> int:
    """Data rows of a CSV file (lines after the header), counted in binary blocks for a progress bar."""
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(block):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without a newline
    return max(0, lines - 1)


def iter_chunks(
    detector: FraudDetector,
    path: str | os.PathLike,
    sep: str = ",",
    chunksize: int = DEFAULT_CHUNKSIZE,
    need_labels: bool = False,
) -> Iterator[tuple[pd.DataFrame, np.ndarray, np.ndarray | None, int]]:
    """Checked chunks of a CSV: (raw chunk, feature values, labels or None, file row of its first row)."""
    path = pathlib.Path(path)
    header = schema.read_header(path, sep)
    label = detector.label_column
    schema.check_columns(header, detector.columns_, str(path), allowed=[label, *detector.drop])
    if need_labels and label not in header:
        raise UsageError(f"{path}, column {label!r}: missing; evaluating needs the labels")
    first_row, seen = 1, 0
    try:
        reader = pd.read_csv(path, sep=sep, chunksize=chunksize, skip_blank_lines=False)
        for chunk in reader:
            if len(chunk) == 0:  # a file with only a header gives one empty chunk
                continue
            if list(chunk.columns) != header:
                raise UsageError(f"{path}: the header changed while reading")
            values = schema.numeric_block(chunk, detector.columns_, str(path), first_row)
            labels = schema.labels_block(chunk, label, str(path), first_row) if label in header else None
            yield chunk, values, labels, first_row
            first_row += len(chunk)
            seen += len(chunk)
    except pd.errors.ParserError as err:
        raise UsageError(f"{path}: malformed CSV: {str(err).strip().splitlines()[-1]}") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not a text CSV file ({err.reason})") from None
    if seen == 0:
        raise UsageError(f"{path}: no data rows (the file holds only a header)")


def score_csv(
    detector: FraudDetector,
    path: str | os.PathLike,
    out: str | os.PathLike,
    sep: str = ",",
    chunksize: int = DEFAULT_CHUNKSIZE,
    top: int = 3,
    progress: bool = True,
) -> dict:
    """Write `out`: the rows of `path` plus reconstruction_error, flag (0/1) and top_features.

    Every input row is copied as it was written (same text, no re-formatting of numbers) and the three
    columns are appended. Returns a summary (rows, flagged, seconds, rows_per_second, threshold). The
    output appears only when every row has been read, checked and scored.
    """
    import keras

    if chunksize <= 0:
        raise UsageError(f"Expected chunksize > 0, received chunksize={chunksize}")
    start = time.perf_counter()
    threshold = detector.threshold_
    total = count_rows(schema.check_file(path))
    bar = keras.utils.Progbar(total, unit_name="row", verbose=1 if progress else 0)
    header = schema.read_header(path, sep)
    # Rows are copied line by line; free-text columns (--drop) could hold quoted line breaks, so a file
    # with such columns is written through pandas instead.
    copy_lines = not any(c in header for c in detector.drop)
    rows = flagged = 0
    with atomic_path(out) as tmp, open(tmp, "w", newline="") as handle, open(path, newline="") as raw:
        head = raw.readline().rstrip("\r\n")
        if copy_lines:
            handle.write(sep.join([head, *OUTPUT_COLUMNS]) + "\n")
        for chunk, values, _, first_row in iter_chunks(detector, path, sep, chunksize):
            contrib = detector.feature_errors(pd.DataFrame(values, columns=detector.columns_))
            names, share = detector.column_shares(contrib)
            score = contrib.mean(axis=1)
            flag = (score > threshold).astype(np.int8)
            tops = format_top(names, share, top)
            if copy_lines:
                lines = list(itertools.islice(raw, len(chunk)))
                if len(lines) != len(chunk):  # cannot happen for a file that passed the checks
                    raise UsageError(f"{path}: row {first_row}: lines and CSV rows disagree")
                handle.writelines(
                    f"{line.rstrip(chr(13) + chr(10))}{sep}{e!r}{sep}{f}{sep}{t}\n"
                    for line, e, f, t in zip(lines, score.tolist(), flag.tolist(), tops, strict=True)
                )
                del lines
            else:
                chunk = chunk.assign(reconstruction_error=score, flag=flag, top_features=tops)
                chunk.to_csv(handle, header=first_row == 1, index=False, sep=sep)
            rows += len(chunk)
            flagged += int(flag.sum())
            bar.update(min(rows, total) if total else rows)
    seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "flagged": flagged,
        "threshold": threshold,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1),
    }


def score_labelled_csv(
    detector: FraudDetector,
    path: str | os.PathLike,
    sep: str = ",",
    chunksize: int = DEFAULT_CHUNKSIZE,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels of every row of a labelled CSV (read in chunks; only two numbers a row are kept)."""
    import keras

    total = count_rows(schema.check_file(path))
    bar = keras.utils.Progbar(total, unit_name="row", verbose=1 if progress else 0)
    scores, labels, rows = [], [], 0
    for _, values, y, _ in iter_chunks(detector, path, sep, chunksize, need_labels=True):
        scores.append(detector.score_samples(pd.DataFrame(values, columns=detector.columns_)))
        labels.append(y)
        rows += len(values)
        bar.update(min(rows, total) if total else rows)
    return np.concatenate(scores), np.concatenate(labels)
