"""What Spark scoring checks on the driver before a JVM starts, with the messages one process gives: pyspark and
Java present, the master URL, the output, the model and threshold, a local input's columns and rows."""

from __future__ import annotations

import os
import pathlib
import re
import shutil

import pandas as pd

from keras_ae.errors import UsageError


def require_spark() -> None:
    """pyspark importable and Java present (no JVM is started), else one line saying what to install."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError("Spark scoring needs pyspark: pip install 'keras-ae[spark]'") from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise UsageError("Spark needs Java 17: install a JDK (e.g. apt-get install openjdk-17-jre-headless) "
                         "or set JAVA_HOME")


_MASTER = re.compile(r"local(\[([1-9]\d*|\*)(,[1-9]\d*)?\])?|local-cluster\[[1-9]\d*,[1-9]\d*,[1-9]\d*\]|yarn|"
                     r"spark://[^\s,/:]+:\d+(,[^\s,/:]+:\d+)*|k8s://\S+|mesos://\S+")


def check_master(master: str | None) -> None:
    """`master` (None: spark-submit's) must look like a Spark master URL; checked without starting a JVM."""
    if master is None:
        return
    if not _MASTER.fullmatch(master):
        raise UsageError(f"master={master!r}: not a Spark master URL (local[*], spark://host:7077, yarn, k8s://...)")
    if master.startswith("mesos://") and _pyspark_major() >= 4:
        raise UsageError(f"master={master!r}: Spark 4 has no Mesos support (local[*], spark://host:7077, yarn, "
                         "k8s://...)")


def _pyspark_major() -> int:
    from importlib import metadata

    try:
        return int(metadata.version("pyspark").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return 0


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def _local(path: str | os.PathLike | None) -> pathlib.Path | None:
    """The path on this machine of a local `path` (plain or file://), None for a remote one (hdfs://, s3a://)."""
    if path is None:
        return None
    path = str(path)
    return pathlib.Path(path.removeprefix("file://")) if _is_local(path) else None


def _has_rows(path: pathlib.Path, sep: str) -> bool:
    """Whether a local table has a data row after its header, reading no more than its first rows."""
    from keras_ae.fraud import tables

    if tables.is_parquet(path):
        return tables.count_rows(path) != 0
    try:  # blank lines are no rows to Spark; a stray byte is Spark's to read (as a replacement character)
        first = pd.read_csv(path, sep=sep, nrows=1, dtype=str, skip_blank_lines=True, encoding_errors="replace")
    except Exception:  # noqa: BLE001 - whatever pandas cannot read, Spark reads its own way and says what is wrong
        return True
    return len(first) > 0


def _check_out(out: str, target: pathlib.Path) -> None:
    if target.exists() or target.is_symlink():
        raise UsageError(f"out={out!r} exists; name a new directory for the Parquet output")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"out={out!r}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"out={out!r}: cannot write in {parent}")


# compressions one process reads that Spark's CSV reader does not (it has gzip, bzip2, zstd and others)
SPARK_UNREADABLE = (".zip", ".xz")


def check_before_spark(model_dir: str | os.PathLike, inputs: str, out: str, master: str | None = None,
                       sep: str = ",", top: int = 3, threshold_rule: str | None = None,
                       threshold_value: float | None = None):
    """What `score_path` checks before a JVM starts, with the messages one process gives; returns the detector
    of `model_dir` with the threshold rule set. A local input must exist, have the model's columns and a row."""
    from keras_ae.fraud import bundle, schema, tables
    from keras_ae.fraud.detector import FraudDetector

    require_spark()
    check_master(master)
    if isinstance(top, bool) or not isinstance(top, int) or top <= 0:
        raise UsageError(f"Expected top > 0, received top={top!r}")
    target = _local(out)
    if target is not None:
        _check_out(str(out), target)
    detector = FraudDetector.load(model_dir)
    if threshold_rule is None and threshold_value is not None:
        raise UsageError("threshold_value needs threshold_rule")
    if threshold_rule is not None:
        try:
            detector.set_threshold(threshold_rule, threshold_value)
        except UsageError:
            raise
        except ValueError as err:  # an unknown rule, a value out of its range
            raise UsageError(str(err)) from None
    source = _local(inputs)
    if source is not None:
        if not (source.exists() or source.is_symlink()):
            raise UsageError(f"{inputs}: no such file or directory")
        if source.suffix.lower() in SPARK_UNREADABLE:  # Spark would read the compressed bytes as text
            raise UsageError(f"{inputs}: Spark has no codec for {source.suffix} files; compress the CSV with gzip, "
                             "bzip2 or zstd (.csv.gz, .csv.bz2, .csv.zst), or score it with --engine local")
        table = tables.open_table(source, sep)
        bundle.check_columns(detector, table.header, model_dir, str(inputs))
        if tables.is_parquet(source):
            from keras_ae.fraud.formats import same_columns

            same_columns(source)
        schema.check_result_names(table.header, str(inputs), fitting=False)
        if not _has_rows(source, table.sep):
            raise UsageError(f"{inputs}: no data rows (the table holds only a header)")
    return detector
