"""PneumoniaMNIST (MedMNIST v2): 28x28 grey chest X-rays, label 0 = normal, 1 = pneumonia.

Read straight from the official ``pneumoniamnist.npz`` (keys ``train_images``, ``train_labels``,
``val_images``, ``val_labels``, ``test_images``, ``test_labels``), so the ``medmnist`` package (and the
torch it pulls in) is never needed. The file is downloaded once into the Keras cache with its MD5
checked, or read from a path the caller gives.
"""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np

from keras_ae.data.base import Dataset, scale_images
from keras_ae.data.mnist import DownloadError, _get_file, cached_file, file_digest
from keras_ae.errors import UsageError
from keras_ae.io import not_a_file

PNEUMONIA_URL = "https://zenodo.org/records/10519652/files/pneumoniamnist.npz"
PNEUMONIA_MD5 = "28209eda62fecd6e6a2d98b1501bb15f"  # medmnist INFO["pneumoniamnist"]["MD5"]
PNEUMONIA_FILE = "pneumoniamnist.npz"
SPLITS = ("train", "val", "test")
CLASSES = ("normal", "pneumonia")


def cached_path(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """Where `keras.utils.get_file` keeps the file: ``<cache_dir or $KERAS_HOME or ~/.keras>/datasets/``."""
    return cached_file(PNEUMONIA_FILE, cache_dir)


def pneumonia_file(path: str | os.PathLike | None = None,
                   cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """The npz to read: `path` when given (must exist), else the cached copy, downloaded when absent.

    Raises:
        UsageError: `path` does not exist.
        DownloadError: the file is not cached and cannot be downloaded; the message says where to put it.
    """
    if path is not None:
        path = pathlib.Path(path)
        if not path.is_file():
            raise UsageError(f"PneumoniaMNIST file {path} {not_a_file(path)}")
        return path
    where = cached_path(cache_dir)
    if where.is_file():  # cached: used as it is, never downloaded again
        digest = file_md5(where)
        if digest != PNEUMONIA_MD5:
            print(f"note: {where} is not byte-identical to the official {PNEUMONIA_FILE} (MD5 {digest}, official "
                  f"{PNEUMONIA_MD5}); using it as it is", file=sys.stderr)
        return where
    try:
        return pathlib.Path(_get_file(PNEUMONIA_FILE, PNEUMONIA_URL, cache_dir, file_hash=PNEUMONIA_MD5))
    except DownloadError as err:
        raise DownloadError(f"{err}; download {PNEUMONIA_FILE} by hand and put it at {where} "
                            "(or pass its path: data_path=FILE)") from None


def file_md5(path: str | os.PathLike) -> str:
    return file_digest(path, PNEUMONIA_MD5)


def read_pneumonia_npz(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images uint8 (n, 28, 28), labels int64 (n,)), "val": ..., "test": ...}`` from the npz (the
    MedMNIST file format, `keras_ae.data.medmnist.read_npz`); labels other than 0 and 1 are refused."""
    from keras_ae.data.medmnist import read_npz

    return read_npz(path, "pneumoniamnist", what="PneumoniaMNIST", classes=len(CLASSES))


def load_pneumonia_splits(
    value_range: str = "0,1",
    path: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All three official splits, images scaled to float32 (n, 28, 28, 1); labels 0 normal, 1 pneumonia."""
    splits = read_pneumonia_npz(pneumonia_file(path, cache_dir))
    return {name: (scale_images(x, value_range), y) for name, (x, y) in splits.items()}


def load_pneumonia(value_range: str = "0,1", path: str | os.PathLike | None = None,
                   cache_dir: str | os.PathLike | None = None) -> Dataset:
    """PneumoniaMNIST as a `Dataset`: the official train, validation (`x_val`, `y_val`) and test splits.

    Args:
        path: an existing ``pneumoniamnist.npz`` to read (no download, no hash check).
        cache_dir: Keras cache directory used when `path` is None (default ``~/.keras``).
    """
    file = pneumonia_file(path, cache_dir)
    splits = read_pneumonia_npz(file)
    (x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]
    return Dataset(
        scale_images(x_train, value_range), y_train, scale_images(x_test, value_range), y_test,
        info={"name": "pneumonia", "source": str(file) if path is not None else PNEUMONIA_URL,
              "value_range": value_range, "classes": list(CLASSES),
              "train_size": int(len(x_train)), "val_size": int(len(splits["val"][0])),
              "test_size": int(len(x_test))},
        x_val=scale_images(splits["val"][0], value_range), y_val=splits["val"][1],
    )
