"""keras_ae.fraud.scoring: chunked CSV scoring equals in-memory scoring."""

import csv
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from keras_ae.fraud import FraudDetector  # noqa: E402
from keras_ae.fraud.scoring import count_rows, score_table  # noqa: E402


# ------------------------------------------------------------------------------------ chunked scoring
def test_score_table_in_chunks_matches_in_memory_scores(detector, data, tmp_path):
    _, test = data
    src, out = tmp_path / "new.csv", tmp_path / "scored.csv"
    test.to_csv(src, index=False)
    assert count_rows(src) == len(test)
    summary = score_table(detector, src, out, chunksize=400, progress=False)
    scored = pd.read_csv(out)
    assert summary["rows"] == len(scored) == len(test)
    assert list(scored.columns) == [*test.columns, "score", "reconstruction_error", "flag", "top_features",
                                    "p_value"]
    np.testing.assert_allclose(scored["score"], detector.score_samples(test), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scored["reconstruction_error"], detector.reconstruction_errors(test), rtol=1e-5)
    np.testing.assert_array_equal(scored["flag"], detector.predict(test))
    first = [name for name, _ in detector.explain(test.head(5))[0]]
    assert scored["top_features"][0].split()[0].split(":")[0] == first[0]
    assert summary["flagged"] == int(scored["flag"].sum())
    src_lines, out_lines = src.read_text().splitlines(), out.read_text().splitlines()
    assert all(o.startswith(s + ",") for s, o in zip(src_lines[:50], out_lines[:50], strict=True))  # verbatim


def test_progress_into_a_file_is_plain_lines_at_a_modest_rate():
    import io

    from keras_ae.progress import Progress

    log = io.StringIO()
    bar = Progress(10_000, stream=log, every=3600)
    for _ in range(100):
        bar.update(100)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert lines[0].startswith("100/10,000 rows") and lines[-1].startswith("10,000/10,000 rows (100%)")


def test_a_quoted_field_with_a_line_break_keeps_every_row_aligned(detector, data, tmp_path):
    """A CSV record is not a line when a quoted field holds a line break: such files go through pandas."""
    _, test = data
    rows = test.head(50).copy()
    rows.insert(0, "note", ["line one\nline two" if i % 7 == 0 else "plain" for i in range(len(rows))])
    src, out = tmp_path / "quoted.csv", tmp_path / "scored.csv"
    rows.to_csv(src, index=False)
    score_table(_with_drop(detector, ["note"]), src, out, chunksize=7, progress=False)
    scored = pd.read_csv(out)
    assert list(scored["note"]) == list(rows["note"])
    np.testing.assert_allclose(scored["score"], detector.score_samples(test.head(50)), rtol=1e-5, atol=1e-6)


def _with_drop(detector, drop, **params):
    """The fitted session detector, told to ignore the columns `drop` (as a model fitted with them would), with
    other scoring `params`."""
    det = FraudDetector(**{**detector.get_params(), "drop": tuple(drop), **params})
    det.__dict__.update({k: v for k, v in detector.__dict__.items() if k.endswith("_")})
    return det


def test_a_lone_carriage_return_in_a_quoted_field_stays_inside_its_field(detector, data, tmp_path):
    """Python's CSV writer leaves a field with a bare \\r unquoted; readers then split the row in two."""
    _, test = data
    rows = test.head(30).copy()
    rows.insert(0, "note", ["a\rb" if i == 3 else "plain" for i in range(len(rows))])
    src, out = tmp_path / "cr.csv", tmp_path / "scored.csv"
    rows.to_csv(src, index=False, quoting=csv.QUOTE_NONNUMERIC)  # the writer's own rule would leave "a\rb" bare
    assert pd.read_csv(src)["note"].iloc[3] == "a\rb"
    score_table(_with_drop(detector, ["note"]), src, out, chunksize=10, progress=False)
    scored = pd.read_csv(out)
    assert len(scored) == len(rows) and list(scored["note"]) == list(rows["note"])
    assert scored["flag"].notna().all()


