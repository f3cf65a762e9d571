"""Scoring a 3,000,000-row Parquet file three ways, in one run: one process (`keras-ae-fraud score`,
pyarrow record batches), and Apache Spark `mapInPandas` with `local[1]` and `local[2]`.

Each way runs in its own subprocess; its peak memory is that process's own peak (getrusage) and the peak of
the summed resident memory of it and every process it started (the JVM and Spark's Python workers), sampled.
Spark's rows/s count from a started session (JVM start-up is reported apart). The model is fitted and the
Parquet file written in subprocesses too; the big files are deleted afterwards. Run it alone on the machine.

    python benchmarks/fraud_spark.py                 # writes benchmarks/results/fraud_spark.json
    python benchmarks/fraud_spark.py --rows 300000   # a quicker run
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402


def make_parquet(path: pathlib.Path, rows: int, block: int = 100_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keras_ae.fraud import synthetic_transactions

    writer = None
    for i, start in enumerate(range(0, rows, block)):
        table = pa.Table.from_pandas(synthetic_transactions(min(block, rows - start), seed=100 + i),
                                     preserve_index=False)
        writer = writer or pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table)
    writer.close()
    print(json.dumps({"rows": rows, "mb": round(path.stat().st_size / 1e6, 1)}))


class TreeMemory:
    """Peak of the summed resident memory of this process and every process it started (sampled 5x a second; the
    JVM and Spark's Python workers are not waited for, so getrusage cannot see them)."""

    def __init__(self):
        import threading

        import psutil

        self.peak, self.me, self.stop = 0, psutil.Process(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import psutil

        while not self.stop.is_set():
            total = 0
            for proc in [self.me, *self.me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.stop.wait(0.2)

    def close(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.peak / 2**20


def worker(kind: str, model: str, data: str, out: str) -> None:
    """Score `data` one way; print a JSON line (rows, seconds, rows/s, peak memory of the process tree)."""
    memory = TreeMemory()
    with harness.Timer() as wall_timer:
        if kind == "one process":
            from keras_ae.fraud import FraudDetector
            from keras_ae.fraud.scoring import score_table

            summary = score_table(FraudDetector.load(model), data, out, progress=False)
            session_seconds = 0.0
        else:
            from keras_ae.fraud import spark, spark_job

            with harness.Timer() as session_timer:
                spark.session(kind).sparkContext  # noqa: B018  (start the JVM before the clock of the scoring)
            session_seconds = session_timer.seconds
            summary = spark_job.score_path(model, data, out, master=kind)
    wall = wall_timer.seconds
    tree = memory.close()
    own = harness.peak_rss_mb()
    print(json.dumps({"kind": kind, "rows": summary["rows"], "flagged": summary["flagged"],
                      "scoring_seconds": summary["seconds"], "rows_per_second": summary["rows_per_second"],
                      "session_start_seconds": round(session_seconds, 1), "wall_seconds": round(wall, 1),
                      "peak_rss_mb_this_process": round(own), "peak_rss_mb_process_tree": round(tree),
                      "tensorflow_imported": "tensorflow" in sys.modules}))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=3_000_000)
    p.add_argument("--workdir", default=None)
    p.add_argument("--out", default=str(harness.RESULTS / "fraud_spark.json"))
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    p.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--fit", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    if args.make:
        make_parquet(pathlib.Path(args.make[0]), int(args.make[1]))
        return 0
    if args.fit:
        from fraud_speed import fit_model  # the same model as the CSV speed benchmark

        fit_model(pathlib.Path(args.fit))
        return 0

    run = harness.Run(__file__, argv)
    work = pathlib.Path(tempfile.mkdtemp(prefix="fraud-spark-", dir=args.workdir))
    try:
        model, data = work / "model", work / "big.parquet"
        harness.run_script(__file__, "--fit", str(model))
        harness.run_script(__file__, "--make", str(data), str(args.rows))
        results = []
        for kind in ("one process", "local[1]", "local[2]"):
            out = work / ("scored.parquet" if kind == "one process" else f"scored-{kind[6]}")
            results.append(json.loads(harness.run_script(__file__, "--worker", kind, str(model), str(data),
                                                         str(out))))
            print(json.dumps(results[-1]), flush=True)
            shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink()
        by = {r["kind"]: r for r in results}
        report = {
            "rows": args.rows, "input_mb": round(data.stat().st_size / 1e6, 1), "results": results,
            "spark_scaling_local2_over_local1": round(by["local[2]"]["rows_per_second"]
                                                      / by["local[1]"]["rows_per_second"], 2),
        }
        harness.write_result(args.out, report, run.record())
        print(json.dumps({k: v for k, v in report.items() if k != "results"}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
