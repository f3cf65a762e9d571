"""Score a Spark DataFrame with a saved fraud detector: `mapInPandas` over the partitions.

The detector is loaded and checked against the DataFrame's columns on the driver, reduced to what scoring
needs (columns, standardisation, Dense weights, scales, threshold) and broadcast to the executors once.
Executors run NumPy and pandas only: no TensorFlow, Keras or scikit-learn is imported there, so they need the
`keras_ae` package (e.g. `--py-files`) and NumPy, pandas and pyarrow, nothing else.

`score_path` (the command's `--engine spark`) checks what it can before a JVM starts (model, options, a local
input's header and rows, the output), and while Spark runs sends everything the JVM and its Python workers
write to a log file, so that a failure is one line naming that log, as one process's errors are one line.
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
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud.rows import REASON_COLUMN
from keras_ae.fraud.spark_checks import _is_local, _local, check_before_spark, check_master, require_spark  # noqa: F401  (public here too)

RESULT_COLUMNS = ("score", "reconstruction_error", "flag", "top_features", "p_value")
SOURCE = "the Spark DataFrame"  # what an executor's messages name (score_path puts the input path there)
_ROW = re.compile(r", row \d+ \(line \d+\)")
_CACHE: dict[int, Any] = {}  # per Python worker: the unpacked payload of each broadcast


def payload(detector: Any, top: int = 3) -> dict:
    """What an executor needs to score, as plain Python and NumPy objects (no estimator, no Keras)."""
    state = detector.scoring_
    return {"columns": list(detector.columns_), "preprocessing": detector.preprocessor_.to_dict(),
            "weights": detector.weights_, "scales": list(detector.member_scales_), "scoring": state.to_dict(),
            "reference": state.reference,
            "threshold": float(detector.threshold_), "label": detector.label_column, "top": int(top),
            "unscorable": getattr(detector, "unscorable", "refuse"),
            "normal_validation": np.sort(detector._normal_validation())}


def score_frame(frame: pd.DataFrame, state: dict) -> pd.DataFrame:
    """`frame` with the result columns appended, scored from a `payload` (executor side) by the same rule as one
    process (`keras_ae.fraud.rows`): a row that cannot be scored is refused, or flagged with its reason."""
    from keras_ae.fraud import bundle, explain, rows
    from keras_ae.fraud.preprocess import Preprocessor

    pre = state.get("_pre") or Preprocessor.from_dict(state["preprocessing"])
    state["_pre"] = pre
    scoring = state.get("_scoring") or bundle.scoring_state(state["scoring"], state["weights"], state["scales"],
                                                            state["reference"])
    state["_scoring"] = scoring
    mode = state.get("unscorable", "refuse")
    try:
        scored = rows.score_frame(frame, state["columns"], pre, scoring, SOURCE, 1, mode)
    except UsageError as err:  # the row is one within this Arrow batch of a partition, not of the table: drop it
        raise UsageError(_ROW.sub("", str(err), count=1)) from None
    names, share = explain.column_shares(pre.source_of(), scored.contributions)
    tops = explain.format_top(names, share, state["top"])
    extra = {}
    if scored.reasons is not None:
        tops = np.where(scored.reasons.astype(bool), "", tops)
        extra[rows.REASON_COLUMN] = [_ROW.sub("", r, count=1) for r in scored.reasons.astype(str)]
    from keras_ae.anomaly.thresholds import conformal_p_values

    p = conformal_p_values(scored.score, state["normal_validation"])
    return frame.assign(score=scored.score, reconstruction_error=scored.reconstruction_error,
                        flag=(scored.score > state["threshold"]).astype(np.int32), top_features=tops, p_value=p,
                        **extra)


def _quiet_pyspark() -> None:
    # pyspark warns that pandas 3 is not fully supported yet; scoring uses plain numeric columns only.
    warnings.filterwarnings("ignore", message=".*pandas.*", module="pyspark.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark.*")


def session(master: str | None = None, app: str = "keras-ae-fraud"):
    """A Spark session (pyspark and Java are checked first, with one line saying what to install).

    `master` None keeps the master spark-submit was given (else Spark's default, local[*]).
    """
    require_spark()
    from pyspark.sql import SparkSession

    local = (master or "local").startswith("local")
    if local:  # workers on this machine use this interpreter and its packages (on a cluster: PYSPARK_PYTHON)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "resolves to a loopback address" warning
    _quiet_pyspark()
    builder = SparkSession.builder.master(master) if master else SparkSession.builder
    builder = builder.config("spark.sql.execution.pyspark.python", sys.executable) if local else builder
    spark = (builder.appName(app)
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.executorEnv.PYTHONWARNINGS", "ignore")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def score(df, model_dir: str | os.PathLike, top: int = 3, threshold_rule: str | None = None,
          threshold_value: float | None = None, unscorable: str = "refuse"):
    """`df` (a Spark DataFrame) with score, reconstruction_error, flag and top_features added, row by row.

    The detector of `model_dir` is checked against `df.columns` here, on the driver.
    """
    from keras_ae.fraud.detector import FraudDetector

    detector = FraudDetector.load(model_dir, columns=df.columns, source=SOURCE)
    if threshold_rule is not None:
        detector.set_threshold(threshold_rule, threshold_value)
    detector.unscorable = _unscorable(unscorable)
    return _with_scores(df, detector, top)


def _unscorable(mode: str) -> str:
    from keras_ae.fraud.params import UNSCORABLE

    if mode not in UNSCORABLE:
        raise UsageError(f"unscorable must be one of {', '.join(UNSCORABLE)}, received {mode!r}")
    return mode


def _with_scores(df, detector: Any, top: int):
    """`df` with the result columns of `detector` (loaded, checked against `df.columns`, threshold set)."""
    from pyspark.sql import types as T

    shared = df.sparkSession.sparkContext.broadcast(payload(detector, top))
    key = id(shared)
    schema = T.StructType([*df.schema.fields, T.StructField("score", T.DoubleType()),
                           T.StructField("reconstruction_error", T.DoubleType()),
                           T.StructField("flag", T.IntegerType()), T.StructField("top_features", T.StringType()),
                           T.StructField("p_value", T.DoubleType())]
                          + ([T.StructField(REASON_COLUMN, T.StringType())]
                             if getattr(detector, "unscorable", "refuse") == "flag" else []))

    def score_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        state = _CACHE.setdefault(key, shared.value)  # unpacked once per Python worker
        for frame in frames:
            yield score_frame(frame, state)

    return df.mapInPandas(score_partition, schema)


def read(spark, path: str, sep: str = ","):
    """A CSV (header row, inferred types; compressed too) or Parquet path, as Spark reads it."""
    from keras_ae.fraud import tables

    if _is_local(path) and not pathlib.Path(path.removeprefix("file://")).exists():
        raise UsageError(f"{path}: no such file or directory")
    if path.rstrip("/").lower().endswith(tables.PARQUET_SUFFIXES) or \
            (_is_local(path) and pathlib.Path(path.removeprefix("file://")).is_dir()):
        return spark.read.parquet(path)
    return spark.read.csv(path, header=True, inferSchema=True, sep=sep, mode="FAILFAST")  # as one process


@contextlib.contextmanager
def _output_to(log: pathlib.Path) -> Iterator[None]:
    """File descriptors 1 and 2 sent to `log`: a JVM started meanwhile inherits them, and with them its Python
    workers (whose tracebacks Spark copies to the JVM's stderr); Python's own streams are flushed on both ends."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
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


def _log_beside(out: str, target: pathlib.Path | None) -> pathlib.Path:
    """`.<out name>.spark.log` beside a local output; a temporary file for a remote one."""
    if target is not None:
        return target.parent / f".{target.name}.spark.log"
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
               unscorable: str = "refuse") -> dict:
    """Read `inputs`, score it on Spark, write a Parquet directory `out` (local: only once complete).

    Everything that can be checked without a JVM is, first (`check_before_spark`). While Spark runs, file
    descriptors 1 and 2 go to a log (`.<out name>.spark.log` beside a local `out`, else a temporary file): it is
    removed after a success, and named in the one-line UsageError of a failure (a bad cell found on an executor,
    a file Spark cannot read), which keeps it. Nothing is left at `out` after a failure.
    """
    from keras_ae import outputs

    detector = check_before_spark(model_dir, inputs, out, master, sep, top, threshold_rule, threshold_value)
    detector.unscorable = _unscorable(unscorable)
    if _local(out) is None:
        return _score_path(detector, model_dir, inputs, out, master, sep, top)
    with outputs.claimed(_local(out), "table", [_local(inputs), model_dir]):  # one writer at a time
        return _score_path(detector, model_dir, inputs, out, master, sep, top)


def _score_path(detector, model_dir: str, inputs: str, out: str, master: str | None, sep: str, top: int) -> dict:
    from keras_ae.fraud import bundle

    target = _local(out)
    made = _make_dirs(target.parent) if target is not None else []
    log = _log_beside(str(out), target)
    tmp = None
    try:
        with _output_to(log):
            spark = session(master)
            start = time.perf_counter()
            df = read(spark, inputs, sep)
            bundle.check_columns(detector, df.columns, model_dir, str(inputs))  # the columns as Spark names them
            if _local(inputs) is None and not df.head(1):
                raise UsageError(f"{inputs}: no data rows (the table holds only a header)")
            scored = _with_scores(df, detector, top)
            if target is not None:
                tmp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            scored.write.mode("overwrite" if tmp else "errorifexists").parquet(tmp or out)
            written = spark.read.parquet(tmp or out)
            rows, flagged = written.count(), written.where("flag = 1").count()
            if rows == 0:
                raise UsageError(f"{inputs}: no data rows (the table holds only a header)")
            used = spark.sparkContext.master
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
            message = str(inputs) + message.removeprefix(SOURCE) if message.startswith(SOURCE) else message
            raise UsageError(f"{message} (Spark; details in {log})") from None
        raise UsageError(f"Spark failed: {message} (details in {log})") from None
    _remove(log)
    if tmp:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes the directory private: give it the usual permissions
        os.replace(tmp, target)
    seconds = time.perf_counter() - start
    return {"rows": int(rows), "flagged": int(flagged), "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds, 1), "master": used}
