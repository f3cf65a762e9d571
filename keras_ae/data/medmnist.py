"""Any 2-D MedMNIST v2 set as a dataset: ``medmnist:breastmnist``, ``medmnist:dermamnist``, ...

The catalogue (download address, MD5, label meanings, channels, task) is the `medmnist` package's ``INFO``
(optional extra: ``pip install 'keras-ae[medmnist]'``; it pulls in torch, which keras-ae never imports). The file
is the official ``<name>.npz`` (keys ``train_images``, ``train_labels``, ``val_images``, ...), downloaded once
into the Keras cache with its MD5 checked, or read from a path given (``data_path``; then the package is not
needed). Multi-label sets (chestmnist) have no single normal class and are refused. PneumoniaMNIST also stays
available without the package as the dataset ``pneumonia``.
"""

from __future__ import annotations

import os
import pathlib
import zipfile
import zlib

import numpy as np

from keras_ae.data.base import Dataset, nonfinite_pixels, pixel_scale, scale_images
from keras_ae.data.mnist import DownloadError, _get_file
from keras_ae.errors import UsageError
from keras_ae.io import not_a_file
from keras_ae.options import INT_LIMIT

SPLITS = ("train", "val", "test")
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}
# what reading an .npz raises for a broken archive or a damaged member (bad CRC, bad compressed data, cut short)
DAMAGED = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


# Of each 2-D set of the catalogue (medmnist 3.0): its number of classes and its normal class (the label named
# normal, healthy or benign, else 0: `normal_label`), for a file given without the package; None: multi-label
KNOWN_SETS = {"pathmnist": (9, 6), "chestmnist": None, "dermamnist": (7, 2), "octmnist": (4, 3),
              "pneumoniamnist": (2, 0), "retinamnist": (5, 0), "breastmnist": (2, 1), "bloodmnist": (8, 0),
              "tissuemnist": (8, 0), "organamnist": (11, 0), "organcmnist": (11, 0), "organsmnist": (11, 0)}


def known_set(name: str) -> tuple[int, int]:
    """(classes, normal class) of a 2-D set, without the package; a UsageError for another name or a multi-label
    set."""
    if name not in KNOWN_SETS:
        raise UsageError(f"unknown MedMNIST 2-D set {name!r} (known: {', '.join(sorted(KNOWN_SETS))})")
    if KNOWN_SETS[name] is None:
        raise UsageError(f"medmnist:{name} is multi-label: it has no single normal class")
    return KNOWN_SETS[name]


def catalogue() -> dict:
    """The medmnist package's INFO (every set's url, MD5, labels, channels, task)."""
    try:
        from medmnist import INFO
    except ImportError:
        raise UsageError("medmnist:NAME needs the medmnist package for its catalogue (pip install "
                         "'keras-ae[medmnist]'), or a local copy of the file (data_path)") from None
    return INFO


def two_d_names(info: dict) -> list[str]:
    return sorted(name for name in info if not name.endswith("3d"))


def set_info(name: str) -> dict:
    info = catalogue()
    if name not in info or name.endswith("3d"):
        raise UsageError(f"unknown MedMNIST 2-D set {name!r} (known: {', '.join(two_d_names(info))})")
    entry = info[name]
    if "multi-label" in entry.get("task", ""):
        raise UsageError(f"medmnist:{name} is multi-label ({entry['task']}): it has no single normal class")
    return entry


def normal_label(labels: dict[str, str]) -> int:
    """The label whose name says normal (healthy, benign), else 0."""
    for key, meaning in labels.items():
        if any(word in meaning.lower() for word in ("normal", "benign", "healthy")):
            return int(key)
    return 0


def _member(data, key: str, where: str) -> np.ndarray:
    """The array `key` of an open npz; a member is decompressed (and its checksum checked) only here, after its
    header's shape is checked against the bytes the member holds (a header claiming more is a damaged file, not a
    reason to allocate it)."""
    _check_declared_size(data, key, where)
    try:
        return np.asarray(data[key])
    except DAMAGED as err:
        raise UsageError(f"cannot read {where}: its array {key} is damaged or unreadable ({err})") from None
    except MemoryError:
        raise UsageError(f"cannot read {where}: its array {key} is too large for this machine's memory") from None


