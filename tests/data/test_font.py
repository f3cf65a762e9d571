"""keras_ae.data.font: the 32 5x7 glyphs, the registered dataset, malformed font files."""

import numpy as np
import pytest

from keras_ae.data import font as font_data
from keras_ae.data import load_dataset
from keras_ae.errors import UsageError


def test_font_has_32_distinct_5x7_binary_glyphs_from_backtick_to_del():
    font = font_data.read_font()
    assert font.bitmaps.shape == (32, 7, 5) and font.vectors.shape == (32, 35)
    assert set(np.unique(font.vectors)) == {0.0, 1.0}
    assert list(font.codes) == list(range(0x60, 0x80))
    assert font.names[0] == "`" and font.names[1:27] == [chr(c) for c in range(ord("a"), ord("z") + 1)]
    assert font.names[27:] == ["{", "|", "}", "~", "DEL"]
    assert len({v.tobytes() for v in font.vectors}) == 32, "two characters share a bitmap"
    assert font.vectors.sum(axis=1).min() >= 3, "a glyph is (nearly) empty"
    assert font_data.glyph_text(font.bitmaps[font.index("|")]) == ["..#.."] * 7


def test_font_dataset_is_registered_as_images():
    data = load_dataset("font5x7")
    assert data.x_train.shape == (32, 7, 5, 1) and data.info["characters"][-1] == "DEL"


def test_malformed_font_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("0x61 a\n.....\n..#..\n.###\n.....\n.....\n.....\n.....\n")
    with pytest.raises(UsageError, match=r"bad.txt line 4: expected 5 of '#'/'.', received '.###'"):
        font_data.read_font(bad)
    with pytest.raises(UsageError, match="unknown character 'A'"):
        font_data.read_font().index("A")


def test_two_glyphs_of_one_name_or_one_code_are_refused(tmp_path):
    rows = ".....\n" * 7
    twice = tmp_path / "twice.txt"
    twice.write_text(f"0x61 a\n{rows}0x62 a\n{rows}")
    with pytest.raises(UsageError, match=r"twice.txt line 9: a second glyph named 'a' \(the first at code 0x61\)"):
        font_data.read_font(twice)
    twice.write_text(f"0x61 a\n{rows}0x61 alt-a\n{rows}")
    with pytest.raises(UsageError, match=r"twice.txt line 9: a second glyph with code 0x61 \(the first named 'a'\)"):
        font_data.read_font(twice)


def test_a_byte_order_mark_is_no_glyph_and_a_device_is_no_font(tmp_path):
    import os

    shipped = font_data.FONT_PATH.read_text(encoding="utf-8")
    (tmp_path / "bom.txt").write_text("\ufeff" + shipped, encoding="utf-8")
    assert font_data.read_font(tmp_path / "bom.txt").names == font_data.read_font().names
    if os.path.exists("/dev/zero"):
        with pytest.raises(UsageError, match="cannot read font file /dev/zero: a device, not a file"):
            font_data.read_font("/dev/zero")
