#!/usr/bin/env python
"""One-class anomaly detection on images: python scripts/anomaly.py --dataset pneumonia --normal 0"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from keras_ae.cli.anomaly import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
