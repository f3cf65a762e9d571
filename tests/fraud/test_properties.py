"""Property-based tests (hypothesis) of the table readers and the scoring path.

Random valid tables score the same in chunks as in memory and their input lines are copied through verbatim;
random corruptions (a cell, a delimiter, an encoding, a truncation) end with exit code 2 and no output. The
number of examples is fixed (and derandomised), so the CI time is bounded and the run repeatable.
"""

import os
import pathlib
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from keras_ae.cli.fraud import cli as fraud  # noqa: E402
from keras_ae.fraud import scoring, tables  # noqa: E402

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
COLUMNS = ["Time", *[f"V{i}" for i in range(1, 29)], "Amount", "Class"]

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def transactions(draw, max_rows=60):
    n = draw(st.integers(min_value=1, max_value=max_rows))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 28)) * draw(st.sampled_from([0.1, 1.0, 30.0])),
                         columns=COLUMNS[1:29])
    frame.insert(0, "Time", rng.integers(0, 172_800, n).astype(float))
    frame["Amount"] = np.round(rng.exponential(80.0, n), 2)
    frame["Class"] = rng.integers(0, 2, n)
    special = draw(st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(COLUMNS[1:30]), finite), max_size=4))
    for row, column, value in special:  # extreme but valid cells
        frame.loc[row, column] = value
    return frame


def write_csv(frame, path: pathlib.Path, float_format):
    frame.to_csv(path, index=False, float_format=float_format)
    return path


@PROPERTY
@given(frame=transactions(), chunksize=st.integers(1, 70), float_format=st.sampled_from([None, "%.6g", "%.17g"]))
def test_chunked_scores_equal_in_memory_and_lines_pass_verbatim(detector, frame, chunksize, float_format):
    with tempfile.TemporaryDirectory() as tmp:
        src = write_csv(frame, pathlib.Path(tmp) / "in.csv", float_format)
        out = pathlib.Path(tmp) / "out.csv"
        scoring.score_table(detector, src, out, chunksize=chunksize, progress=False)
        result = pd.read_csv(out)
        expected = detector.score_samples(pd.read_csv(src))
        np.testing.assert_allclose(result["score"].to_numpy(), expected, rtol=1e-6, atol=1e-9)
        assert (result["flag"].to_numpy() == (expected > detector.threshold_)).all()
        in_lines = src.read_text().splitlines()
        out_lines = out.read_text().splitlines()
        assert len(out_lines) == len(in_lines)
        for before, after in zip(in_lines, out_lines, strict=True):
            assert after.startswith(before + ",")  # the input line, unchanged, then the three results


@PROPERTY
@given(frame=transactions(), chunksize=st.integers(1, 70), group=st.integers(1, 40))
def test_parquet_reads_back_the_table_in_any_chunking(frame, chunksize, group):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "t.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=group)
        frames = list(tables.iter_frames(path, chunksize=chunksize))
        assert all(len(f) <= chunksize for f in frames)
        pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), frame)
        assert tables.count_rows(path) == len(frame)


@PROPERTY
@given(frame=transactions(), chunksize=st.integers(1, 70))
def test_csv_chunks_read_back_the_table(frame, chunksize):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(frame, pathlib.Path(tmp) / "t.csv", None)
        frames = list(tables.iter_frames(path, chunksize=chunksize))
        pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), frame, check_exact=True)
        assert tables.count_rows(path) == len(frame)


def corrupt(text: str, kind: str, row: int, column: int) -> bytes:
    """`text` (a CSV) with one corruption in data row `row` (0-based), field `column`."""
    lines = text.split("\n")
    line = 1 + row
    fields = lines[line].split(",")
    if kind == "cell":
        fields[column] = "n/a?"
    elif kind == "delimiter":  # one field separator of the row becomes another character
        fields[column:column + 2] = [fields[column] + ";" + fields[column + 1]] if column + 1 < len(fields) \
            else [fields[column - 1] + ";" + fields[column]]
    elif kind == "extra field":
        fields.insert(column, "1.0")
    if kind in ("cell", "delimiter", "extra field"):
        lines[line] = ",".join(fields)
        return "\n".join(lines).encode()
    if kind == "encoding":
        data = "\n".join(lines).encode()
        start = len("\n".join(lines[:line])) + 1
        return data[:start + 1] + b"\xff\xfe" + data[start + 1:]
    if kind == "truncation":  # the file ends inside row `row`, before its last field
        keep = "\n".join(lines[:line]) + "\n" + ",".join(fields[: max(1, column)])
        return keep.encode()
    raise AssertionError(kind)


@PROPERTY
@given(frame=transactions(max_rows=40), kind=st.sampled_from(["cell", "delimiter", "extra field", "encoding",
                                                              "truncation"]),
       where=st.tuples(st.floats(0, 0.999), st.integers(0, 29)), chunksize=st.integers(1, 50))
def test_a_corrupted_table_ends_with_exit_code_2_and_no_output(bundle, frame, kind, where, chunksize, capsys):
    row = int(where[0] * len(frame))
    text = frame.to_csv(index=False)
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "in.csv"
        src.write_bytes(corrupt(text, kind, row, where[1]))
        out = pathlib.Path(tmp) / "out.csv"
        code = fraud(["score", "--model", str(bundle), "--input", str(src), "--out", str(out), "--chunksize",
                      str(chunksize), "--quiet"])
        err = capsys.readouterr().err.strip()
        assert code == 2, (kind, row, err)
        assert len(err.splitlines()) == 1 and err.startswith("error: ") and "in.csv" in err, err
        assert sorted(p.name for p in pathlib.Path(tmp).iterdir()) == ["in.csv"]


@PROPERTY
@given(frame=transactions(max_rows=40), cut=st.floats(0.0, 0.98))
def test_a_truncated_parquet_file_ends_with_exit_code_2_and_no_output(bundle, frame, cut, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "in.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), src)
        data = src.read_bytes()
        src.write_bytes(data[: int(cut * len(data))])
        code = fraud(["score", "--model", str(bundle), "--input", str(src), "--out", str(pathlib.Path(tmp) / "o.csv"),
                      "--quiet"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and "in.parquet" in err, err
        assert sorted(p.name for p in pathlib.Path(tmp).iterdir()) == ["in.parquet"]


@pytest.mark.parametrize("kind", ["cell", "delimiter", "extra field", "encoding", "truncation"])
def test_each_corruption_is_a_real_one(kind):
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": [4.5, 5.5, 6.5]})
    before = frame.to_csv(index=False)
    after = corrupt(before, kind, 1, 1)
    assert after != before.encode()
