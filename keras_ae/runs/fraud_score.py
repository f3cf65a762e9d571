"""Scoring and evaluating with a saved fraud model: `score_fraud(FraudScoreConfig)` and
`evaluate_fraud(FraudEvaluateConfig)`, config in, result out (the commands only parse and print).

Both load the model checked against the table's header, apply the threshold rule and the handling of unscorable
rows asked for, and claim their output before any work (`keras_ae.outputs`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from keras_ae import options
from keras_ae.errors import UsageError
from keras_ae.fraud.params import DEFAULT_CHUNKSIZE, UNSCORABLE
from keras_ae.runs.common import require_paths


@dataclasses.dataclass
class FraudScoreConfig:
    model: str
    input: str
    out: str
    engine: str = "local"  # "local" (this process, in chunks) or "spark"
    master: str | None = None  # Spark master URL (engine "spark")
    chunksize: int | None = None  # rows read at a time by engine "local" (None: DEFAULT_CHUNKSIZE)
    top: int = 3
    sep: str = ","
    progress: bool = True
    unscorable: str = "refuse"
    threshold_rule: str | None = None  # None: the rule stored with the model
    threshold_value: float | None = None

    ENGINES = ("local", "spark")

    def check(self) -> None:
        """UsageError naming the first option out of range, before any file is read."""
        require_paths(self, "model", "input", "out")
        self.top = options.POSITIVE_INT.check("top", self.top)
        if self.chunksize is not None:
            self.chunksize = options.POSITIVE_INT.check("chunksize", self.chunksize)
        if self.engine not in self.ENGINES:
            raise UsageError(f"engine must be one of {', '.join(self.ENGINES)}, received {self.engine!r}")
        if self.master is not None and self.engine != "spark":  # it would be ignored: say so instead
            raise UsageError(f"master={self.master!r} is an option of engine='spark' (this run: engine="
                             f"{self.engine!r})")
        if self.chunksize is not None and self.engine == "spark":  # Spark makes its own partitions
            raise UsageError(f"chunksize={self.chunksize} is an option of engine='local' (Spark splits the table "
                             "into partitions of its own)")
        if self.chunksize is None:
            self.chunksize = DEFAULT_CHUNKSIZE if self.engine == "local" else None
        check_threshold(self.threshold_rule, self.threshold_value)
        if self.unscorable not in UNSCORABLE:
            raise UsageError(f"unscorable must be one of {', '.join(UNSCORABLE)}, received {self.unscorable!r}")
        self._check_out_name()

    def _check_out_name(self) -> None:
        """The output's name must ask for what this engine writes: Spark writes a directory of Parquet files (not
        a .csv name); a CSV is written with the input's separator (a .tsv name asks for tabs)."""
        import pathlib

        from keras_ae.fraud import schema, tables
        from keras_ae.outputs import OTHER_FORMATS

        out = pathlib.PurePath(str(self.out))
        files = {".csv", ".tsv", ".txt", *tables.COMPRESSED_SUFFIXES, *OTHER_FORMATS}
        if self.engine == "spark" and files & {s.lower() for s in out.suffixes}:
            raise UsageError(f"out={self.out!r}: engine='spark' writes a directory of Parquet files; name it without "
                             "an extension or with .parquet")
        try:
            tab = schema.csv_separator(self.sep) == "\t"
        except ValueError:
            return  # said where the separator is read, naming the option
        if ".tsv" in [s.lower() for s in out.suffixes] and not tab:
            raise UsageError(f"out={self.out!r}: a scored CSV is written with the input's separator "
                             f"({self.sep!r}), not the tabs a .tsv name asks for; name a .csv file")


@dataclasses.dataclass
class FraudEvaluateConfig:
    model: str
    input: str
    out: str | None = None  # also write the metrics as JSON
    chunksize: int = DEFAULT_CHUNKSIZE
    sep: str = ","
    progress: bool = True
    unscorable: str = "refuse"
    threshold_rule: str | None = None
    threshold_value: float | None = None

    def check(self) -> None:
        require_paths(self, "model", "input", *(["out"] if self.out is not None else []))
        self.chunksize = options.POSITIVE_INT.check("chunksize", self.chunksize)
        check_threshold(self.threshold_rule, self.threshold_value)
        if self.unscorable not in UNSCORABLE:
            raise UsageError(f"unscorable must be one of {', '.join(UNSCORABLE)}, received {self.unscorable!r}")


@dataclasses.dataclass
class FraudScoreResult:
    detector: Any  # None on Spark (the executors load the model)
    summary: dict  # rows, flagged, unscorable, rows_per_second (and master on Spark)
    warning: str | None  # the "alpha" threshold's level warning, when there is one


@dataclasses.dataclass
class FraudEvaluateResult:
    detector: Any
    metrics: dict
    warning: str | None


