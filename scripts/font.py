#!/usr/bin/env python
"""The 5x7 character exercise: python scripts/font.py [--denoise]"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from keras_ae.cli.font import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
