"""`keras-ae-fraud score --engine spark` fails as one process does: exit code 2, one line `error: <message>` on
stderr, no traceback, no output and no temporary directory left. What can be checked without a JVM (the model,
the input, its columns and rows, --master, the output) is, before one starts; a bad cell found on an executor
is one line naming the input, the column and the log that holds Spark's own account of it."""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pyspark")
if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
    pytest.skip("Spark needs Java", allow_module_level=True)

from keras_ae.cli.fraud import cli  # noqa: E402
from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import spark, synthetic_transactions  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
# A JVM that only starts, reads 200 rows and fails starts faster without the optimising compiler; what it says
# about these options ("Picked up JAVA_TOOL_OPTIONS") must reach the log, not the terminal, like the rest.
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
       "JAVA_TOOL_OPTIONS": f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}


@pytest.fixture(scope="module")
def model(spark_model):
    """The session's Spark model (fitted with an id column to ignore) and 200 new rows with ids."""
    return spark_model, synthetic_transactions(200, fraud_rate=0.02, seed=1).reset_index(names="id")


@pytest.fixture
def no_jvm(monkeypatch):
    def refuse(*args, **kwargs):
        pytest.fail("a Spark session (a JVM) was started for an input refused beforehand")

    monkeypatch.setattr(spark, "session", refuse)


def listing(*dirs: pathlib.Path) -> set[str]:
    return {str(p) for d in dirs for p in d.rglob("*")}


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0].removeprefix("error: ")


def header_only(path, rows):
    rows.head(0).to_csv(path, index=False)


def header_and_blank_lines(path, rows):
    path.write_text(",".join(rows.columns) + "\n\n\n")


def empty_parquet(path, rows):
    rows.head(0).to_parquet(path, index=False)


def parts_with_a_column_more(path, rows):
    path.mkdir()
    rows.head(100).to_parquet(path / "part-0.parquet", index=False)
    rows.iloc[100:].assign(foo=1.0).to_parquet(path / "part-1.parquet", index=False)  # Spark would drop foo


def partitioned(path, rows):
    for day, part in ((1, rows.head(100)), (2, rows.iloc[100:])):
        (path / f"day={day}").mkdir(parents=True)
        part.to_parquet(path / f"day={day}" / "part-0.parquet", index=False)


# (input name, how to write it or None for no file, extra options, what the message must say)
REFUSED = {
    "missing input": ("nope.csv", None, [], r"nope\.csv: no such file or directory$"),
    "missing model": ("rows.csv", "rows", ["--model", "{tmp}/no-model"], r"no-model"),
    "input missing a model column": ("rows.csv", "no V7", [], r"rows\.csv, column 'V7': missing"),
    "header-only CSV": ("rows.csv", header_only, [], r"rows\.csv: no data rows \(the table holds only a header\)$"),
    "header and blank lines": ("rows.csv", header_and_blank_lines, [], r"rows\.csv: no data rows"),
    "Parquet without rows": ("rows.parquet", empty_parquet, [], r"rows\.parquet: no data rows"),
    "Parquet parts of other columns": ("parts", parts_with_a_column_more, [],
                                       r"part-1\.parquet: the columns changed \(columns foo new\)"),
    "partitioned Parquet": ("lake", partitioned, [], r"lake: .*day=1 is a partition folder"),
    "bad --master": ("rows.csv", "rows", ["--master", "bogus://x"],
                     r"^--master 'bogus://x': not a Spark master URL \(local\[\*\], spark://host:7077, yarn, "
                     r"k8s://\.\.\.\)$"),
    "existing output": ("rows.csv", "rows", ["--out", "{tmp}/out/taken"], r"--out '.*taken' exists"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_before_a_jvm_starts(case, model, tmp_path, capsys, no_jvm):
    model_dir, rows = model
    name, write, extra, expected = REFUSED[case]
    src, out = tmp_path / "in" / name, tmp_path / "out" / "scored"
    src.parent.mkdir()
    out.parent.mkdir()
    if case == "existing output":
        (out.parent / "taken").mkdir()
    if write == "rows":
        rows.to_csv(src, index=False)
    elif write == "no V7":
        rows.drop(columns=["V7"]).to_csv(src, index=False)
    elif write is not None:
        write(src, rows)
    before = listing(tmp_path)
    argv = ["score", "--engine", "spark", "--master", "local[2]", "--model", str(model_dir), "--input", str(src),
            "--out", str(out)] + [a.format(tmp=tmp_path) for a in extra]
    code = cli(argv)
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "", captured
    assert re.search(expected, one_error_line(captured.err)), captured.err
    assert listing(tmp_path) == before and not out.exists()


def test_a_bad_master_in_a_real_process_is_one_line_and_quick(model, tmp_path):
    model_dir, rows = model
    rows.to_csv(tmp_path / "rows.csv", index=False)
    before = listing(tmp_path)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "scripts/fraud.py", "score", "--engine", "spark", "--master", "bogus://x",
                             "--model", str(model_dir), "--input", str(tmp_path / "rows.csv"),
                             "--out", str(tmp_path / "scored")], cwd=ROOT, capture_output=True, text=True,
                            env=ENV, timeout=120)
    seconds = time.perf_counter() - start
    assert result.returncode == 2 and result.stdout == "", result
    assert one_error_line(result.stderr).startswith("--master 'bogus://x': not a Spark master URL")
    assert seconds < 15, f"{seconds:.1f} s: did a JVM start?"
    assert listing(tmp_path) == before


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "local[4,3]", "local[*,2]", "yarn",
                                    "spark://host:7077", "spark://a:7077,b:7077", "k8s://https://10.0.0.1:6443",
                                    "local-cluster[2,1,1024]", None])
