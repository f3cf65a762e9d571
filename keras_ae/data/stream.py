"""Datasets read as tf.data streams instead of NumPy arrays: image folders larger than memory, TFDS.

`stream_folder("folder:PATH")` decodes image files on the fly (only the file names are held in
memory); `keras_ae.data.tfds_stream.stream_tfds("tfds:NAME")` reads any image dataset of tensorflow-datasets
(optional extra: ``pip install 'keras-ae[tfds]'``). Both return a `StreamDataset`: the training images as a
`tf.data.Dataset` of single images scaled like every other loader, and at most `test_limit` test
images in memory for validation, the final metrics and the pictures.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
from typing import Any

import numpy as np
import tensorflow as tf

from keras_ae.data.base import VALUE_RANGES, Dataset
from keras_ae.data.folder import check_memory, list_images
from keras_ae.errors import UsageError
from keras_ae.quiet import silenced_fd2

# Formats tf.io.decode_image reads as still images.
STREAM_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
TEST_LIMIT = 10_000
CACHE_LIMIT_BYTES = 1 << 30  # decoded training sets below this are worth caching in memory


@dataclasses.dataclass
class StreamDataset:
    """Training images streamed, test images in memory.

    ``train`` yields float32 images (height, width, channels) in [0, 1] (or [-1, 1]); ``train_size``
    is the number of training images; ``cacheable`` says whether caching the decoded training set in
    memory after the first epoch is worth it by default (TFDS sets below 1 GiB; never a folder).
    """

    train: tf.data.Dataset
    train_size: int
    x_test: np.ndarray
    y_test: np.ndarray | None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    cacheable: bool = False
    files: Any = ()  # the streamed training files of a folder (their names), to name one that cannot be decoded

    def undecodable(self) -> UsageError | None:
        """After decoding failed while training: a UsageError naming the first training file that cannot be
        decoded (each is decoded again on its own), or None when every file decodes (or the data are no folder)."""
        return undecodable(self.files, int(self.info.get("channels", 1)))

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.x_test.shape[1:])

    def to_memory(self, limit: int | None = None) -> Dataset:
        """Decode (the first `limit`) training images into an in-memory `Dataset` (training labels: None)."""
        x_train = collect(self.train, self.train_size if limit is None else limit)
        return Dataset(x_train, None, self.x_test, self.y_test,
                       info={**self.info, "streamed": False, "train_size": int(len(x_train))})


def scale(images: tf.Tensor, image_size: tuple[int, int] | None, value_range: str) -> tf.Tensor:
    """uint8 image(s) -> float32 in [0, 1] or [-1, 1], resized (bilinear, antialiased, like PIL) if asked."""
    x = tf.cast(images, tf.float32)
    if image_size is not None and tuple(x.shape[-3:-1]) != tuple(image_size):
        x = tf.image.resize(x, image_size, method="bilinear", antialias=True)
    x = tf.clip_by_value(x, 0.0, 255.0) / 255.0
    return x * 2.0 - 1.0 if value_range == "-1,1" else x


def to_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """Image(s) with `channels` channels: RGB(A) to grey by luminance, grey to RGB by repetition."""
    have = image.shape[-1]
    if have == channels:
        return image
    if channels == 1 and have in (3, 4):
        return tf.cast(tf.round(tf.image.rgb_to_grayscale(image[..., :3])), image.dtype)
    if channels == 3 and have == 1:
        return tf.image.grayscale_to_rgb(image)
    raise UsageError(f"cannot convert images of {have} channels to {channels}")


def check_options(channels: int, value_range: str) -> None:
    """A UsageError for channels other than 1 or 3, or a value range other than VALUE_RANGES."""
    if channels not in (1, 3):
        raise UsageError(f"channels must be 1 or 3, received {channels}")
    if value_range not in VALUE_RANGES:
        raise UsageError(f"value_range must be '0,1' or '-1,1', received {value_range!r}")


def collect(ds: tf.data.Dataset, limit: int) -> np.ndarray:
    """The first `limit` elements of a dataset of arrays, stacked into one NumPy array."""
    batches = [np.asarray(b) for b in ds.take(limit).batch(1024).as_numpy_iterator()]
    return np.concatenate(batches) if batches else np.zeros((0,), dtype=np.float32)


def _decode_file(path, channels: int) -> tf.Tensor:
    """One image file decoded as tf.io reads it for streaming (uint8, its own size)."""
    return tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False, dtype=tf.uint8)


def undecodable(paths, channels: int) -> UsageError | None:
    """A UsageError naming the first of `paths` that tf.io cannot decode (each decoded on its own: a search made
    only after decoding them together failed, as TensorFlow's error names no file), or None when all decode.
    The message says why, and whether PIL reads the file (then the folder loads into memory without --stream)."""
    from PIL import Image

    with silenced_fd2():  # libjpeg writes its complaints straight to stderr
        for path in paths:
            try:
                _decode_file(path, channels)
            except tf.errors.InvalidArgumentError as err:
                # "{{function_node ...}} jpeg::Uncompress failed. Invalid JPEG data or crop window. [Op:DecodeImage]"
                reason = re.sub(r"\{\{.*?\}\}|\[Op:.*?\]|\s+name:\s*$", "", err.message.strip().splitlines()[-1])
                reason = reason.strip(" .")
                break
        else:
            return None
    path = os.fsdecode(path)  # the name as the file system gives it (bytes while streaming)
    try:
        with Image.open(path) as img:
            img.load()
            mode = img.mode
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # PIL cannot read it either: broken
        return UsageError(f"cannot decode image {path} while streaming ({reason}); the file is broken or no image")
    return UsageError(f"cannot decode image {path} while streaming ({reason}; a {mode} image that TensorFlow "
                      "cannot read): load the folder into memory instead (without --stream) or convert the image")


def stream_folder(
    folder: str | pathlib.Path,
    image_size: tuple[int, int] = (28, 28),
    channels: int = 1,
    test_fraction: float = 0.1,
    value_range: str = "0,1",
    seed: int = 0,
    test_limit: int = TEST_LIMIT,
    train_limit: int | None = None,
) -> StreamDataset:
    """Stream every image below `folder`, decoding files as training reads them.

    The train/test split is the one `load_folder` makes (same seed, same files). Training files are
    reshuffled every epoch (by name, so the order is a full permutation at no memory cost) and decoded
    in parallel; resizing is bilinear with antialiasing, close to the PIL resize of `load_folder`.

    Args:
        test_limit: at most this many test images are decoded into memory.
        train_limit: train on only the first this many training images (of the seeded split).

    Raises:
        UsageError: missing folder, no images, or a format tf.io cannot decode (.tif, .gif, ...).
    """
    check_options(channels, value_range)
    files = list_images(folder)
    odd = [p for p in files if p.suffix.lower() not in STREAM_SUFFIXES]
    if odd:
        raise UsageError(f"cannot stream {odd[0]} ({len(odd)} such files): streaming reads "
                         f"{', '.join(sorted(STREAM_SUFFIXES))}; load the folder into memory instead")
    root = pathlib.Path(folder)
    classes = sorted({p.parent.relative_to(root).as_posix() for p in files})
    labels = np.array([classes.index(p.parent.relative_to(root).as_posix()) for p in files], dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(files))
    n_test = max(1, int(round(test_fraction * len(files)))) if len(files) > 1 else 0
    test, train = order[:n_test], order[n_test:]
    if len(train) == 0:
        train = test
    available = (len(train), len(test))  # the folder's own sizes, recorded beside what a run keeps of them
    train = train[:train_limit]
    # as bytes: a name that is not UTF-8 (bytes Linux allows) has no text TensorFlow can take, but its bytes open it
    names = np.array([os.fsencode(p) for p in files], dtype=object)

    def decode(path):
        image = scale(_decode_file(path, channels), image_size, value_range)
        return tf.ensure_shape(image, (*image_size, channels))

    train_ds = (tf.data.Dataset.from_tensor_slices(names[train])
                .shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
                .map(decode, num_parallel_calls=tf.data.AUTOTUNE))
    kept = test[:test_limit]
    # the test images are held in memory, streamed or not
    check_memory(len(kept), image_size, channels, "choose a smaller image size, or keep fewer test images "
                 "(--test-size)")
    with silenced_fd2():  # libjpeg writes its complaints (a CMYK JPEG) straight to stderr, from any decoding thread
        try:
            x_test = collect(tf.data.Dataset.from_tensor_slices(names[kept]).map(decode, num_parallel_calls=4),
                              len(kept))
        except tf.errors.InvalidArgumentError as err:
            found = undecodable(names[kept], channels)  # TensorFlow's error names no file
            raise found or UsageError(f"cannot decode an image below {root}: {err.message.splitlines()[0]}") from None
    return StreamDataset(
        train_ds, int(len(train)), x_test, labels[kept],
        info={"name": f"folder:{root}", "source": str(root), "value_range": value_range, "streamed": True,
              "classes": classes, "train_size": int(available[0]), "test_size": int(available[1]),
              "image_size": list(image_size), "channels": channels},
        cacheable=False,  # a folder is streamed to keep memory flat: never cache it in memory unasked
        files=names[train],
    )


def load_stream(name: str, value_range: str = "0,1", image_size: tuple[int, int] | None = None,
                channels: int | None = None, seed: int = 0, test_limit: int = TEST_LIMIT,
                train_limit: int | None = None) -> StreamDataset:
    """Stream `folder:PATH` or `tfds:NAME`; raises UsageError for other names (they load into memory)."""
    from keras_ae.data.registry import PREFIXES, prefixed
    from keras_ae.registry import resolve

    found = prefixed(name)
    if found is None or not found[0].stream:
        names = " or ".join(prefix + entry.placeholder for prefix, entry in PREFIXES.items() if entry.stream)
        raise UsageError(f"dataset={name!r} cannot be streamed (stream {names})")
    entry, rest = found
    return resolve(entry.stream)(rest, image_size=image_size, channels=channels, value_range=value_range, seed=seed,
                                 test_limit=test_limit, train_limit=train_limit)


def stream_prefixed_folder(path: str, image_size: tuple[int, int] | None = None, channels: int | None = None,
                           **options) -> StreamDataset:
    """`stream_folder` with the folder defaults of ``folder:PATH`` (28x28, grey)."""
    return stream_folder(path, image_size=image_size or (28, 28), channels=channels or 1, **options)
