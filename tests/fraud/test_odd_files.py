"""Odd CSV files scored and read: blank lines, rows cut short and separators in the line-by-line copy, damaged or
cut compressed files, nameless header columns, tiny values, label words."""

import gzip
import lzma
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud.scoring import score_table  # noqa: E402
from tests.fraud.test_scoring import _with_drop  # noqa: E402


def test_a_blank_line_keeps_its_results_under_their_own_names(detector, data, tmp_path):
    """A blank line (flagged: it holds no values) is copied with its empty fields written out, and an empty label
    field is no missing one: the flag of a far row stands in the flag column."""
    _, test = data
    rows = test.head(4).copy()
    rows.loc[rows.index[1], "V1"] = 80.0  # far from every normal row
    src = tmp_path / "blank.csv"
    lines = rows.to_csv(index=False).splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ","  # the label left empty
    src.write_text("\n".join([*lines, ""]) + "\n")  # and a blank line
    flagging = _with_drop(detector, [], unscorable="flag")
    score_table(flagging, src, tmp_path / "scored.csv", progress=False)
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert len(scored) == 5 and list(scored["flag"]) == [int(detector.predict(rows.head(1))[0]), 1,
                                                         *detector.predict(rows.tail(2)), 1]
    assert scored["Class"].isna().sum() == 2 and scored["unscorable_reason"].notna().sum() == 1
    assert np.isinf(scored["score"].iloc[4:]).all() and np.isfinite(scored["score"].iloc[:4]).all()


@pytest.mark.parametrize("quoted", [False, True])
def test_a_row_with_fields_left_off_is_refused_naming_it(detector, data, tmp_path, quoted):
    """A row cut short (the last line of a truncated file: its amount cut, its label gone) has fewer fields than
    the header: refused with its row and line, in either mode, never scored as if whole (pandas would read the
    missing label as blank, and score never reads the label). A quoted field holding a line break counts as one."""
    _, test = data
    rows = test.head(3).copy()
    rows["Amount"] = [10.0, 20.0, 1_000_000.0]
    lines = rows.to_csv(index=False).splitlines()
    if quoted:
        lines[1] = '"' + lines[1].replace(",", '","') + '"'
        lines[2] = lines[2].replace(",", ',"', 1).replace(",", '\n",', 2).replace('\n",', ",", 1)  # 1,"2\n",3
    lines[3] = lines[3].rsplit(",", 1)[0][:-5]  # "...,1000000.0,0" -> "...,10000"
    src = tmp_path / "cut.csv"
    src.write_text("\n".join(lines) + "\n")
    for mode in ("refuse", "flag"):
        line = 5 if quoted else 4  # the quoted line break makes row 2 two lines
        with pytest.raises(UsageError, match=rf"row 3 \(line {line}\) has 30 fields but the header names 31 columns"):
            score_table(_with_drop(detector, [], unscorable=mode), src, tmp_path / "scored.csv", progress=False)
        assert not (tmp_path / "scored.csv").exists()


def test_top_features_holding_the_separator_are_quoted(detector, data, tmp_path):
    _, test = data
    src = tmp_path / "spaced.csv"
    test.head(20).to_csv(src, index=False, sep=" ")
    score_table(detector, src, tmp_path / "scored.csv", sep=" ", progress=False)
    scored = pd.read_csv(tmp_path / "scored.csv", sep=" ")
    assert list(scored["flag"]) == list(detector.predict(test.head(20)))
    assert scored["top_features"].str.count(":").eq(3).all()


@pytest.mark.parametrize("sep", [".", "-", "+", "e", "5"])
def test_a_separator_numbers_are_written_with_is_refused(sep):
    from keras_ae.fraud.schema import csv_separator

    with pytest.raises(ValueError, match="numbers are written with"):
        csv_separator(sep)
    assert csv_separator(":") == ":" and csv_separator("\\t") == "\t"


def _table(n=3000):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=n).round(4), "y": rng.normal(size=n).round(4)})
    return frame.to_csv(index=False).encode()


