"""The command's `--engine spark`: score a table at a path with Spark and write a Parquet directory.

`score_path` checks what it can before a JVM starts (model, options, a local input's header and rows, the
output), and while Spark runs sends everything the JVM and its Python workers write to a log file, so that a
failure is one line naming that log, as one process's errors are one line. Nothing is left at the output after
a failure. The scoring itself is `keras_ae.fraud.spark` (`session`, `read`, the `mapInPandas` step).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator

from keras_ae.errors import UsageError
from keras_ae.fraud import spark
from keras_ae.fraud.rows import REASON_COLUMN
from keras_ae.fraud.spark_checks import _local, check_before_spark


@contextlib.contextmanager
def _output_to(log: pathlib.Path) -> Iterator[None]:
    """File descriptors 1 and 2 sent to `log`: a JVM started meanwhile inherits them, and with them its Python
    workers (whose tracebacks Spark copies to the JVM's stderr); Python's own streams are flushed on both ends."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    fd = os.open(log, os.O_WRONLY | os.O_TRUNC | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))  # made by `_log_beside`
    saved = []
    try:
        for target in (1, 2):
            try:
                saved.append((target, os.dup(target)))
            except OSError:  # closed: nothing to restore
                continue
            os.dup2(fd, target)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for target, copy in saved:
            os.dup2(copy, target)
            os.close(copy)
        os.close(fd)


def _usage_error_in(err: BaseException | str) -> str | None:
    """The message of a UsageError raised on an executor, from the Java-side exception text (its first line)."""
    match = re.search(r"keras_ae\.errors\.UsageError: (.+)", str(err))
    return match.group(1).strip() if match else None


def _spark_failure(err: BaseException) -> tuple[str, bool] | None:
    """(one line, whether it is a UsageError's) for an exception Spark raised, on the JVM or on a Python worker;
    None for any other exception (a bug on the driver: its traceback is what helps)."""
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
    except ImportError:
        return None
    if not isinstance(err, (Py4JError, PySparkException)):
        return None
    try:
        text = str(err)
    except Exception:  # noqa: BLE001 - the JVM went away: the exception's type is all there is
        text = ""
    usage = _usage_error_in(text)
    if usage is not None:
        return usage, True
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    worker = "Traceback (most recent call last):" in text  # a Python worker's exception: its last line says it
    if worker:
        last = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Exit|Interrupt)\b", line)]
        line = last[-1] if last else lines[-1]
    else:
        line = next((line.removeprefix(": ") for line in lines if line.startswith(": ")), lines[0] if lines else "")
    return (line or type(err).__name__)[:400], False


def _malformed_record(log: pathlib.Path) -> str | None:
    """The start of the CSV record Spark's reader found malformed, from its log (the exception the driver sees
    names only the file); None when the log names none."""
    with contextlib.suppress(OSError), open(log, encoding="utf-8", errors="replace") as f:
        match = re.search(r"\[MALFORMED_CSV_RECORD\] Malformed CSV record: ?(.*?)(?: SQLSTATE: \w+)?$", f.read(),
                          re.MULTILINE)
        if match:
            record = match.group(1).strip()
            return repr(record[:60] + "..." if len(record) > 60 else record)
    return None


def _log_beside(out: str, target: pathlib.Path | None) -> pathlib.Path:
    """A new file `.<out name>.<random>.spark.log` beside a local output (never a file that was there: it is
    written and removed); a temporary file for a remote one."""
    if target is not None:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".spark.log", dir=target.parent)
        os.close(fd)
        return pathlib.Path(name)
    fd, name = tempfile.mkstemp(prefix="keras-ae-fraud-spark-", suffix=".log")
    os.close(fd)
    return pathlib.Path(name)


def _make_dirs(directory: pathlib.Path) -> list[pathlib.Path]:
    """Create `directory` and missing parents; the ones created, deepest first."""
    made = []
    while not directory.exists() and directory != directory.parent:
        made.append(directory)
        directory = directory.parent
    for path in reversed(made):
        path.mkdir(exist_ok=True)
    return made


def _remove(*paths: pathlib.Path | str | None, dirs: list[pathlib.Path] = ()) -> None:
    for path in paths:
        if path is not None:
            path = pathlib.Path(path)
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    for directory in dirs:  # created for the output: removed when left empty
        with contextlib.suppress(OSError):
            directory.rmdir()


def _append_details(log: pathlib.Path, err: BaseException) -> None:
    import traceback

    with contextlib.suppress(Exception), open(log, "a", encoding="utf-8", errors="replace") as f:
        f.write("\n--- keras-ae-fraud: the exception that ended the Spark run ---\n")
        f.write("".join(traceback.format_exception(err)))


