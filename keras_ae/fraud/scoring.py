"""Score tables of any size: read in chunks, check every chunk, write a temporary output, rename at the end.

Memory stays bounded by the chunk size whatever the table size; a bad cell anywhere stops the run with a
message that names the file's row and column, and leaves no output behind. Scoring runs on the detector's
stored weights in NumPy: nothing here imports TensorFlow.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from keras_ae import interrupt
from keras_ae.errors import UsageError
from keras_ae.fraud import cells, schema, tables
from keras_ae.fraud.detector import FraudDetector
from keras_ae.fraud.explain import format_top
from keras_ae.fraud.params import DEFAULT_CHUNKSIZE
from keras_ae.fraud.rows import REASON_COLUMN
from keras_ae.progress import Progress

OUTPUT_COLUMNS = ("score", "reconstruction_error", "flag", "top_features", "p_value")
count_rows = tables.count_rows


def iter_chunks(detector: FraudDetector, path: str | os.PathLike | tables.Table, sep: str = ",",
                chunksize: int = DEFAULT_CHUNKSIZE, need_labels: bool = False,
                ) -> Iterator[tuple[pd.DataFrame, np.ndarray | None, int]]:
    """Chunks of a table (a path, or a `tables.Table` already opened), their columns checked: (raw chunk, labels
    when `need_labels`, else None, table row of its first row). Feature cells are checked when the chunk is scored
    (`FraudDetector.scored`)."""
    if chunksize <= 0:
        raise UsageError(f"Expected chunksize > 0, received chunksize={chunksize}")
    table = tables.open_table(path, sep)
    path, header = table.path, table.header
    label = detector.label_column
    schema.check_columns(header, detector.columns_, str(path), allowed=[label, *detector.drop])
    if need_labels and not label:
        raise UsageError(f"{path}: the model was fitted without a label column (label_column none), so it cannot "
                         "tell which rows are frauds; evaluating needs a model fitted with the 0/1 label column named")
    if need_labels and label not in header:
        raise UsageError(f"{path}, column {label!r}: missing; evaluating needs the labels")
    first_row = 1
    for chunk in table.frames(chunksize):
        if len(chunk) == 0:  # a file with only a header gives one empty chunk
            continue
        now = [str(c) for c in chunk.columns]
        if now != header:
            raise UsageError(f"{path}, from row {first_row}: {header_change(header, now)}")
        # scoring passes the label column through as it is (new rows may not be labelled yet, as in Spark);
        # evaluating reads it, so a label there must be 0 or 1
        labels = cells.labels_block(chunk, label, str(path), first_row) if need_labels else None
        yield chunk, labels, first_row
        first_row += len(chunk)
    if first_row == 1:
        raise UsageError(f"{path}: no data rows (the table holds only a header)")


def header_change(header: list[str], now: list[str]) -> str:
    """How the columns of a later part of a table differ from its header (the files of a Parquet directory must
    all have the same columns, in the same order)."""
    gone, new = [c for c in header if c not in now], [c for c in now if c not in header]
    what = "; ".join(part for part in (f"columns {schema.short_list(gone)} missing" if gone else "",
                                       f"columns {schema.short_list(new)} new" if new else "") if part)
    return (f"the columns changed ({what or 'the same columns in another order'}); every part of a table, every "
            "file of a Parquet directory, must have the same columns in the same order")


def _score(detector: FraudDetector, chunk: pd.DataFrame, top: int, source: str, first_row: int):
    """(score, reconstruction error, flag, top features, p-value, reasons or None, rows with an amount far outside
    the normal training amounts) of a chunk's rows."""
    scored = detector.scored(chunk, source, first_row)
    names, share = detector.column_shares(scored.contributions)
    flag = (scored.score > detector.threshold_).astype(np.int8)
    tops = format_top(names, share, top)
    if scored.reasons is not None:
        tops = np.where(scored.reasons.astype(bool), "", tops)
    far = 0 if scored.far is None else int(scored.far.sum())
    p_values = detector.p_values_of(scored.score)
    return scored.score, scored.reconstruction_error, flag, tops, p_values, scored.reasons, far


