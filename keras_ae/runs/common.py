"""What every kind of run shares: run directories, loading a dataset with its offline fallback, options."""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import sys
from typing import Any

from keras_ae.errors import UsageError
from keras_ae.io import UNFINISHED  # noqa: F401  (runs use it from here)
from keras_ae.run_marker import check_finished, unfinished_marker  # noqa: F401  (runs use them from here)


def require_paths(config: Any, *names: str) -> None:
    """A UsageError naming the first of `names` (fields of `config`) that is not a path: not text, or empty ("" would
    be read as the working directory)."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, (str, pathlib.PurePath)) or not str(value).strip():
            raise UsageError(f"{name} must be a path, received {value!r}", param=name)


def dataset_sizes(info: dict, train_images: int, test_images: int) -> dict:
    """The dataset's metadata as a run records it: a size the dataset states (``train_size``, ``test_size``) that the
    run did not use all of (``--train-size``, ``--test-size``) is kept as ``train_size_available``, beside the used
    size, so that no figure in the record reads as the number of images the run trained or tested on."""
    out = dict(info)
    for key, used in (("train_size", train_images), ("test_size", test_images)):
        if key in out and out[key] != used:
            out[f"{key}_available"] = out.pop(key)
            out[key] = int(used)
    return out


def run_directory(out: str | None, label: str) -> pathlib.Path:
    """`out`, or runs/<time>-<label> (with -2, -3, ... where a run of the same second has that name: a default
    name is never an earlier run's); an existing file there is a UsageError naming it."""
    if out is None:
        stem = f"runs/{datetime.datetime.now():%Y%m%d-%H%M%S}-{label}"
        run_dir, n = pathlib.Path(stem), 1
        while run_dir.exists() or run_dir.is_symlink():
            n += 1
            run_dir = pathlib.Path(f"{stem}-{n}")
        return run_dir
    run_dir = pathlib.Path(out)
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"out={str(run_dir)!r} is an existing file, not a directory")
    return run_dir


def load_with_fallback(name: str, **options: Any):
    """The dataset `name`; when it cannot be downloaded and the registry names a fallback, that one instead
    (with a note on stderr and ``info["fallback_from"]``)."""
    from keras_ae.data import DownloadError, load_dataset
    from keras_ae.data.mnist import NotOfficialFile
    from keras_ae.data.registry import DATASETS

    try:
        return load_dataset(name, fallback=False, **options)
    except DownloadError as err:
        entry = DATASETS.get(name) if name in DATASETS else None
        if entry is None or entry.fallback is None:
            raise UsageError(f"dataset {name}: {err}") from None
        why = f" ({err})" if isinstance(err, NotOfficialFile) else ""  # a cached file kept as it is: say so
        print(f"{name} cannot be downloaded here{why}; using {entry.fallback} instead "
              f"({DATASETS.get(entry.fallback).help})", file=sys.stderr)
        data = load_dataset(entry.fallback, **{k: v for k, v in options.items() if k == "value_range"})
        data.info["fallback_from"] = name
        return data


def options_of(config: Any) -> dict[str, Any]:
    """A config's fields as a JSON-ready dict (recorded in every metrics.json)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(config).items()}


def positive(config: Any, *names: str) -> None:
    """ValueError naming the first of `names` that is set but not > 0."""
    for name in names:
        value = getattr(config, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise ValueError(f"Expected {name} > 0, received {name}={value!r}")


def require_finite(dataset: str, **arrays: Any) -> None:
    """A UsageError naming the first of `arrays` (split name -> images) that holds NaN or infinite pixels: a
    model cannot learn from them (its loss would not be a number)."""
    from keras_ae.data.base import nonfinite_pixels

    for split, images in arrays.items():
        if images is not None and (found := nonfinite_pixels(images)) is not None:
            raise UsageError(f"dataset {dataset}: {found[0]} pixel(s) of the {split} images are NaN or infinite "
                             f"(first in image {found[1]}); the images must be numbers")