def test_spark_master_urls_pass(master):
    spark.check_master(master)


@pytest.mark.parametrize("master", ["bogus://x", "", "local[0]", "local[x]", "local[2", "spark://host",
                                    "spark://host:port", "Yarn", "local[*] ", "k8s://"])
def test_other_masters_are_refused(master):
    with pytest.raises(UsageError, match=r"not a Spark master URL"):
        spark.check_master(master)


def _bad_cells(rows: pd.DataFrame, directory: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    """CSV files, each with one bad cell, and a pattern of the one line each must give."""
    cases = []
    text = rows.astype(object)
    text.loc[5, "V3"] = "abc"
    cases.append(("abc.csv", text, r"column 'V3': non-numeric value 'abc'"))
    empty = rows.copy()
    empty.loc[7, "V5"] = np.nan
    cases.append(("empty.csv", empty, r"column 'V5': empty or NaN value"))
    latin = rows.astype(object)
    latin.loc[3, "V2"] = "LATIN1"  # becomes the byte 0xe9 (é in latin-1, not UTF-8): Spark reads U+FFFD
    cases.append(("latin1.csv", latin, r"column 'V2': non-numeric value '\ufffd'"))
    files = []
    for name, frame, expected in cases:
        path = directory / name
        data = frame.to_csv(index=False).encode()
        path.write_bytes(data.replace(b"LATIN1", b"\xe9"))
        files.append((path, expected))
    return files


def test_bad_cells_found_by_spark_are_one_line_naming_the_input_and_the_log(model, tmp_path):
    """One real command (a JVM each) per bad cell: non-numeric, empty, a latin-1 byte. (A value beyond float32,
    also found on an executor, is in test_spark.py, in-process.)"""
    model_dir, rows = model
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    out = outputs / "scored"
    for src, expected in _bad_cells(rows, inputs):
        before = listing(tmp_path)
        result = subprocess.run(
            [sys.executable, "scripts/fraud.py", "score", "--engine", "spark", "--master", "local[2]",
             "--model", str(model_dir), "--input", str(src), "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, encoding="utf-8", errors="replace",
            env=ENV, timeout=300)
        # what it scores with, then the error, as in one process
        assert result.returncode == 2 and result.stdout.startswith("model: "), (src.name, result)
        assert result.stdout.count("\n") == 1, (src.name, result)
        message = one_error_line(result.stderr)
        assert message.startswith(f"{src}, ") and re.search(expected, message), (src.name, message)
        log = pathlib.Path(re.search(r" \(Spark; details in (.+)\)$", message).group(1))
        assert log.parent == outputs and re.fullmatch(r"\.scored\.\w+\.spark\.log", log.name), message
        assert not out.exists()
        assert listing(tmp_path) == before | {str(log)}, src.name  # the log named, nothing else
        details = log.read_text(errors="replace")
        assert "keras_ae.errors.UsageError" in details and "Traceback" in details, src.name
        assert "Picked up JAVA_TOOL_OPTIONS" in details  # the JVM's own output went there
        log.unlink()


def test_a_malformed_csv_record_is_named_from_spark_s_log(tmp_path):
    """Spark's driver names only the file it failed to read; the record is in its log (checked by hand on a real
    run: a row with a field too many). The line shows the record's start."""
    from keras_ae.fraud.spark_job import _malformed_record

    log = tmp_path / ".out.spark.log"
    record = "3646," + ",".join(["1.23124311598211"] * 30) + ",0,9"
    log.write_text("Caused by: org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] Encountered error\n"
                   f"Caused by: org.apache.spark.SparkRuntimeException: [MALFORMED_CSV_RECORD] Malformed CSV record: "
                   f"{record} SQLSTATE: KD000\n\tat org.apache.spark.sql.catalyst.csv.UnivocityParser.parse\n")
    shown = _malformed_record(log)
    assert shown == repr(record[:60] + "...")
    log.write_text("Caused by: java.io.IOException: No space left on device\n")
    assert _malformed_record(log) is None
    assert _malformed_record(tmp_path / "missing.log") is None