def score_table(detector: FraudDetector, path: str | os.PathLike | tables.Table, out: str | os.PathLike, sep: str = ",",
                chunksize: int = DEFAULT_CHUNKSIZE, top: int = 3, progress: bool = True) -> dict:
    """Write `out` (CSV or Parquet, by its extension): the rows of `path` (CSV or Parquet) plus
    score, reconstruction_error, flag (0/1), top_features and p_value (the conformal p-value among the held-out
    normal rows; and unscorable_reason when the detector flags rows it cannot score, `unscorable="flag"`).

    The input columns pass through unchanged (a plain CSV written to CSV is copied line by line, the same
    text); the output appears only when every row has been read, checked and scored. `out` must be new or a
    table this function wrote (`keras_ae.outputs`). Returns a summary (rows, flagged, unscorable, seconds,
    rows_per_second, threshold).
    """
    from keras_ae import outputs

    start = time.perf_counter()
    table = tables.open_table(path, sep)
    path, header, sep = table.path, table.header, table.sep
    schema.check_result_names(header, str(path), fitting=False)
    rows = flagged = unscorable = outside = 0
    with outputs.claimed(out, "table", [path]) as target:
        tables.check_output(target, path)
        bar = Progress(table.count_rows(), enabled=progress)
        chunks = iter_chunks(detector, table, chunksize=chunksize)
        with tables.TableWriter(target, sep) as writer:
            # A plain CSV written to a plain CSV is copied line by line (the same text), unless a quote in it could
            # hold a line break (a CSV record is then not a line); every other combination goes through pandas.
            copy = writer.plain_text and tables.is_plain_csv(path) \
                and not any(c in header for c in detector.drop) and not tables.has_quotes(path)
            # otherwise the input columns are written from a second reading that keeps them as they were
            copies = None if copy else table.copies(chunksize, text=writer.format.plain_text)
            for chunk, _, first_row in chunks:
                interrupt.check()  # a stop request swallowed inside a parser still ends the run here
                score, error, flag, tops, p, reasons, far = _score(detector, chunk, top, str(path), first_row)
                if copy:
                    _copy_lines(writer, path, sep, chunk, first_row, score, error, flag, tops, p, reasons)
                else:
                    extra = {} if reasons is None else {REASON_COLUMN: reasons.astype(str)}
                    passed = chunk if copies is None else _same_rows(next(copies, None), chunk, path, first_row)
                    writer.write(passed.assign(score=score, reconstruction_error=error, flag=flag, top_features=tops,
                                              p_value=p, **extra))
                rows += len(chunk)
                flagged += int(flag.sum())
                unscorable += 0 if reasons is None else int(reasons.astype(bool).sum())
                outside += far
                bar.update(len(chunk))
        bar.close()
    seconds = time.perf_counter() - start
    return {"rows": rows, "flagged": flagged, "unscorable": unscorable, "far_outside": outside,
            "threshold": detector.threshold_,
            "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds, 1)}


def _same_rows(copy: pd.DataFrame | None, chunk: pd.DataFrame, path: pathlib.Path, first_row: int) -> pd.DataFrame:
    """`copy`, the second reading of `chunk`'s rows, checked to be those rows (it cannot differ for a table that was
    not changed while it was read)."""
    if copy is None or len(copy) != len(chunk) or list(copy.columns) != list(chunk.columns):
        raise UsageError(f"{path}: from row {first_row}: the table changed while it was scored")
    return copy.set_axis(chunk.index)


def _copy_lines(writer: tables.TableWriter, path: pathlib.Path, sep: str, chunk: pd.DataFrame, first_row: int,
                score: np.ndarray, error: np.ndarray, flag: np.ndarray, tops: np.ndarray, p: np.ndarray,
                reasons: np.ndarray | None = None) -> None:
    """Append the chunk's own input lines, each followed by its result fields, to the writer's file."""
    try:  # the text reader decodes ahead of the CSV parser: a bad byte may surface here first
        if first_row == 1:
            writer.raw = open(path, newline="")  # noqa: SIM115  (closed with the writer)
            writer.handle = open(writer.tmp, "w", newline="")  # noqa: SIM115
            writer.on_close(writer.raw.close, writer.handle.close)
            names = [*OUTPUT_COLUMNS, *([REASON_COLUMN] if reasons is not None else [])]
            header = writer.raw.readline().rstrip("\r\n")
            writer.fields = header.count(sep) + 1  # no quotes in the file: every separator parts two fields
            writer.handle.write(sep.join([header, *names]) + "\n")
        lines = list(itertools.islice(writer.raw, len(chunk)))
    except UnicodeDecodeError as err:  # the text reader decodes ahead of the CSV parser
        raise UsageError(f"{path}: not a UTF-8 text CSV file ({err.reason}{tables.where_not_utf8(path)})") from None
    if len(lines) != len(chunk):  # cannot happen for a file that passed the checks
        raise UsageError(f"{path}: row {first_row}: lines and CSV rows disagree")
    tail = [""] * len(lines) if reasons is None else [sep + _quoted(r, sep, always=True) for r in reasons.tolist()]
    writer.handle.writelines(f"{_whole(line, sep, writer.fields)}{sep}{s!r}{sep}{e!r}{sep}{f}{sep}{_quoted(t, sep)}"
                             f"{sep}{q!r}{r}\n"
                             for line, s, e, f, t, q, r in zip(lines, score.tolist(), error.tolist(), flag.tolist(),
                                                               tops, p.tolist(), tail, strict=True))


def _whole(line: str, sep: str, fields: int) -> str:
    """An input line without its line end, with the empty fields a blank line leaves off written out, so that the
    result fields stand under their own names (a row with some fields but too few is refused when it is read)."""
    line = line.rstrip("\r\n")
    return line + sep * (fields - 1 - line.count(sep))


def _quoted(text: str, sep: str, always: bool = False) -> str:
    """A result field as CSV writes it: quoted where it holds the separator (top features with --sep ' '), a quote
    or a line break, or `always` (a reason) where it holds anything."""
    if not text or not (always or any(c in text for c in (sep, '"', "\n", "\r"))):
        return text
    return '"' + text.replace('"', '""') + '"'


def score_labelled(detector: FraudDetector, path: str | os.PathLike | tables.Table, sep: str = ",",
                   chunksize: int = DEFAULT_CHUNKSIZE, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels of every row of a labelled table (read in chunks; only two numbers a row are kept)."""
    table = tables.open_table(path, sep)
    bar = Progress(table.count_rows(), enabled=progress)
    scores, labels = [], []
    for chunk, y, first_row in iter_chunks(detector, table, chunksize=chunksize, need_labels=True):
        interrupt.check()
        scores.append(detector.scored(chunk, str(table.path), first_row).score)
        labels.append(y)
        bar.update(len(chunk))
    bar.close()
    return np.concatenate(scores), np.concatenate(labels)