def test_a_cut_or_damaged_zstd_file_is_refused_and_joined_frames_are_read(tmp_path):
    import zstandard

    from keras_ae.fraud.tables import open_table, read_table

    raw = _table()
    whole = zstandard.ZstdCompressor().compress(raw)
    (tmp_path / "cut.csv.zst").write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(UsageError, match=r"cut.csv.zst: the zstd file is cut short"):
        open_table(tmp_path / "cut.csv.zst")
    at = len(whole) // 2
    (tmp_path / "damaged.csv.zst").write_bytes(whole[:at] + bytes(b ^ 90 for b in whole[at:at + 16]) + whole[at + 16:])
    with pytest.raises(UsageError, match=r"damaged.csv.zst: not a whole zstd file"):
        open_table(tmp_path / "damaged.csv.zst")
    half = raw.index(b"\n", len(raw) // 2) + 1  # two frames, as `cat a.zst b.zst` makes
    joined = zstandard.ZstdCompressor().compress(raw[:half]) + zstandard.ZstdCompressor().compress(raw[half:])
    (tmp_path / "joined.csv.zst").write_bytes(joined)
    assert len(read_table(open_table(tmp_path / "joined.csv.zst"))) == 3000


@pytest.mark.parametrize("name", ["head.csv.gz", "middle.csv.gz", "head.csv.xz", "middle.csv.xz", "x.csv.tar.gz"])
def test_a_damaged_compressed_file_is_one_line_naming_it(tmp_path, name):
    from keras_ae.fraud.tables import open_table, read_table

    raw = _table(20000)
    data = lzma.compress(raw) if ".xz" in name else gzip.compress(raw)
    if not name.startswith("x."):
        at = 40 if name.startswith("head") else len(data) // 2
        data = data[:at] + bytes(b ^ 0x5A for b in data[at:at + 16]) + data[at + 16:]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(UsageError) as caught:
        read_table(open_table(tmp_path / name))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / name)) and "\n" not in message
    # damaged at the start: the file cannot be read; in the middle: or the damage reads as rows of the wrong shape
    assert "cannot read" in message or (name.startswith("middle") and (
        "malformed CSV" in message or "fields but the header names" in message)), message


@pytest.mark.parametrize(("name", "pack"), [("packed.csv", gzip.compress), ("packed.txt", lzma.compress)])
def test_a_compressed_file_whose_name_does_not_say_so_is_named_with_the_name_to_give(tmp_path, name, pack):
    from keras_ae.fraud.tables import open_table, read_table

    (tmp_path / name).write_bytes(pack(_table(50)))
    with pytest.raises(UsageError, match=r"compressed, which its name does not say: name it " + name + r"\.(gz|xz)$"):
        read_table(open_table(tmp_path / name))


def test_a_row_with_a_field_too_many_is_named_by_its_line(tmp_path):
    from keras_ae.fraud.tables import open_table, read_table

    lines = _table(20).decode().splitlines()
    lines[3] += ",9"
    (tmp_path / "plus.csv").write_text("\n".join(lines) + "\n")
    fields = len(lines[0].split(","))
    with pytest.raises(UsageError, match=rf"plus.csv: line 4 has {fields + 1} fields but the header names {fields} "
                                         r"columns \(a separator inside a value that is not quoted\?\)$"):
        read_table(open_table(tmp_path / "plus.csv"))


@pytest.mark.parametrize(("header", "said"), [("x,y,", "column 3 of 3 has no name in the header (a separator ending"),
                                              (",x,y", "column 1 of 3 has no name in the header (the row index"),
                                              ("x,,y", "column 2 of 3 has no name in the header (a name left out")])
