"""Score a Spark DataFrame with a saved fraud detector: `mapInPandas` over the partitions.

The detector is loaded and checked against the DataFrame's columns on the driver, reduced to what scoring
needs (columns, standardisation, Dense weights, scales, threshold) and broadcast to the executors once.
Executors run NumPy and pandas only: no TensorFlow, Keras or scikit-learn is imported there, so they need the
`keras_ae` package (e.g. `--py-files`) and NumPy, pandas and pyarrow, nothing else.
"""

from __future__ import annotations

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

RESULT_COLUMNS = ("score", "reconstruction_error", "flag", "top_features")
_CACHE: dict[int, Any] = {}  # per Python worker: the unpacked payload of each broadcast


def payload(detector: Any, top: int = 3) -> dict:
    """What an executor needs to score, as plain Python and NumPy objects (no estimator, no Keras)."""
    state = detector.scoring_
    return {"columns": list(detector.columns_), "preprocessing": detector.preprocessor_.to_dict(),
            "weights": detector.weights_, "scales": list(detector.member_scales_), "scoring": state.to_dict(),
            "reference": state.reference,
            "threshold": float(detector.threshold_), "label": detector.label_column, "top": int(top)}


def score_frame(frame: pd.DataFrame, state: dict) -> pd.DataFrame:
    """`frame` with the three result columns appended, scored from a `payload` (executor side)."""
    from keras_ae.fraud import bundle, combined, explain, schema
    from keras_ae.fraud.preprocess import Preprocessor

    pre = state.get("_pre") or Preprocessor.from_dict(state["preprocessing"])
    state["_pre"] = pre
    scoring = state.get("_scoring") or bundle.scoring_state(state["scoring"], state["weights"], state["scales"],
                                                            state["reference"])
    state["_scoring"] = scoring
    values = schema.numeric_block(frame, state["columns"], "the Spark DataFrame")
    scored = combined.score(scoring, pre.transform(pd.DataFrame(values, columns=state["columns"])))
    names, share = explain.column_shares(pre.source_of(), scored.contributions)
    return frame.assign(score=scored.score, reconstruction_error=scored.reconstruction_error,
                        flag=(scored.score > state["threshold"]).astype(np.int32),
                        top_features=explain.format_top(names, share, state["top"]))


def _quiet_pyspark() -> None:
    # pyspark warns that pandas 3 is not fully supported yet; scoring uses plain numeric columns only.
    warnings.filterwarnings("ignore", message=".*pandas.*", module="pyspark.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark.*")


def session(master: str | None = None, app: str = "keras-ae-fraud"):
    """A Spark session (pyspark and Java are checked first, with one line saying what to install).

    `master` None keeps the master spark-submit was given (else Spark's default, local[*]).
    """
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("Spark scoring needs pyspark: pip install 'keras-ae[spark]'") from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise UsageError("Spark needs Java 17: install a JDK (e.g. apt-get install openjdk-17-jre-headless) "
                         "or set JAVA_HOME")
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
          threshold_value: float | None = None):
    """`df` (a Spark DataFrame) with score, reconstruction_error, flag and top_features added, row by row.

    The detector of `model_dir` is checked against `df.columns` here, on the driver.
    """
    from pyspark.sql import types as T

    from keras_ae.fraud.detector import FraudDetector

    detector = FraudDetector.load(model_dir, columns=df.columns, source="the Spark DataFrame")
    if threshold_rule is not None:
        detector.set_threshold(threshold_rule, threshold_value)
    shared = df.sparkSession.sparkContext.broadcast(payload(detector, top))
    key = id(shared)
    schema = T.StructType([*df.schema.fields, T.StructField("score", T.DoubleType()),
                           T.StructField("reconstruction_error", T.DoubleType()),
                           T.StructField("flag", T.IntegerType()), T.StructField("top_features", T.StringType())])

    def score_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        state = _CACHE.setdefault(key, shared.value)  # unpacked once per Python worker
        for frame in frames:
            yield score_frame(frame, state)

    return df.mapInPandas(score_partition, schema)


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def read(spark, path: str, sep: str = ","):
    """A CSV (header row, inferred types; compressed too) or Parquet path, as Spark reads it."""
    from keras_ae.fraud import tables

    if _is_local(path) and not pathlib.Path(path.removeprefix("file://")).exists():
        raise UsageError(f"{path}: no such file or directory")
    if path.rstrip("/").lower().endswith(tables.PARQUET_SUFFIXES) or \
            (_is_local(path) and pathlib.Path(path.removeprefix("file://")).is_dir()):
        return spark.read.parquet(path)
    return spark.read.csv(path, header=True, inferSchema=True, sep=sep)


def _usage_error_in(err: Exception) -> str | None:
    """The message of a UsageError raised on an executor, from the Java-side exception text."""
    match = re.search(r"keras_ae\.errors\.UsageError: (.+)", str(err))
    return match.group(1).strip() if match else None


def score_path(model_dir: str, inputs: str, out: str, master: str | None = None, sep: str = ",", top: int = 3,
               threshold_rule: str | None = None, threshold_value: float | None = None) -> dict:
    """Read `inputs`, score it on Spark, write a Parquet directory `out` (local: only once complete)."""
    local_out = _is_local(out)
    target = pathlib.Path(out.removeprefix("file://")) if local_out else None
    if target is not None and target.exists():
        raise UsageError(f"out={out!r} exists; name a new directory for the Parquet output")
    spark = session(master)
    start = time.perf_counter()
    scored = score(read(spark, inputs, sep), model_dir, top, threshold_rule, threshold_value)
    tmp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent) if target else None
    try:
        scored.write.mode("overwrite" if tmp else "errorifexists").parquet(tmp or out)
        written = spark.read.parquet(tmp or out)
        rows, flagged = written.count(), written.where("flag = 1").count()
    except BaseException as err:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        message = None if isinstance(err, UsageError) else _usage_error_in(err)
        if message is None:  # a UsageError on an executor reaches the driver wrapped by Py4J / Spark
            raise
        raise UsageError(message) from None
    if tmp:
        os.replace(tmp, target)
    seconds = time.perf_counter() - start
    return {"rows": int(rows), "flagged": int(flagged), "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds, 1), "master": spark.sparkContext.master}