def test_passed_through_columns_keep_their_text_and_exact_integers(detector, data, tmp_path):
    """Through pandas (a dropped column, a quote in the file), an 18-digit identifier beside a blank cell is
    neither rounded (float64 holds integers exactly only to 2**53) nor written as 1.0 in a CSV."""
    _, test = data
    rows = test.head(20).copy()
    ids = [str(9007199254740993 + 2 * i) if i != 4 else "" for i in range(len(rows))]
    rows.insert(0, "id", ids)
    rows.insert(1, "note", ['say "hi"'] * len(rows))
    src = tmp_path / "ids.csv"
    rows.to_csv(src, index=False)
    det = _with_drop(detector, ["id", "note"])
    score_table(det, src, tmp_path / "scored.csv", chunksize=7, progress=False)
    text = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)
    assert list(text["id"]) == ids
    original = pd.read_csv(src, dtype=str, keep_default_na=False)
    assert (text[original.columns].to_numpy() == original.to_numpy()).all()  # every input cell, the same text
    score_table(det, src, tmp_path / "scored.parquet", chunksize=7, progress=False)
    table = pd.read_parquet(tmp_path / "scored.parquet")
    assert [None if pd.isna(v) else str(v) for v in table["id"]] == [i or None for i in ids]
    assert table["V1"].dtype == np.float64  # columns without a blank integer keep the usual NumPy types


def test_a_parquet_output_keeps_the_words_of_a_text_column(detector, data, tmp_path):
    """In a passed-through column of text only a blank cell becomes missing: the words NA, nan, null stay text (a
    chunk holding nothing but blanks and such words too, after a chunk of other text)."""
    _, test = data
    rows = test.head(12).copy()
    words = ["Shop", "NA", "nan", "", "null", "N/A", "NA", "", "nan", "NULL", "", "None"]
    rows.insert(0, "merchant", words)
    src = tmp_path / "words.csv"
    rows.to_csv(src, index=False)
    score_table(_with_drop(detector, ["merchant"]), src, tmp_path / "scored.parquet", chunksize=6, progress=False)
    table = pd.read_parquet(tmp_path / "scored.parquet")
    assert [None if pd.isna(v) else v for v in table["merchant"]] == [w or None for w in words]
    assert table["V1"].dtype == np.float64 and len(table) == len(words)


def test_a_time_without_an_hour_of_day_is_never_scored_as_normal(detector, data, tmp_path):
    """Beyond 2**53 seconds float64 cannot hold the second of the day: time mode hour refuses or flags it."""
    import pytest

    from keras_ae.errors import UsageError

    _, test = data
    rows = test.head(10).copy()
    rows["Time"] = rows["Time"].astype(float)
    rows.loc[rows.index[3], "Time"] = 1e20
    src = tmp_path / "late.csv"
    rows.to_csv(src, index=False)
    with pytest.raises(UsageError, match=r"row 4 \(line 5\), column 'Time': value 1e\+20 is beyond 2\*\*53"):
        score_table(detector, src, tmp_path / "scored.csv", progress=False)
    flagging = _with_drop(detector, [], unscorable="flag")
    score_table(flagging, src, tmp_path / "flagged.csv", progress=False)
    scored = pd.read_csv(tmp_path / "flagged.csv")
    assert scored["flag"].iloc[3] == 1 and "2**53" in scored["unscorable_reason"].iloc[3]
    assert scored["flag"].drop(index=3).sum() == detector.predict(rows.drop(index=rows.index[3])).sum()
    train, _ = data
    bad = train.head(300).copy()
    bad["Time"] = bad["Time"].astype(float)
    bad.loc[bad.index[7], "Time"] = -3e30
    with pytest.raises(UsageError, match=r"column 'Time': value -3e\+30 is beyond 2\*\*53"):
        FraudDetector(**detector.get_params()).fit(bad)
    bad = train.copy()  # a fraud is scored too (validation): refused before anything is trained
    bad["Time"] = bad["Time"].astype(float)
    fraud = int(np.flatnonzero(bad["Class"] == 1)[0])
    bad.loc[bad.index[fraud], "Time"] = 2.0**60
    with pytest.raises(UsageError, match=rf"X, row {fraud + 1} .*column 'Time'.*2\*\*53"):
        FraudDetector(**{**detector.get_params(), "epochs": 10**6}).fit(bad)


