"""The registry of datasets, as commands take them: `mnist`, `fashion_mnist`, `mnist-sample`, `pneumonia`,
`smileys`, `font5x7`, plus the prefixed `folder:PATH` and `tfds:NAME` (tensorflow-datasets;
`keras_ae.data.stream` streams the last two instead of loading them).

A new dataset is one `register_dataset` call: its loader returns a `Dataset`, and the entry says what the
one-class run needs (default normal class, class names) and which dataset stands in when it cannot be
downloaded.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable
from typing import Any

from keras_ae.data import smileys
from keras_ae.data.base import Dataset
from keras_ae.data.mnist import DownloadError
from keras_ae.errors import UsageError
from keras_ae.registry import Registry, resolve


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """A loader ``(value_range=..., **options) -> Dataset`` (or "module:function") and what runs need.

    Attributes:
        labelled: images carry class labels (the one-class run can use it).
        default_normal: the normal class of a one-class run when none is given.
        class_names: (normal, anomaly) names for pictures; None -> "normal (<class>)", "anomaly".
        fallback: a dataset loaded instead when this one cannot be downloaded (with a note on stderr).
        default_score: the image anomaly score of one-class runs on it (`keras_ae.anomaly.image_scores`),
            chosen on validation data: "pixel-knn" for MNIST digits (distance to the nearest normal digits,
            blurred), "texture" for PneumoniaMNIST (local detail energy), "latent+detail" elsewhere.
        train_defaults: the train command's preset for this dataset (None: none): "arch" and the
            `TrainConfig` fields it sets when the user leaves them out and trains that architecture.
        takes_path: its loader reads a local copy of the file when given one (``path``; `data_path` of runs).
    """

    loader: Callable[..., Dataset] | str
    help: str = ""
    labelled: bool = True
    default_normal: int = 5
    class_names: tuple[str, str] | None = None
    fallback: str | None = None
    default_score: str = "latent+detail"
    train_defaults: dict | None = None
    takes_path: bool = False

    def load(self, **options: Any) -> Dataset:
        """Call the loader with the options it accepts (None values are left out)."""
        fn = resolve(self.loader)
        params = inspect.signature(fn).parameters
        return fn(**{k: v for k, v in options.items() if v is not None and k in params})


DATASETS: Registry[DatasetEntry] = Registry("dataset")


@dataclasses.dataclass(frozen=True)
class PrefixEntry:
    """A family of datasets named ``<prefix><rest>`` (``folder:PATH``, ``tfds:NAME``).

    Attributes:
        load: ``(rest, value_range, image_size, channels, seed) -> Dataset`` in memory (or "module:function").
        stream: ``(rest, value_range, image_size, channels, seed, test_limit, train_limit) -> StreamDataset``.
        placeholder: what `rest` stands for in help texts ("PATH", "NAME").
        always_streams: training streams it even without ``stream=True``.
        local_path: `rest` is a file or folder of the user's (a run's output may not lie inside it).
        entry: ``rest -> DatasetEntry`` for families a one-class run can take (labelled classes), else None.
    """

    load: Callable[..., Dataset] | str
    stream: Callable[..., Any] | str
    placeholder: str
    help: str = ""
    always_streams: bool = False
    local_path: bool = False
    entry: Callable[[str], DatasetEntry] | str | None = None


PREFIXES: Registry[PrefixEntry] = Registry("dataset prefix")
PREFIXES.register("folder:", PrefixEntry("keras_ae.data.folder:load_prefixed",
                                         "keras_ae.data.stream:stream_prefixed_folder", "PATH",
                                         "a folder of image files (class sub-folders optional)", local_path=True))
PREFIXES.register("tfds:", PrefixEntry("keras_ae.data.tfds_stream:load_prefixed_tfds",
                                       "keras_ae.data.tfds_stream:stream_tfds", "NAME",
                                       "an image dataset of tensorflow-datasets, streamed",
                                       always_streams=True))
PREFIXES.register("medmnist:", PrefixEntry("keras_ae.data.medmnist:load_medmnist", "", "NAME",
                                           "a 2-D MedMNIST v2 set (breastmnist, dermamnist, ...)",
                                           entry="keras_ae.data.medmnist:dataset_entry"))


def prefixed(name: str) -> tuple[PrefixEntry, str] | None:
    """(entry, rest) of a prefixed dataset name (``folder:PATH`` -> the folder entry and PATH, a leading ``~`` as
    your home folder: a shell leaves it as typed after ``folder:``); None otherwise."""
    for prefix, entry in PREFIXES.items():
        if name.startswith(prefix):
            if not name[len(prefix):].strip():  # "folder:" would be the working directory, "tfds:" nothing
                raise UsageError(f"dataset={name!r} names nothing after {prefix!r} (e.g. folder:photos, "
                                 "tfds:mnist, medmnist:breastmnist)")
            rest = name[len(prefix):]
            return entry, os.path.expanduser(rest) if entry.local_path else rest
    return None


def local_inputs(name: str) -> list[str]:
    """The files or folders a dataset name reads from this machine (``folder:photos`` -> ["photos"]); none for
    a downloaded dataset. A run's output may be none of them nor lie inside one."""
    found = prefixed(str(name or ""))
    return [found[1]] if found is not None and found[0].local_path else []


