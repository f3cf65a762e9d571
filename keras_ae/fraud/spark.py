"""Score a Spark DataFrame with a saved fraud detector: `mapInPandas` over the partitions.

The detector is loaded and checked against the DataFrame's columns on the driver, reduced to what scoring
needs (columns, standardisation, Dense weights, scales, threshold) and broadcast to the executors once.
Executors run NumPy and pandas only: no TensorFlow, Keras or scikit-learn is imported there, so they need the
`keras_ae` package (e.g. `--py-files`) and NumPy, pandas and pyarrow, nothing else.

The command's `--engine spark` (a path in, a Parquet directory out) is `keras_ae.fraud.spark_job.score_path`.
"""

from __future__ import annotations

import os
import pathlib
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
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
             .config("spark.sql.caseSensitive", "true")  # column names as one process reads them: "v1" is not "V1"
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def score(df, model_dir: str | os.PathLike, top: int = 3, threshold_rule: str | None = None,
          threshold_value: float | None = None, unscorable: str = "refuse"):
    """`df` (a Spark DataFrame) with score, reconstruction_error, flag, top_features and p_value added, row by row.

    The detector of `model_dir` is checked against `df.columns` here, on the driver.
    """
    from keras_ae.fraud.detector import FraudDetector

    detector = FraudDetector.load(model_dir, columns=df.columns, source=SOURCE)
    if threshold_rule is not None:
        detector.set_threshold(threshold_rule, threshold_value)
    detector.unscorable = unscorable_mode(unscorable)
    return with_scores(df, detector, top)


def unscorable_mode(mode: str) -> str:
    from keras_ae.fraud.params import UNSCORABLE

    if mode not in UNSCORABLE:
        raise UsageError(f"unscorable must be one of {', '.join(UNSCORABLE)}, received {mode!r}")
    return mode


def with_scores(df, detector: Any, top: int, as_numbers: dict | None = None):
    """`df` with the result columns of `detector` (loaded, checked against `df.columns`, threshold set); the
    `as_numbers` columns ({name: Spark type}), read as text (`read`), are written as numbers of that type (whole
    numbers exactly; a cell that is no number: null, its reason in unscorable_reason)."""
    from pyspark.sql import types as T

    shared = df.sparkSession.sparkContext.broadcast(payload(detector, top))
    key = id(shared)
    as_numbers = {c: kind for c, kind in (as_numbers or {}).items() if c in df.columns}
    integral = [c for c, kind in as_numbers.items() if isinstance(kind, T.IntegralType)]
    fields = [T.StructField(f.name, as_numbers[f.name] if f.name in integral else T.DoubleType(), True)
              if f.name in as_numbers else f for f in df.schema.fields]
    schema = T.StructType([*fields, T.StructField("score", T.DoubleType()),
                           T.StructField("reconstruction_error", T.DoubleType()),
                           T.StructField("flag", T.IntegerType()), T.StructField("top_features", T.StringType()),
                           T.StructField("p_value", T.DoubleType())]
                          + ([T.StructField(REASON_COLUMN, T.StringType())]
                             if getattr(detector, "unscorable", "refuse") == "flag" else []))

    names = list(df.columns)

    def score_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        state = _CACHE.setdefault(key, shared.value)  # unpacked once per Python worker
        for frame in frames:
            frame.columns = names
            scored = score_frame(frame, state)
            for column in as_numbers:  # read as text to be scored by the one-process rule: written as numbers
                scored[column] = _numbers(scored[column], column in integral)
            yield scored

    # mapInPandas looks each column up by name, which a name holding a dot ("tx.id") or differing from another only
    # in case ("v1" beside "V1") breaks: the columns travel under their places and get their names back inside
    return df.toDF(*[f"_c{i}" for i in range(len(names))]).mapInPandas(score_partition, schema)


_INTEGER = re.compile(r"\s*[+-]?\d+\s*", re.ASCII)


def _numbers(text: pd.Series, integral: bool) -> pd.Series:
    """A column read as text, as the numbers Spark would have read (whole numbers exactly, as Int64)."""
    values = pd.to_numeric(text, errors="coerce")
    if not integral:
        return values.astype(np.float64)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    return pd.Series([int(v) if isinstance(v, str) and _INTEGER.fullmatch(v) else None for v in text.tolist()],
                     dtype="Int64", index=text.index)


def read(spark, path: str, sep: str = ",", text_columns: Iterable[str] = ()) -> tuple[Any, dict]:
    """A CSV (header row, inferred types; compressed too) or Parquet path, as Spark reads it, and the columns to
    write back as numbers.

    The `text_columns` of a CSV (a model's feature columns) are read as text, so that the executors parse them by
    the rule of one process (`keras_ae.fraud.schema`): Spark's own reader takes `1.5d`, `0x1p-1` or `true` for
    values, which one process refuses. Those of them Spark would have read as numbers are returned with the type
    it would have given them, for `with_scores(as_numbers=...)`; a Parquet input keeps its types (and returns
    none).
    """
    from keras_ae.fraud import tables

    if _is_local(path) and not pathlib.Path(path.removeprefix("file://")).exists():
        raise UsageError(f"{path}: no such file or directory")
    if path.rstrip("/").lower().endswith(tables.PARQUET_SUFFIXES) or \
            (_is_local(path) and pathlib.Path(path.removeprefix("file://")).is_dir()):
        df = spark.read.parquet(path)
        # Spark packs a directory's files into partitions largest first: the rows are put back in the order one
        # process reads them (files by name, rows in each file's order), so the outputs agree row by row (one
        # file's splits keep their order; a column of the user's named _metadata hides Spark's: left as read)
        if not path.rstrip("/").lower().endswith(tables.PARQUET_SUFFIXES) and "_metadata" not in df.columns:
            df = df.orderBy(df["_metadata.file_path"], df["_metadata.row_index"])
        # pandas' unnamed row index is no column of the table, as in one process
        return df.drop(*[name for name in df.columns if tables.PANDAS_INDEX.fullmatch(name)]), {}
    # as one process: a doubled quote inside a quoted field is one quote (RFC 4180; Spark's default escape is "\\")
    df = spark.read.csv(path, header=True, inferSchema=True, sep=sep, mode="FAILFAST", escape='"')
    text = set(text_columns) & set(df.columns)
    if not text:
        return df, {}
    from pyspark.sql import types as T

    numbers = {f.name: f.dataType for f in df.schema.fields if f.name in text and isinstance(f.dataType, T.NumericType)}
    schema = T.StructType([T.StructField(f.name, T.StringType(), True) if f.name in text else f
                           for f in df.schema.fields])
    return spark.read.csv(path, header=True, schema=schema, sep=sep, mode="FAILFAST", escape='"'), numbers
