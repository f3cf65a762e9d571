#!/usr/bin/env python
"""Fraud detection on transaction CSVs: python scripts/fraud.py fit|score|evaluate|demo ... (see --help)"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from keras_ae.cli.fraud import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