def register_dataset(name: str, loader: Callable[..., Dataset] | str, replace: bool = False,
                     **fields: Any) -> DatasetEntry:
    """Register `loader` under `name` (see `DatasetEntry` for the fields); returns the entry."""
    return DATASETS.register(name, DatasetEntry(loader, **fields), replace=replace)


register_dataset("mnist", "keras_ae.data.mnist:load_mnist", fallback="mnist-sample", default_score="pixel-knn",
                 help="MNIST, 60,000 + 10,000 digits (downloaded once)")
register_dataset("fashion_mnist", "keras_ae.data.mnist:load_fashion_mnist", help="Fashion-MNIST (downloaded once)")
register_dataset("mnist-sample", "keras_ae.data.mnist:load_mnist_sample", default_score="pixel-knn",
                 help="the 5,000 real digits shipped in data/mnist_sample.npz")
register_dataset("pneumonia", "keras_ae.data.pneumonia:load_pneumonia", default_normal=0, takes_path=True,
                 default_score="texture",
                 class_names=("normal", "pneumonia"), help="PneumoniaMNIST chest X-rays (normal = 0)")
register_dataset("smileys", "keras_ae.data.smileys:load_smileys", labelled=False,
                 train_defaults=smileys.TRAIN_DEFAULTS, help="64x64 RGB faces with known factors")
register_dataset("font5x7", "keras_ae.data.font:load_font5x7", labelled=False,
                 help="the 32 glyphs of data/font5x7.txt")


def dataset_names() -> list[str]:
    return [*DATASETS, *(prefix + entry.placeholder for prefix, entry in PREFIXES.items())]


def one_class_names() -> list[str]:
    """Datasets a one-class run can take (labelled classes): registered names, then prefixed families."""
    return [*(name for name, entry in DATASETS.items() if entry.labelled),
            *(prefix + entry.placeholder for prefix, entry in PREFIXES.items() if entry.entry)]


def dataset_entry(name: str) -> DatasetEntry:
    """The entry of a registered dataset, or the one a prefixed family makes for `name` (``medmnist:dermamnist``);
    a UsageError for an unknown name or a family with no entries (``folder:PATH``)."""
    found = prefixed(name)
    if found is not None and found[0].entry:
        return resolve(found[0].entry)(found[1])
    if found is not None:
        raise UsageError(f"dataset={name!r} has no labelled classes for a one-class run "
                         f"(one of: {', '.join(one_class_names())})")
    return get_dataset(name)


