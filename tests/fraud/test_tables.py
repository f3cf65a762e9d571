"""keras_ae.fraud.tables: CSV (plain and compressed) and Parquet (file, directory) in and out, same scores,
every bad-input rule of the CSV path also for Parquet. (Tables that cannot be decoded, a latin-1 byte or a cut
gzip: tests/test_probe.py; outputs refused: tests/cli/test_bad_inputs.py.)"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.cli.fraud import cli  # noqa: E402
from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import tables  # noqa: E402
from keras_ae.fraud.scoring import score_table  # noqa: E402
from tests.helpers import listing, one_line_error  # noqa: E402

RESULTS = ["score", "reconstruction_error", "flag", "top_features", "p_value"]


def write(frame: pd.DataFrame, path):
    if str(path).endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False)
    elif path.suffix == "":  # a directory of Parquet files
        path.mkdir()
        half = len(frame) // 2
        frame.iloc[:half].to_parquet(path / "a.parquet", index=False)
        frame.iloc[half:].to_parquet(path / "b.parquet", index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def read(path) -> pd.DataFrame:
    if path.is_dir() or str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


@pytest.mark.parametrize("source", ["new.csv", "new.csv.gz", "new.csv.bz2", "new.csv.zst", "new.parquet", "newdir"])
@pytest.mark.parametrize("target", ["out.csv", "out.parquet", "outdir"])
def test_every_input_and_output_format_gives_the_same_scores(source, target, detector, data, tmp_path):
    if source.endswith(".zst"):
        pytest.importorskip("zstandard")
    _, test = data
    src = write(test.head(700), tmp_path / source)
    summary = score_table(detector, src, tmp_path / target, chunksize=250, progress=False)
    scored = read(tmp_path / target)
    assert summary["rows"] == len(scored) == 700
    assert list(scored.columns) == [*test.columns, *RESULTS]
    pd.testing.assert_frame_equal(scored[list(test.columns)].reset_index(drop=True),
                                  test.head(700).reset_index(drop=True), check_dtype=False)  # passed through
    np.testing.assert_allclose(scored["score"], detector.score_samples(test.head(700)), rtol=1e-6,
                               atol=1e-6)  # float32 sums: batch sizes change the last bits of near-zero scores
    np.testing.assert_allclose(scored["reconstruction_error"], detector.reconstruction_errors(test.head(700)),
                               rtol=1e-6)
    np.testing.assert_array_equal(scored["flag"], detector.predict(test.head(700)))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary output left behind"


@pytest.mark.parametrize("saved", ["filtered", "time as the index"])
def test_a_pandas_index_in_parquet_is_no_column_and_a_named_one_is_a_column(saved, detector, data, tmp_path):
    """A filtered frame (rows 0, 2, 4, ...) keeps its row labels in Parquet as '__index_level_0__', which is no
    feature; a frame indexed by Time keeps Time there under its name, a column like the others."""
    _, test = data
    rows = test.head(600).iloc[::2]
    frame = rows if saved == "filtered" else rows.set_index("Time")
    frame.to_parquet(tmp_path / "in.parquet")
    assert tables.read_header(tmp_path / "in.parquet") == [*frame.columns] + ([] if saved == "filtered" else ["Time"])
    summary = score_table(detector, tmp_path / "in.parquet", tmp_path / "out.csv", chunksize=120, progress=False)
    scored = read(tmp_path / "out.csv")
    assert summary["rows"] == len(scored) == len(rows) and "__index_level_0__" not in scored.columns
    np.testing.assert_allclose(scored["score"], detector.score_samples(rows), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(scored["Time"], rows["Time"])


def test_parquet_is_read_in_record_batches_of_the_chunk_size(data, tmp_path):
    _, test = data
    src = write(test, tmp_path / "big.parquet")
    sizes = [len(f) for f in tables.iter_frames(src, chunksize=400)]
    assert sum(sizes) == len(test) and max(sizes) <= 400 and tables.count_rows(src) == len(test)


PARQUET_BAD = {
    "missing column": (lambda df: df.drop(columns=["V7"]), ["'V7'", "missing"]),
    "extra column": (lambda df: df.assign(comment=1.0), ["'comment'", "unexpected"]),
    "non-numeric type": (lambda df: df.astype({"V3": str}).assign(V3=lambda d: d["V3"].where(d.index != 5, "abc")),
                         ["'V3'", "row 6", "non-numeric", "'abc'"]),
    "NaN": (lambda df: df.assign(V4=df["V4"].where(df.index != 7)), ["'V4'", "row 8", "NaN"]),
    "inf": (lambda df: df.assign(V5=df["V5"].where(df.index != 2, np.inf)), ["'V5'", "row 3", "infinite"]),
}


@pytest.mark.parametrize("case", list(PARQUET_BAD))
def test_bad_parquet_is_one_line_exit_2_and_no_output(case, bundle, data, tmp_path, capsys):
    _, test = data
    change, fragments = PARQUET_BAD[case]
    src = write(change(test.head(300).reset_index(drop=True)), tmp_path / "bad.parquet")
    code = cli(["score", "--model", str(bundle), "--input", str(src), "--out", str(tmp_path / "out.parquet"),
                "--quiet"])
    err = one_line_error(code, capsys, *fragments)
    assert "(line " not in err, err  # Parquet has rows, not lines
    assert listing(tmp_path) == ["bad.parquet"]


def test_the_score_command_reads_a_compressed_csv_and_fills_an_empty_directory(bundle, data, tmp_path):
    """A .csv.gz scores like the plain file; an empty --out directory holds nothing to lose, so it becomes the
    Parquet dataset (one holding the user's files is refused: tests/cli/test_bad_inputs.py)."""
    import gzip

    _, test = data
    plain = write(test.head(400), tmp_path / "new.csv")
    compressed = tmp_path / "new.csv.gz"
    compressed.write_bytes(gzip.compress(plain.read_bytes()))
    for src, out in ((plain, "a.csv"), (compressed, "b.csv")):
        assert cli(["score", "--model", str(bundle), "--csv", str(src), "--out", str(tmp_path / out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    (tmp_path / "empty").mkdir()
    assert cli(["score", "--model", str(bundle), "--csv", str(compressed), "--out", str(tmp_path / "empty"),
                "--quiet"]) == 0
    assert len(pd.read_parquet(tmp_path / "empty")) == 400


def test_a_folder_of_scored_tables_named_by_the_user_is_not_replaced(bundle, data, tmp_path, capsys):
    """Tables scored one by one into a folder (a day a file) each hold the result columns, but the folder is the
    user's collection, not a Parquet dataset of score's: --out naming it is refused and both days are kept. A folder
    score wrote itself (part-* files) is replaced."""
    _, test = data
    src = write(test.head(200), tmp_path / "new.csv")
    archive = tmp_path / "archive"
    for day in ("2026-11-23", "2026-11-24"):
        assert cli(["score", "--model", str(bundle), "--csv", str(src), "--out", str(archive / f"{day}.parquet"),
                    "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in archive.iterdir()}
    code = cli(["score", "--model", str(bundle), "--csv", str(src), "--out", str(archive), "--quiet"])
    one_line_error(code, capsys, str(archive))
    assert {p.name: p.read_bytes() for p in archive.iterdir()} == before
    own = tmp_path / "own"
    for _ in range(2):
        assert cli(["score", "--model", str(bundle), "--csv", str(src), "--out", str(own), "--quiet"]) == 0
    assert len(pd.read_parquet(own)) == 200


def test_fit_reads_parquet_too(data, tmp_path, capsys):
    train, _ = data
    src = write(train.head(1500), tmp_path / "train.parquet")
    code = cli(["fit", "--input", str(src), "--out", str(tmp_path / "model"), "--epochs", "2", "--n-models", "1"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "model" / "detector.json").exists() and (tmp_path / "model" / "metrics.json").exists()


@pytest.mark.parametrize("target", ["out.parquet", "outdir"])
def test_a_column_whose_type_changes_between_chunks_is_written_with_one_type(target, detector, data, tmp_path):
    """pandas reads each CSV chunk on its own: whole numbers in one chunk and decimals in the next. The Parquet
    output holds one type per column and reads back as one table."""
    _, test = data
    frame = test.head(60).reset_index(drop=True)
    frame["Time"] = frame["Time"].round()
    frame.loc[45, "Time"] += 0.5  # decimals only in the third chunk
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    score_table(detector, src, tmp_path / target, chunksize=20, progress=False)
    scored = read(tmp_path / target)
    assert len(scored) == 60 and scored["Time"].dtype == np.float64 and scored.loc[45, "Time"] % 1 == 0.5
    np.testing.assert_allclose(scored["score"], detector.score_samples(frame), rtol=1e-6, atol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary output left behind"


@pytest.mark.parametrize("target", ["out.parquet", "outdir"])
def test_parquet_outputs_widen_to_the_type_every_chunk_fits(target, tmp_path):
    chunks = [pd.DataFrame({"n": [1, 2], "empty": [None, None], "id": [1, 2]}),
              pd.DataFrame({"n": [3, 4], "empty": [None, None], "id": [3, 4]}),
              pd.DataFrame({"n": [5.5, 6], "empty": ["a", None], "id": ["x7", "8"]})]
    with tables.TableWriter(tmp_path / target) as writer:
        for chunk in chunks:
            writer.write(chunk)
    back = read(tmp_path / target)
    assert back["n"].tolist() == [1, 2, 3, 4, 5.5, 6] and back["empty"].tolist()[4] == "a"
    assert back["id"].tolist() == ["1", "2", "3", "4", "x7", "8"]  # numbers, then text: text
    assert listing(tmp_path) == [target]


@pytest.mark.parametrize("chunksize", [1, 7, 20_000])
def test_the_word_true_in_a_csv_feature_column_is_refused_wherever_the_chunks_fall(chunksize, detector, data,
                                                                                     tmp_path):
    _, test = data
    frame = test.head(20).reset_index(drop=True).astype({"V5": object})
    frame.loc[13, "V5"] = "True"
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    with pytest.raises(UsageError, match=r"row 14 .*'V5': non-numeric value 'True'"):
        score_table(detector, src, tmp_path / "out.csv", chunksize=chunksize, progress=False)
    frame.loc[:, "V5"] = ["True", "False"] * 10  # the whole column: booleans to pandas, still not numbers here
    frame.to_csv(src, index=False)
    with pytest.raises(UsageError, match=r"row 1 .*'V5': non-numeric value 'True'"):
        score_table(detector, src, tmp_path / "out.csv", chunksize=chunksize, progress=False)
    assert listing(tmp_path) == ["in.csv"]


def test_the_separator_is_one_character_and_a_typed_backslash_t_is_a_tab(detector, data, tmp_path):
    _, test = data
    src = tmp_path / "in.tsv"
    test.head(30).to_csv(src, index=False, sep="\t")
    score_table(detector, src, tmp_path / "out.tsv", sep="\\t", progress=False)
    scored = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert list(scored.columns) == [*test.columns, *RESULTS] and len(scored) == 30
    with pytest.raises(UsageError, match="sep must be one ASCII character"):
        score_table(detector, src, tmp_path / "out2.csv", sep=r",\s*", progress=False)


def test_a_parquet_directory_with_another_file_or_a_damaged_part_is_one_line(bundle, data, tmp_path, capsys):
    _, test = data
    src = write(test.head(300), tmp_path / "parts")
    (src / "_SUCCESS").write_text("")  # bookkeeping files are passed over
    (src / ".a.parquet.crc").write_bytes(b"crc")
    (src / "zz_notes.txt").write_text("the user's notes\n")
    argv = ["score", "--model", str(bundle), "--input", str(src), "--out", str(tmp_path / "out.csv"), "--quiet"]
    one_line_error(cli(argv), capsys, "zz_notes.txt", "not a Parquet file")
    (src / "zz_notes.txt").unlink()
    raw = (src / "b.parquet").read_bytes()
    (src / "b.parquet").write_bytes(raw[:-80] + b"\xff" * 72 + raw[-8:])  # its footer damaged, the magic kept
    one_line_error(cli(argv), capsys, "b.parquet", "cannot read Parquet")
    assert listing(tmp_path) == ["parts"]


def test_a_label_column_of_true_and_false_counts_as_1_and_0(detector, data, tmp_path):
    _, test = data
    frame = test.head(200).reset_index(drop=True)
    labels = frame["Class"].to_numpy()
    frame["Class"] = np.where(labels == 1, "True", "False")
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    from keras_ae.fraud.scoring import score_labelled

    _, read_labels = score_labelled(detector, src, chunksize=64, progress=False)
    np.testing.assert_array_equal(read_labels, labels)


def test_text_columns_keep_one_text_type_however_the_chunks_alternate(tmp_path):
    from keras_ae.fraud import parquet_sinks as formats

    chunks = [pd.DataFrame({"note": ["a", "b"]}), pd.DataFrame({"note": [None, None]}),
              pd.DataFrame({"note": ["c", None]}), pd.DataFrame({"note": [None, None]})]
    schema = formats._arrow(chunks[0]).schema
    for chunk in chunks[1:]:
        assert formats._widened(schema, formats._arrow(chunk)).equals(schema)  # nothing to rewrite


def test_a_bad_rows_line_counts_the_lines_quoted_fields_above_it_span(tmp_path):
    """A quoted note spanning three lines puts every later row two lines further down than its row number says:
    the error names the line the row starts on (found from the quotes), as an editor shows it."""
    from keras_ae.fraud import cells, places

    quoted = tmp_path / "quoted.csv"
    quoted.write_text('a,note\n1,"one\ntwo\nthree"\n2,x\n3,"say ""hi"""\nnope,y\n')
    assert [places.row_place(str(quoted), row) for row in (1, 2, 4)] == \
        ["row 1 (line 2)", "row 2 (line 5)", "row 4 (line 7)"]
    frame = pd.read_csv(quoted)
    with pytest.raises(UsageError, match=r"quoted.csv, row 4 \(line 7\), column 'a': non-numeric value 'nope'$"):
        cells.numeric_block(frame, ["a"], str(quoted))
    inches = tmp_path / "inches.csv"  # a quote inside a field is text, as pandas reads it: it spans no lines
    inches.write_text('a,note\n1,12" screen\n2,x\n3,15" screen\nnope,y\n')
    assert places.row_place(str(inches), 4) == "row 4 (line 5)"
    plain = tmp_path / "plain.csv"
    plain.write_text("a\n1\n2\n")
    assert places.row_place(str(plain), 2) == "row 2 (line 3)"
    assert places.row_place(str(tmp_path / "t.parquet"), 3) == "row 3"
    assert places.row_place("X", 3) == "row 3 (position 2)"


def test_a_column_named_like_a_result_column_is_refused_only_where_a_scored_table_is_written():
    """A model fitted earlier on a feature named `score` still scores in Python and evaluates; the score command
    refuses the table (its output would hold two `score` columns), saying to rename and refit."""
    from keras_ae.fraud import schema

    schema.check_columns(["score", "V1", "Class"], ["score", "V1"], "x.csv", allowed=["Class"])
    with pytest.raises(UsageError, match=r"x.csv, column 'score': named like a column that scoring adds .*refit"):
        schema.check_result_names(["score", "V1", "Class"], "x.csv", fitting=False)
    with pytest.raises(UsageError, match=r"column 'flag': .*so rename it$"):
        schema.check_result_names(["V1", "flag"], "X")