def score_path(model_dir: str, inputs: str, out: str, master: str | None = None, sep: str = ",", top: int = 3,
               threshold_rule: str | None = None, threshold_value: float | None = None,
               unscorable: str = "refuse", on_model=None) -> dict:
    """Read `inputs`, score it on Spark, write a Parquet directory `out` (local: only once complete).

    Everything that can be checked without a JVM is, first (`check_before_spark`). While Spark runs, file
    descriptors 1 and 2 go to a new log (`.<out name>.<random>.spark.log` beside a local `out`, else a temporary
    file): it is removed after a success, and named in the one-line UsageError of a failure (a bad cell found on
    an executor, a file Spark cannot read), which keeps it. Nothing is left at `out` after a failure.
    `on_model(detector)` is called once the model is loaded, before Spark starts.
    """
    from keras_ae import outputs

    detector = check_before_spark(model_dir, inputs, out, master, sep, top, threshold_rule, threshold_value)
    detector.unscorable = spark.unscorable_mode(unscorable)
    if on_model is not None:
        on_model(detector)
    if _local(out) is None:
        return _score_path(detector, model_dir, inputs, out, master, sep, top)
    with outputs.claimed(_local(out), "table", [_local(inputs), model_dir]):  # one writer at a time
        return _score_path(detector, model_dir, inputs, out, master, sep, top)


def _counts(written) -> tuple[int, int, int, int]:
    """Rows, flagged rows, unscorable rows (a reason given) and rows with an amount far outside the training
    amounts (`FAR_SCORE`) of the scored table, in one pass."""
    from pyspark.sql import functions as F

    from keras_ae.fraud.rows import FAR_SCORE

    def count(condition):
        return F.coalesce(F.sum(F.when(condition, 1).otherwise(0)), F.lit(0))

    reason = F.length(F.col(REASON_COLUMN)) > 0 if REASON_COLUMN in written.columns else F.lit(False)
    row = written.agg(F.count(F.lit(1)), count(F.col("flag") == 1), count(reason),
                      count(F.col("score") == float(FAR_SCORE))).first()
    return tuple(int(value) for value in row)


def _score_path(detector, model_dir: str, inputs: str, out: str, master: str | None, sep: str, top: int) -> dict:
    from keras_ae.fraud import bundle, schema

    target = _local(out)
    made = _make_dirs(target.parent) if target is not None else []
    log = _log_beside(str(out), target)
    tmp = None
    try:
        with _output_to(log):
            session = spark.session(master)
            start = time.perf_counter()
            df, as_numbers = spark.read(session, inputs, sep, text_columns=detector.columns_)
            bundle.check_columns(detector, df.columns, model_dir, str(inputs))  # the columns as Spark names them
            schema.check_result_names(df.columns, str(inputs), fitting=False)
            if _local(inputs) is None and not df.head(1):
                raise UsageError(f"{inputs}: no data rows (the table holds only a header)")
            scored = spark.with_scores(df, detector, top, as_numbers)
            if target is not None:
                tmp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            scored.write.mode("overwrite" if tmp else "errorifexists").parquet(tmp or out)
            rows, flagged, unscorable, far = _counts(session.read.parquet(tmp or out))
            if rows == 0:
                raise UsageError(f"{inputs}: no data rows (the table holds only a header)")
            used = session.sparkContext.master
    except (UsageError, KeyboardInterrupt, SystemExit):  # said on the driver, or a stop: the log adds nothing
        _remove(tmp, log, dirs=made)
        raise
    except BaseException as err:
        _remove(tmp)
        _append_details(log, err)
        failure = _spark_failure(err)
        if failure is None:  # not Spark's: a bug, whose traceback follows
            err.add_note(f"Spark's output: {log}")
            raise
        message, usage = failure
        if usage:  # a UsageError on an executor: its message names the DataFrame, this names the input
            message = str(inputs) + message.removeprefix(spark.SOURCE) if message.startswith(spark.SOURCE) else message
            raise UsageError(f"{message} (Spark; details in {log})") from None
        record = _malformed_record(log)
        if record is not None:  # CSV that Spark's reader could not split into the header's fields
            raise UsageError(f"{inputs}: a record does not have the header's fields (a field too many or too few, a "
                             f"comment line, or a quoted field spanning lines, which Spark reads line by line): "
                             f"{record} (Spark; details in {log})") from None
        raise UsageError(f"Spark failed: {message} (details in {log})") from None
    _remove(log)
    if tmp:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes the directory private: give it the usual permissions
        os.replace(tmp, target)
    seconds = time.perf_counter() - start
    return {"rows": rows, "flagged": flagged, "unscorable": unscorable, "far_outside": far,
            "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds, 1), "master": used}
