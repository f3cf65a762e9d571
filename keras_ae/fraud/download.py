"""The real credit-card file: the ULB Machine Learning Group's "Credit Card Fraud Detection" dataset.

284,807 card transactions by European cardholders over two days of September 2013, 492 of them frauds (0.172%);
columns Time, V1..V28 (PCA components), Amount, Class. Source: Kaggle `mlg-ulb/creditcardfraud`
(<https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud>), licence Database Contents License (DbCL) v1.0;
Dal Pozzolo et al., "Calibrating probability with undersampling for unbalanced classification", IEEE CIDM 2015.
TensorFlow mirrors the same CSV for its imbalanced-data tutorial; `fetch_creditcard` downloads that copy once
into the Keras cache and checks its columns.
"""

from __future__ import annotations

import os
import pathlib

from keras_ae.data.mnist import DownloadError, _get_file
from keras_ae.fraud import schema, tables

CREDITCARD_URL = "https://storage.googleapis.com/download.tensorflow.org/data/creditcard.csv"
CREDITCARD_FILE = "creditcard.csv"


def fetch_creditcard(cache_dir: str | os.PathLike | None = None, origin: str = CREDITCARD_URL) -> pathlib.Path:
    """Path of the credit-card CSV, downloaded on first use into ``<cache_dir or ~/.keras>/datasets/``.

    Raises `DownloadError` (no network, a refused host) naming the address and where else the file can be had;
    `ValueError` when the downloaded file is not the credit-card table (its header lacks a Kaggle column).
    """
    if cache_dir is not None:  # Keras falls back to /tmp/.keras when the directory does not exist yet
        pathlib.Path(cache_dir).expanduser().mkdir(parents=True, exist_ok=True)
    try:
        path = pathlib.Path(_get_file(CREDITCARD_FILE, origin, cache_dir))
    except DownloadError as err:
        raise DownloadError(f"{err}; the same file is on Kaggle (mlg-ulb/creditcardfraud): download it there and "
                            "pass its path") from None
    header = tables.read_header(path)
    missing = [c for c in schema.KAGGLE_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: not the credit-card table (no column {missing[0]!r}); delete it to download again")
    return path