def get_dataset(name: str) -> DatasetEntry:
    if name not in DATASETS:
        raise UsageError(f"unknown dataset={name!r} (known: {', '.join(dataset_names())})")
    return DATASETS.get(name)


# options the commands pass to every loader, which each takes or leaves (a run's data_path, a VAE's pairs)
SHARED_OPTIONS = ("path", "pairs")


def _check_arguments(value_range: Any, image_size: Any, channels: Any, seed: Any, options: dict,
                     loader: Callable[..., Any]) -> None:
    """`load_dataset`'s arguments, each a UsageError naming it: an option `loader` (the dataset's) does not take is
    refused rather than left out (a misspelt one), but for `SHARED_OPTIONS`."""
    from keras_ae.models.arguments import is_int  # no Keras: the models package loads its builders lazily

    if value_range not in ("0,1", "-1,1"):
        raise UsageError(f"value_range must be '0,1' or '-1,1', received {value_range!r}")
    if image_size is not None and (isinstance(image_size, (str, bytes)) or not hasattr(image_size, "__len__") or
                                   len(image_size) != 2 or not all(is_int(v) and v >= 1 for v in image_size)):
        raise UsageError(f"image_size must be (height, width), two integers >= 1, received {image_size!r}")
    if channels is not None and not (is_int(channels) and channels in (1, 3)):
        raise UsageError(f"channels must be 1 or 3, received {channels!r}")
    if not (is_int(seed) and 0 <= seed < 2**32):
        raise UsageError(f"seed must be an integer in [0, 2**32), received {seed!r}")
    fixed = {"value_range", "image_size", "channels", "seed"}  # load_dataset's own arguments
    params = list(inspect.signature(loader).parameters)
    if fixed & set(params[1:]) and params[0] not in fixed:  # a prefixed family's first argument: the name's rest
        params = params[1:]
    known = {*SHARED_OPTIONS, *(set(params) - fixed)}
    for key, value in options.items():
        if key not in known and value is not None:  # None: not given (the loaders leave it out)
            raise UsageError(f"load_dataset takes no option {key!r} (options: {', '.join(sorted(known))})")
        if key in ("path", "cache_dir") and value is not None and not isinstance(value, (str, os.PathLike)):
            raise UsageError(f"{key} must be a path, received {value!r}")


def load_dataset(name: str, value_range: str = "0,1", image_size: tuple[int, int] | None = None,
                 channels: int = 1, seed: int = 0, fallback: bool = True, **options: Any) -> Dataset:
    """Load the dataset `name`; raises UsageError for an unknown name, DownloadError when offline.

    `options` go to the registered loader when it takes them (e.g. ``path`` for pneumonia). With `fallback`,
    a dataset that cannot be downloaded and names a stand-in in the registry (``mnist`` -> ``mnist-sample``)
    loads the stand-in instead, with a warning and ``info["fallback_from"]``.
    """
    if not isinstance(name, str):
        raise UsageError(f"Expected a dataset name, received {name!r} (known: {', '.join(dataset_names())})")
    found = prefixed(name)
    if found is not None:
        entry, rest = found
        load = resolve(entry.load)
        _check_arguments(value_range, image_size, channels, seed, options, load)
        image_size = None if image_size is None else tuple(int(v) for v in image_size)
        accepted = inspect.signature(load).parameters
        return load(rest, value_range=value_range, image_size=image_size, channels=channels, seed=seed,
                    **{k: v for k, v in options.items() if v is not None and k in accepted})
    entry = get_dataset(name)
    _check_arguments(value_range, image_size, channels, seed, options, resolve(entry.loader))
    try:
        return entry.load(value_range=value_range, **options)
    except DownloadError as err:
        if not fallback or entry.fallback is None:
            raise
        import warnings

        warnings.warn(f"{err}; using {entry.fallback} instead ({get_dataset(entry.fallback).help})", stacklevel=2)
        data = get_dataset(entry.fallback).load(value_range=value_range)
        data.info["fallback_from"] = name
        return data
