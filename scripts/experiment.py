#!/usr/bin/env python
"""Run a grid of configurations from JSON: python scripts/experiment.py --config configs/font_sweep.json"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from keras_ae.cli.experiment import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