def _check_declared_size(data, key: str, where: str) -> None:
    """A UsageError when the .npy header of member `key` declares more bytes than the member holds."""
    try:
        info = data.zip.getinfo(f"{key}.npy")
        with data.zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read:
                return
            shape, _, dtype = read[version](member)
            held = info.file_size - member.tell()
    except (KeyError, AttributeError, TypeError):  # not an .npy member: said where it is read
        return
    except DAMAGED:
        return
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if not dtype.hasobject and declared > held:
        raise UsageError(f"cannot read {where}: its array {key} declares shape {list(shape)} ({declared:,} bytes) "
                         f"but holds {held:,} bytes; the file is damaged")


def read_npz(path: str | os.PathLike, name: str, what: str = "MedMNIST",
             classes: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images uint8, labels int64), "val": ..., "test": ...}`` of an official MedMNIST npz (`what`
    names the file in messages). Images hold integers 0..255 or floats in [0, 1] (`scale_images`); labels are
    0..`classes`-1 (any label >= 0 when `classes` is None)."""
    try:
        with open(path, "rb") as head:
            zipped = head.read(4) == b"PK\x03\x04"  # an .npz is a zip archive of .npy files
    except OSError as err:
        raise UsageError(f"cannot read {what} file {path}: {err.strerror or err}") from None
    if not zipped:  # np.load would take it for a pickle and suggest allow_pickle: never for a data file
        raise UsageError(f"{what} file {path} is not an .npz file (a NumPy zip archive of arrays)")
    try:
        data = np.load(path, allow_pickle=False)
    except DAMAGED as err:
        raise UsageError(f"cannot read {what} file {path}: {err}") from None
    with data:
        missing = [f"{s}_{k}" for s in SPLITS for k in ("images", "labels") if f"{s}_{k}" not in data.files]
        if missing:
            raise UsageError(f"{what} file {path} lacks the key {missing[0]} "
                             f"(has: {', '.join(data.files) or 'nothing'})")
        out = {}
        for split in SPLITS:
            images, labels = (_member(data, f"{split}_{key}", f"{what} file {path}") for key in ("images", "labels"))
            for key, array in (("images", images), ("labels", labels)):
                if array.ndim == 0:  # a single value, or a member that is no .npy (read as its bytes)
                    raise UsageError(f"{what} file {path}: {split}_{key} is a single {array.dtype} value, not an "
                                     f"array of {key}")
            if labels.ndim > 2 or (labels.ndim == 2 and labels.shape[1] == 0):
                raise UsageError(f"{what} file {path}: {split}_labels has shape {list(labels.shape)}; expected one "
                                 "label per image, shape (n,) or (n, 1)")
            if labels.ndim > 1 and labels.shape[1] > 1:
                raise UsageError(f"{what} file {path}: {split}_labels has {labels.shape[1]} labels a row "
                                 f"(multi-label): {name} has no single normal class")
            if len(images) != len(labels):
                raise UsageError(f"{what} file {path}: {split}_images has {len(images)} rows but {split}_labels "
                                 f"has {len(labels)}")
            if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)) or \
                    images.dtype.kind not in "uif":
                raise UsageError(f"{what} file {path}: {split}_images is {images.dtype} of shape "
                                 f"{list(images.shape)}; expected numbers of shape (n, height, width) or (n, height, "
                                 "width, 1 or 3)")
            if 0 in images.shape[1:]:
                raise UsageError(f"{what} file {path}: {split}_images has shape {list(images.shape)}: images of no "
                                 "pixels")
            if labels.dtype.kind not in "uib" and not (labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
                raise UsageError(f"{what} file {path}: {split}_labels is {labels.dtype}; expected integer class "
                                 "labels")
            if (found := nonfinite_pixels(images)) is not None:  # named here, in the file's own order
                raise UsageError(f"{what} file {path}: {found[0]} pixel(s) of the {SPLIT_NAMES[split]} images are "
                                 f"NaN or infinite (first in image {found[1]} of {split}_images); the images must be "
                                 "numbers")
            try:
                pixel_scale(images)
            except ValueError as err:
                raise UsageError(f"{what} file {path}: {split}_images holds {err}") from None
            labels = labels.reshape(-1)  # checked in its own type, then made int64 (a cast would wrap 2**63 + 5)
            outside = labels[(labels < 0) | (labels >= (classes or INT_LIMIT + 1))]
            if len(outside):
                expected = f"0..{classes - 1}" if classes else f"0..{INT_LIMIT}"
                first = outside[0].item()  # exact: 2**63 + 5, not 9.22e+18
                raise UsageError(f"{what} file {path}: {split}_labels holds the label "
                                 f"{f'{first:g}' if isinstance(first, float) else first} in "
                                 f"{len(outside)} row(s); expected class labels {expected}")
            out[split] = (images, labels.astype(np.int64))
    shapes = {split: out[split][0].shape[1:] for split in SPLITS}
    if len(set(shapes.values())) > 1:
        raise UsageError(f"{what} file {path}: the splits' images differ in size "
                         f"({', '.join(f'{s} {list(v)}' for s, v in shapes.items())})")
    return out


def load_medmnist(name: str, value_range: str = "0,1", image_size=None, channels=None, seed: int = 0,
                  path: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> Dataset:
    """The 2-D MedMNIST set `name` as a `Dataset` with its official train, validation and test splits."""
    if path is not None:
        file = pathlib.Path(path)
        if not file.is_file():
            raise UsageError(f"MedMNIST file {file} {not_a_file(file)}")
        entry = None
    else:
        entry = set_info(name)
        try:
            file = pathlib.Path(_get_file(f"{name}.npz", entry["url"], cache_dir, file_hash=entry["MD5"]))
        except DownloadError as err:
            raise DownloadError(f"{err}; download {name}.npz by hand and pass its path (data_path)") from None
    classes, normal, meanings = set_facts(name)
    splits = read_npz(file, name, classes=classes)
    scaled = {split: (scale_images(x[..., None] if x.ndim == 3 else x, value_range), y)
              for split, (x, y) in splits.items()}
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (scaled[s] for s in SPLITS)
    labels = meanings or {str(k): str(k) for k in range(classes)}
    return Dataset(x_train, y_train, x_test, y_test, x_val=x_val, y_val=y_val,
                   info={"name": f"medmnist:{name}", "source": str(file) if path else entry["url"],
                         "value_range": value_range, "labels": labels, "normal_label": normal,
                         "train_size": int(len(x_train)), "val_size": int(len(x_val)), "test_size": int(len(x_test))})


def set_facts(name: str) -> tuple[int, int, dict[str, str] | None]:
    """(classes, normal class, label meanings) of the 2-D set `name`: from the catalogue when the package is there,
    else from `KNOWN_SETS` (no meanings); a UsageError for a name that is no 2-D set with a single label."""
    try:
        catalogue()
    except UsageError:  # no package
        return (*known_set(name), None)
    labels = set_info(name)["label"]
    return len(labels), normal_label(labels), labels


def dataset_entry(name: str):
    """The registry entry a one-class run reads for ``medmnist:<name>``: its normal class (the label named normal,
    healthy or benign, else 0) and class names, from the catalogue when the package is there."""
    from keras_ae.data.registry import DATASETS, DatasetEntry

    try:
        _, normal, meanings = set_facts(name)
    except UsageError:
        normal, meanings = 0, None  # refused when it loads, with the same message
    names = (meanings[str(normal)], "other classes") if meanings else None
    score = {"default_score": DATASETS["pneumonia"].default_score} if name == "pneumoniamnist" else {}
    return DatasetEntry(lambda value_range="0,1", path=None: load_medmnist(name, value_range, path=path),
                        help=f"MedMNIST {name}", default_normal=normal, class_names=names, takes_path=True, **score)
