"""Datasets by name, as the commands take them: `mnist`, `fashion_mnist`, `mnist-sample`, `pneumonia`,
`folder:PATH`, `tfds:NAME` (tensorflow-datasets; `keras_ae.data.stream` streams the last two instead of
loading them)."""

from __future__ import annotations

from collections.abc import Callable

from keras_ae.data import folder, font, mnist, pneumonia, smileys
from keras_ae.data.base import Dataset
from keras_ae.errors import UsageError

# name -> loader(value_range=..., **options); prefixed names ("folder:PATH") are handled in load_dataset.
DATASETS: dict[str, Callable[..., Dataset]] = {
    "mnist": mnist.load_mnist,
    "fashion_mnist": mnist.load_fashion_mnist,
    "mnist-sample": mnist.load_mnist_sample,
    "pneumonia": pneumonia.load_pneumonia,
    "smileys": smileys.load_smileys,
    "font5x7": font.load_font5x7,
}
PREFIXES = ("folder:", "tfds:")


def dataset_names() -> list[str]:
    return [*DATASETS, "folder:PATH", "tfds:NAME"]


def load_dataset(name: str, value_range: str = "0,1", image_size: tuple[int, int] | None = None,
                 channels: int = 1, seed: int = 0) -> Dataset:
    """Load the dataset `name`; raises UsageError for an unknown name, DownloadError when offline."""
    if name.startswith("folder:"):
        return folder.load_folder(name[len("folder:"):], image_size=image_size or (28, 28),
                                  channels=channels, value_range=value_range, seed=seed)
    if name.startswith("tfds:"):  # tensorflow-datasets (optional extra), decoded into memory
        from keras_ae.data.stream import stream_tfds

        size = tuple(image_size) if image_size else None
        return stream_tfds(name[len("tfds:"):], image_size=size, channels=channels, value_range=value_range,
                           seed=seed).to_memory()
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r} (known: {', '.join(dataset_names())})")
    return DATASETS[name](value_range=value_range)
