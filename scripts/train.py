#!/usr/bin/env python
"""Train one lecture autoencoder and leave a complete run behind: python scripts/train.py --arch conv --noise 0.5"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from keras_ae.cli.train import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
