"""``tfds:NAME``: any image dataset of tensorflow-datasets (optional extra: ``pip install 'keras-ae[tfds]'``),
streamed as a `StreamDataset` like ``folder:PATH`` (`keras_ae.data.stream`), or decoded into memory."""

from __future__ import annotations

import contextlib
import logging
import pathlib

import tensorflow as tf

from keras_ae.data.mnist import DownloadError
from keras_ae.data.stream import (
    CACHE_LIMIT_BYTES,
    TEST_LIMIT,
    StreamDataset,
    check_options,
    collect,
    scale,
    to_channels,
)
from keras_ae.errors import UsageError

HTTP_RETRIES = 5  # tensorflow-datasets' own 10, with doubling pauses, wait 3.5 minutes before saying "offline"


class _NoRetryLines(logging.Filter):
    """Drops urllib3's "Retrying (Retry(...)) after connection broken" lines: the error line names the failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Retrying (")


@contextlib.contextmanager
def few_retries(retries: int = HTTP_RETRIES):
    """tensorflow-datasets' downloads retry a failed connection `retries` times (as pip does: about 6 s of pauses
    in all) and without urllib3's line about each retry: an offline machine hears so in seconds. The line filter
    stays (downloads still running in other threads retry after the first failure has been reported)."""
    from tensorflow_datasets.core.download import downloader

    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _NoRetryLines) for f in logger.filters):
        logger.addFilter(_NoRetryLines())
    kept = getattr(downloader, "MAX_RETRIES", None)
    downloader.MAX_RETRIES = retries
    try:
        yield
    finally:
        if kept is not None:
            downloader.MAX_RETRIES = kept


@contextlib.contextmanager
def _tidy_on_failure(root: pathlib.Path):
    """A download that fails leaves nothing behind under the data folder `root`: the temporary folders
    tensorflow-datasets made for its files (``*.tmp.<hex>``) go, and the folders this download made, when empty.
    Nothing that was there before is touched."""
    import re
    import shutil

    def entries() -> set[pathlib.Path]:
        found = {root}
        for folder in (root, root / "downloads", *(root / "downloads").glob("*/")):
            with contextlib.suppress(OSError):
                found.update(folder.iterdir())
        return found

    before = entries()
    try:
        yield
    except BaseException:
        made = sorted(entries() - before, key=lambda p: len(p.parts), reverse=True)  # the deepest first
        for path in made:
            if re.search(r"\.tmp\.[0-9a-f]{32}$", path.name) and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_dir() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.rmdir()  # only when empty
        raise


def _image_feature(info, name: str) -> str:
    """Key of the image feature of a TFDS dataset ('image' for MNIST, CIFAR, EMNIST, ...)."""
    import tensorflow_datasets as tfds

    keys = [k for k, f in info.features.items() if isinstance(f, tfds.features.Image)]
    if not keys:
        raise UsageError(f"dataset='tfds:{name}' has no image feature (features: {', '.join(info.features)})")
    return "image" if "image" in keys else keys[0]


def _count(info, builder, split: str) -> int:
    """Examples in a TFDS split, from the metadata when it has them, else by reading the split."""
    try:
        known = int(info.splits[split].num_examples)
    except (KeyError, ValueError, TypeError):
        known = 0
    if known:
        return known
    ds = builder.as_dataset(split=split)
    cardinality = int(ds.cardinality())
    return cardinality if cardinality >= 0 else int(ds.reduce(0, lambda n, _: n + 1))


def stream_tfds(
    name: str,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    value_range: str = "0,1",
    seed: int = 0,
    test_limit: int = TEST_LIMIT,
    train_limit: int | None = None,
    data_dir: str | None = None,
) -> StreamDataset:
    """Stream the image dataset `name` of tensorflow-datasets (downloaded and prepared once by TFDS).

    Args:
        name: a TFDS name with optional config/version, e.g. "mnist", "emnist/letters", "cifar10".
        image_size: resize to (height, width); default the dataset's own size.
        channels: 1 or 3 (converted if the dataset has the other); default the dataset's own.
        test_limit, train_limit: at most this many test images (in memory) / training images (streamed).
        data_dir: where TFDS keeps its data (default ~/tensorflow_datasets).

    Raises:
        UsageError: tensorflow-datasets missing, unknown name, no image feature, images of varying size
            without `image_size`. DownloadError: the data cannot be downloaded.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise UsageError(f"dataset='tfds:{name}' needs tensorflow-datasets: pip install 'keras-ae[tfds]'") from None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except (tfds.core.registered.DatasetNotFoundError, ValueError) as err:
        raise UsageError(f"dataset='tfds:{name}': {str(err).splitlines()[0]}") from None
    from keras_ae import quiet

    if not quiet.stderr_isatty():  # a log file or pipe: no redrawn bars (the error line says what failed)
        tfds.disable_progress_bar()
    try:
        root = getattr(builder, "_data_dir_root", None) or pathlib.Path(builder.data_dir).parents[1]
        with few_retries(), _tidy_on_failure(pathlib.Path(root)):  # the data folder, for a set with configs too
            builder.download_and_prepare()
    except OSError as err:  # requests' connection errors are OSErrors
        raise DownloadError(f"cannot download tfds:{name}: {str(err).splitlines()[0]}") from None
    info = builder.info
    key = _image_feature(info, name)
    height, width, native_channels = info.features[key].shape
    channels = channels or native_channels or 1
    check_options(channels, value_range)
    if image_size is None:
        if height is None or width is None:
            raise UsageError(f"dataset='tfds:{name}' has images of varying size: give image_size=N")
        image_size = (height, width)
    splits = list(info.splits) or ["train", "test"]  # no split metadata (e.g. tfds.testing.mock_data)
    train_split = "train" if "train" in splits else splits[0]
    test_split = "test" if "test" in splits else ("validation" if "validation" in splits else None)
    if test_split is None:  # no held-out split: keep the last 10% of the training split
        train_split, test_split = f"{train_split}[:90%]", f"{train_split}[90%:]"
    label_key = "label" if "label" in info.features else None

    def image_of(example):
        return tf.ensure_shape(scale(to_channels(example[key], channels), image_size, value_range),
                               (*image_size, channels))

    # With a limit, read the files in order and keep the first N (the same N every epoch).
    train = builder.as_dataset(split=train_split, shuffle_files=not train_limit,
                               read_config=tfds.ReadConfig(shuffle_seed=seed))
    train_size = available = _count(info, builder, train_split)
    if train_limit:
        train, train_size = train.take(train_limit), min(train_limit, train_size)
    train = train.map(image_of, num_parallel_calls=tf.data.AUTOTUNE)
    test = builder.as_dataset(split=test_split, shuffle_files=False)
    x_test = collect(test.map(image_of, num_parallel_calls=4), test_limit)
    y_test = collect(test.map(lambda ex: ex[label_key]), test_limit) if label_key else None
    nbytes = train_size * image_size[0] * image_size[1] * channels * 4
    return StreamDataset(
        train, train_size, x_test, y_test,
        info={"name": f"tfds:{name}", "source": f"tensorflow-datasets {name} {info.version}",
              "value_range": value_range, "streamed": True, "train_split": train_split,
              "test_split": test_split, "train_size": int(available),
              "test_size": len(x_test) if len(x_test) < test_limit else _count(info, builder, test_split),
              "image_size": list(image_size), "channels": channels},
        cacheable=nbytes < CACHE_LIMIT_BYTES,
    )


def load_prefixed_tfds(name: str, value_range: str = "0,1", image_size: tuple[int, int] | None = None,
                       channels: int | None = None, seed: int = 0):
    """``tfds:NAME`` decoded into memory (tensorflow-datasets, optional extra)."""
    size = tuple(image_size) if image_size else None
    return stream_tfds(name, image_size=size, channels=channels, value_range=value_range, seed=seed).to_memory()
