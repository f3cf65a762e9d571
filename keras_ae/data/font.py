"""The project's 5x7 bitmap font (32 characters, "`" a-z { | } ~ DEL), shipped as text in data/font5x7.txt.

Each glyph in the file is a header line ``<hex code> <name>`` followed by 7 rows of 5 characters,
``#`` for an ink pixel and ``.`` for background; lines starting with ``#`` followed by a space are
comments. The code is a Unicode code point (0x0..0x10FFFF, not a surrogate 0xD800..0xDFFF); the name, when
left out, is its character. The whole file is 35 binary pixels per character, the input of the lecture's
35-25-10-2 exercise.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re

import numpy as np

from keras_ae.data.base import Dataset, shipped_file, to_value_range
from keras_ae.errors import UsageError

FONT_PATH = shipped_file("font5x7.txt")
ROWS, COLS = 7, 5


@dataclasses.dataclass(frozen=True)
class Font:
    """Glyphs of a bitmap font: ``names[i]`` is drawn by ``bitmaps[i]`` (rows, cols) of 0.0/1.0."""

    names: list[str]
    codes: np.ndarray  # code points, e.g. 0x60 for "`"
    bitmaps: np.ndarray  # float32 (n, 7, 5)

    @property
    def vectors(self) -> np.ndarray:
        """The glyphs as flat float32 vectors (n, 35), row by row."""
        return self.bitmaps.reshape(len(self.bitmaps), -1)

    def index(self, name: str) -> int:
        """Position of the character `name` ("a", "DEL", ...); UsageError naming it when unknown."""
        try:
            return self.names.index(name)
        except ValueError:
            raise UsageError(f"unknown character {name!r} (known: {' '.join(self.names)})") from None


def read_font(path: str | os.PathLike = FONT_PATH) -> Font:
    """Parse a font file in the format above; raises UsageError naming the file and line on a bad glyph."""
    path = pathlib.Path(path)
    if path.is_char_device():  # /dev/zero: no end to read to
        raise UsageError(f"cannot read font file {path}: a device, not a file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a byte-order mark an editor wrote: not a glyph
    except OSError as err:
        raise UsageError(f"cannot read font file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"font file {path} is not UTF-8 text (byte {err.object[err.start]:#04x} at position "
                         f"{err.start}): not a font file") from None
    names, codes, bitmaps = [], [], []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line or line.startswith("# "):
            i += 1
            continue
        header = line.split(maxsplit=1)
        try:
            if not re.fullmatch(r"[+-]?(0[xX])?[0-9a-fA-F]+", header[0]):  # int() would take '0x6_1' and other digits
                raise ValueError(header[0])
            code = int(header[0], 16)
        except ValueError:
            raise UsageError(f"font file {path} line {i + 1}: expected '<hex code> <name>', "
                             f"received {line!r}") from None
        if not (0 <= code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
            raise UsageError(f"font file {path} line {i + 1}: {header[0]} is not a Unicode character (code points "
                             "are 0x0..0x10FFFF, without the surrogates 0xD800..0xDFFF)")
        rows = [r.strip() for r in lines[i + 1: i + 1 + ROWS]]
        for k, row in enumerate(rows):
            if len(row) != COLS or set(row) - {"#", "."}:
                raise UsageError(f"font file {path} line {i + 2 + k}: expected {COLS} of '#'/'.', "
                                 f"received {row!r}")
        if len(rows) != ROWS:
            raise UsageError(f"font file {path}: glyph {line!r} has {len(rows)} rows, expected {ROWS}")
        name = header[1] if len(header) > 1 else chr(code)
        if name in names:  # --between and --concept name glyphs: one name, one glyph
            raise UsageError(f"font file {path} line {i + 1}: a second glyph named {name!r} (the first at code "
                             f"{codes[names.index(name)]:#x})")
        if code in codes:  # the code is the glyph's label: one code, one glyph
            raise UsageError(f"font file {path} line {i + 1}: a second glyph with code {code:#x} (the first named "
                             f"{names[codes.index(code)]!r})")
        names.append(name)
        codes.append(code)
        bitmaps.append([[1.0 if ch == "#" else 0.0 for ch in row] for row in rows])
        i += 1 + ROWS
    if not names:
        raise UsageError(f"font file {path} holds no glyphs")
    return Font(names, np.array(codes, dtype=np.int64), np.array(bitmaps, dtype=np.float32))


def glyph_text(bitmap: np.ndarray, threshold: float = 0.5) -> list[str]:
    """A glyph (35 values or 7x5) as 7 strings of '#'/'.', thresholded at `threshold`."""
    grid = np.asarray(bitmap).reshape(ROWS, COLS) > threshold
    return ["".join("#" if on else "." for on in row) for row in grid]


def load_font5x7(value_range: str = "0,1", path: str | os.PathLike = FONT_PATH) -> Dataset:
    """The font as a dataset of 32 images (7, 5, 1); train and test are the same glyphs, labels the codes."""
    font = read_font(path)
    x = to_value_range(font.bitmaps[..., None], value_range)
    return Dataset(x, font.codes.copy(), x.copy(), font.codes.copy(),
                   info={"name": "font5x7", "source": "data/font5x7.txt (drawn for keras-ae, CC0-1.0)",
                         "value_range": value_range, "characters": font.names,
                         "train_size": len(x), "test_size": len(x)})