def test_a_header_column_without_a_name_is_no_feature_to_fit_on(tmp_path, header, said):
    from keras_ae.cli.fraud import cli

    rows = "\n".join(f"{i % 7},{i % 5},{i % 3}" for i in range(300))
    (tmp_path / "t.csv").write_text(f"{header}\n{rows}\n")
    assert cli(["fit", "--input", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"), "--epochs", "1"]) == 2
    unnamed = f"Unnamed: {header.split(',').index('')}"
    with pytest.raises(UsageError, match=re.escape(said)):
        from keras_ae.fraud import FraudDetector

        FraudDetector(epochs=1).fit(pd.read_csv(tmp_path / "t.csv"))
    # left out, it is no feature: a model fitted so scores tables of the same shape
    from keras_ae.fraud import FraudDetector

    det = FraudDetector(epochs=1, n_models=1, drop=(unnamed,)).fit(pd.read_csv(tmp_path / "t.csv"))
    assert len(det.score_samples(pd.read_csv(tmp_path / "t.csv").head(5))) == 5


def test_values_too_small_to_have_a_spread_are_refused_at_fit():
    from keras_ae.fraud import FraudDetector

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tiny": rng.normal(size=300) * 1e-170, "b": rng.normal(size=300)})
    with pytest.raises(UsageError, match=r"column 'tiny': its largest value is .*e-170, too small for its spread"):
        FraudDetector(epochs=1).fit(frame)


def test_label_words_in_a_text_column_of_any_type(tmp_path):
    from keras_ae.fraud.cells import labels_block

    for dtype in (object, "string", "str"):
        frame = pd.DataFrame({"Class": pd.Series(["false", "TRUE", " False"], dtype=dtype)})
        assert list(labels_block(frame, "Class", "t.parquet")) == [0, 1, 0]
    frame = pd.DataFrame({"Class": pd.Series(["True", None, "False"], dtype="str")})
    with pytest.raises(UsageError, match=r"row 2 \(.*column 'Class': empty or NaN value"):
        labels_block(frame, "Class", "t.csv")


def test_a_long_text_field_beside_a_blank_last_cell_is_read(tmp_path):
    """The second reading that counts a row's fields takes a field of any length, as pandas does."""
    from keras_ae.fraud.csv_format import read_frames

    src = tmp_path / "long.csv"
    src.write_text("note,a,label\n" + "x" * 200_000 + ",1,\nshort,2,0\n")
    frames = list(read_frames(src, ",", 10))
    assert frames[0].shape == (2, 3) and np.isnan(frames[0]["label"].iloc[0])


@pytest.mark.parametrize(("header", "said"), [
    (["x", "y", "Unnamed: 2"], r"t.csv: column 3 of 3 has no name in the header \(a separator ending the header "
                               r"line\?\); a model scores only the columns it was fitted on: x, y$"),
    (["x", "y ", "z"], r"t.csv, column 'y': missing \(the table has 'y ': spaces or capitals differ\)"),
    (["x", "Y"], r"column 'y': missing \(the table has 'Y'"),
    (["x", "y", "score"], r"t.csv, column 'score': a column that scoring adds: this is a scored table; score the "
                          r"table it was made from$"),
])
def test_a_header_a_model_cannot_score_says_what_is_wrong_with_it(header, said):
    from keras_ae.fraud.schema import check_columns

    with pytest.raises(UsageError, match=said):
        check_columns(header, ["x", "y"], "t.csv")


@pytest.mark.parametrize(("label", "said"), [(1.0000000001, "received 1.0000000001"), (2, "received 2.0"),
                                             (-0.5, "received -0.5")])
def test_a_label_that_is_not_0_or_1_is_shown_with_every_digit(label, said):
    from keras_ae.fraud.cells import labels_block

    frame = pd.DataFrame({"Class": [0, 1, label]})
    wrong = r"t.csv, row 3 \(line 4\), column 'Class': label must be 0 \(normal\) or 1 \(fraud\), "
    with pytest.raises(UsageError, match=wrong + re.escape(said) + "$"):
        labels_block(frame, "Class", "t.csv")


def test_a_workbook_is_told_to_be_exported_not_renamed(tmp_path):
    import zipfile

    from keras_ae.fraud.tables import open_table, read_table

    for name in ("t.xlsx", "saved.csv"):  # a workbook saved under a CSV name too
        with zipfile.ZipFile(tmp_path / name, "w") as book:
            book.writestr("[Content_Types].xml", "<Types/>")
            book.writestr("xl/workbook.xml", "<workbook/>")
        with pytest.raises(UsageError, match=r"it is a workbook or document \(a zip archive of XML\), not a CSV: "
                                             r"export it as CSV$"):
            read_table(open_table(tmp_path / name))