def check_threshold(rule: str | None, value: float | None) -> None:
    from keras_ae.anomaly.thresholds import check_rule

    if rule is not None:
        try:
            check_rule(rule, value)
        except UsageError:
            raise
        except ValueError as err:
            raise UsageError(str(err)) from None
    elif value is not None:
        raise UsageError("threshold_value needs threshold_rule")


def load_detector(model, input, sep: str = ",", threshold_rule: str | None = None,
                  threshold_value: float | None = None, unscorable: str = "refuse"):
    """The saved model, checked against the header of the table `input` (a path or a `tables.Table`), with the
    threshold rule and the handling of unscorable rows asked for; and the level warning of a threshold rule asked
    for here (None when it keeps its promise, or when the model's own rule is kept: fit said so already, and the
    model records it)."""
    from keras_ae.fraud import FraudDetector, tables

    table = tables.open_table(input, sep)
    detector = FraudDetector.load(model, columns=table.header, source=str(table.path))
    if threshold_rule is not None:
        detector.set_threshold(threshold_rule, threshold_value)
    detector.unscorable = unscorable
    return detector, detector.threshold_info().get("warning") if threshold_rule is not None else None


def score_fraud(config: FraudScoreConfig, on_model=None) -> FraudScoreResult:
    """Score every row of `config.input` into `config.out` (written only when complete). `on_model(detector)` is
    called once the model is loaded, before the rows are read (the command prints what it scores with)."""
    from keras_ae import outputs

    config.check()
    if config.engine == "spark":
        return _score_spark(config, on_model)
    from keras_ae.fraud import tables
    from keras_ae.fraud.scoring import score_table

    outputs.check_output(config.out, "table", [config.input, config.model])
    table = tables.open_table(config.input, config.sep)  # the header is read once and passed along
    detector, warning = load_detector(config.model, table, threshold_rule=config.threshold_rule,
                                      threshold_value=config.threshold_value, unscorable=config.unscorable)
    if on_model is not None:
        on_model(detector, warning)
    summary = score_table(detector, table, config.out, chunksize=config.chunksize, top=config.top,
                          progress=config.progress)
    return FraudScoreResult(detector, summary, warning)


def _score_spark(config: FraudScoreConfig, on_model=None) -> FraudScoreResult:
    """Apache Spark: the input as Spark reads it, a Parquet directory out (`keras_ae.fraud.spark_job`)."""
    from keras_ae.fraud import spark_job

    warning = None
    if config.threshold_rule == "alpha":  # the level warning, as one process says it
        from keras_ae.fraud import FraudDetector

        warning = FraudDetector.load(config.model).set_threshold("alpha", config.threshold_value) \
            .threshold_info().get("warning")
    summary = spark_job.score_path(config.model, config.input, config.out, master=config.master, sep=config.sep,
                                   top=config.top, threshold_rule=config.threshold_rule,
                                   threshold_value=config.threshold_value, unscorable=config.unscorable,
                                   on_model=None if on_model is None else lambda detector: on_model(detector, warning))
    return FraudScoreResult(None, summary, warning)


def evaluate_fraud(config: FraudEvaluateConfig, on_model=None) -> FraudEvaluateResult:
    """Metrics of the model on a labelled table (ROC-AUC, average precision, the confusion matrix at its
    threshold), also written to `config.out` as JSON when given."""
    import numpy as np

    from keras_ae import anomaly, outputs
    from keras_ae.fraud import schema
    from keras_ae.fraud.rows import FAR_SCORE
    from keras_ae.fraud.scoring import score_labelled
    from keras_ae.io import write_json

    config.check()
    inputs = [config.input, config.model]
    if config.out:
        outputs.check_output(config.out, "metrics", inputs)
    from keras_ae.fraud import tables

    table = tables.open_table(config.input, config.sep)
    detector, warning = load_detector(config.model, table, threshold_rule=config.threshold_rule,
                                      threshold_value=config.threshold_value, unscorable=config.unscorable)
    if on_model is not None:
        on_model(detector, warning)
    claim = outputs.claimed(config.out, "metrics", inputs) if config.out else contextlib.nullcontext()
    with claim as target:
        scores, labels = score_labelled(detector, table, chunksize=config.chunksize, progress=config.progress)
        schema.require_both_classes(labels, detector.label_column, config.input, "evaluate (ROC-AUC, precision)")
        metrics = {"kind": outputs.METRICS_KIND, **anomaly.detection_metrics(scores, labels, detector.threshold_)}
        metrics["threshold_rule"] = detector.threshold_info()
        metrics["rows"] = int(len(labels))
        metrics["unscorable_rows_flagged"] = int(np.isposinf(scores).sum())  # --unscorable flag: scored +inf
        metrics["far_outside_rows_flagged"] = int((scores == FAR_SCORE).sum())  # an amount far out (`rows`)
        if target is not None:
            write_json(target, metrics)
    return FraudEvaluateResult(detector, metrics, warning)