def test_written_back_the_words_true_and_false_stay_text_and_a_lone_cr_in_a_category_is_quoted(detector, data,
                                                                                                 tmp_path):
    """A column of True/False in one chunk and other text in the next is text throughout (as scoring reads it);
    a categorical Parquet column holding a lone carriage return comes back in its own field of a CSV."""
    _, test = data
    rows = test.head(6).copy()
    rows.insert(0, "note", ["True", "False", "True", "False", "x", "True"])
    src = tmp_path / "words.csv"
    rows.to_csv(src, index=False)
    det = _with_drop(detector, ["note"])
    score_table(det, src, tmp_path / "words.parquet", chunksize=2, progress=False)
    assert list(pd.read_parquet(tmp_path / "words.parquet")["note"]) == list(rows["note"])
    rows["note"] = pd.Categorical(["a\rb", "c", "c", "c", "c", "c"])
    rows.to_parquet(tmp_path / "cat.parquet", index=False)
    score_table(det, tmp_path / "cat.parquet", tmp_path / "cat.csv", progress=False)
    assert list(pd.read_csv(tmp_path / "cat.csv")["note"]) == list(rows["note"])


def test_the_csv_format_module_imports_on_its_own():
    import subprocess
    import sys

    for module in ("keras_ae.fraud.csv_format", "keras_ae.fraud.formats", "keras_ae.fraud.tables"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_parquet_whole_numbers_with_a_missing_value_stay_exact(detector, data, tmp_path):
    """A Parquet integer column with a null (written without pandas' metadata, as Spark writes it) is passed through
    as whole numbers: as float64 an 18-digit id loses its last digits, and a later chunk's Parquet output failed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, test = data
    rows = test.head(20).drop(columns=["Class"]).reset_index(drop=True)
    ids = [None if i == 15 else 123456789012345678 + i for i in range(len(rows))]
    table = pa.Table.from_pandas(rows, preserve_index=False).append_column("id", pa.array(ids, type=pa.int64()))
    pq.write_table(table.replace_schema_metadata(None), tmp_path / "ids.parquet")
    det = _with_drop(detector, ["id"])
    score_table(det, tmp_path / "ids.parquet", tmp_path / "scored.csv", chunksize=10, progress=False)
    text = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)
    assert list(text["id"]) == ["" if i is None else str(i) for i in ids]
    score_table(det, tmp_path / "ids.parquet", tmp_path / "scored.parquet", chunksize=10, progress=False)
    assert pq.read_table(tmp_path / "scored.parquet").column("id").to_pylist() == ids


def test_a_column_of_large_whole_numbers_then_decimals_becomes_text_in_parquet(detector, data, tmp_path):
    """A CSV chunk of 18-digit ids, then one with a decimal: float64 cannot hold the ids written so far, so the
    column is written as text (it stopped with a traceback)."""
    import pyarrow.parquet as pq

    _, test = data
    rows = test.head(20).drop(columns=["Class"]).reset_index(drop=True)
    ids = [str(123456789012345678 + i) if i != 15 else "1.5" for i in range(len(rows))]
    rows.insert(0, "id", ids)
    rows.to_csv(tmp_path / "ids.csv", index=False)
    score_table(_with_drop(detector, ["id"]), tmp_path / "ids.csv", tmp_path / "scored.parquet", chunksize=10,
                progress=False)
    column = pq.read_table(tmp_path / "scored.parquet").column("id")
    assert str(column.type) == "large_string" and column.to_pylist()[:10] == ids[:10]  # the first chunk, exact


def test_bytes_that_are_not_utf8_are_written_to_a_csv(detector, data, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, test = data
    rows = test.head(5).drop(columns=["Class"])
    table = pa.Table.from_pandas(rows, preserve_index=False).append_column(
        "blob", pa.array([b"\x00\xff", b"ok", b"\r", None, b"\xfe"], type=pa.binary()))
    pq.write_table(table, tmp_path / "blobs.parquet")
    score_table(_with_drop(detector, ["blob"]), tmp_path / "blobs.parquet", tmp_path / "scored.csv", progress=False)
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 5
