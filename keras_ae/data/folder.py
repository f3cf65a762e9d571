"""A user's own images: every image file below a folder, resized to one size, grey or RGB."""

from __future__ import annotations

import os
import pathlib
import warnings

import numpy as np

from keras_ae.data.base import Dataset, pixel_scale, scale_images
from keras_ae.errors import UsageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def list_images(folder: str | pathlib.Path) -> list[pathlib.Path]:
    """Image files below `folder`, sorted; raises UsageError when the folder is missing or has none."""
    root = pathlib.Path(folder)
    if not root.is_dir():
        raise UsageError(f"image folder {root} " + ("is a file, not a folder" if root.exists() else "does not exist")
                         + f" (folder:PATH wants a folder of images, {', '.join(sorted(IMAGE_SUFFIXES))}, "
                         "in sub-folders per class if labelled)")
    # hidden files and folders are no images of the set: ".ipynb_checkpoints/" (Jupyter's copies, which would make a
    # class of their own), ".cache/", "._name.png" (macOS's record of a file's attributes on a USB stick, in a zip)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not files:
        raise UsageError(f"image folder {root} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def read_image(path: pathlib.Path, image_size: tuple[int, int], channels: int) -> np.ndarray:
    """One image as uint8 (height, width, channels), resized with bilinear filtering.

    16- and 32-bit integer grey images are scaled to 8 bits; 32-bit float grey images (TIFF mode "F") are read like
    float pixels anywhere in keras-ae (`pixel_scale`): values in [0, 1] as intensities, values up to 255 as
    8-bit levels, anything else (or NaN) refused naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # a large image (over 89 million pixels) is read like any other, when it is opened and when its pixels
            # load (TIFF checks again); PIL still refuses one over twice that
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                    # 16- or 32-bit grey: PIL's convert("L") clips every value above 255; scale to 8 bits instead
                    wide = np.asarray(img, dtype=np.float64)
                    if wide.min() < 0:
                        raise UsageError(f"image {path} holds negative pixels (down to {wide.min():g}); the images "
                                         "must be levels of 0 or more")
                    top = 65535.0 if img.mode.startswith("I;16") or wide.max() <= 65535 else float(wide.max())
                    img = Image.fromarray(np.clip(np.round(wide / top * 255.0), 0, 255).astype(np.uint8), mode="L")
                elif img.mode == "F":  # 32-bit float grey: convert("L") would clip it at 255 too
                    img = Image.fromarray(float_to_levels(np.asarray(img), path), mode="L")
                elif img.mode == "LAB" and channels == 1:  # PIL converts no LAB image to grey: its L is the lightness
                    img = img.getchannel("L")
                img = img.convert("L" if channels == 1 else "RGB")
                img = img.resize((image_size[1], image_size[0]), Image.BILINEAR)
                array = np.asarray(img, dtype=np.uint8)
    except UsageError:
        raise
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError, SyntaxError) as err:
        # a damaged file: PIL raises ValueError (a truncated header chunk) and SyntaxError (a broken PNG) too
        raise UsageError(f"cannot read image {path}: {str(err) or type(err).__name__}") from None
    return array.reshape(image_size[0], image_size[1], channels)


def float_to_levels(pixels: np.ndarray, path: pathlib.Path) -> np.ndarray:
    """Float grey pixels as uint8 levels 0..255 (`pixel_scale`); a UsageError naming `path` when they are not
    numbers, or in neither [0, 1] nor 0..255."""
    if not np.isfinite(pixels).all():
        raise UsageError(f"image {path} holds NaN or infinite pixels; the images must be numbers")
    try:
        scale = pixel_scale(pixels)
    except ValueError as err:
        raise UsageError(f"image {path} holds {err}; convert it (e.g. to 8 or 16 bits)") from None
    return np.clip(np.round(pixels.astype(np.float64) / scale * 255.0), 0, 255).astype(np.uint8)


def machine_memory() -> int | None:
    """This machine's physical memory in bytes (None where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def _size(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def check_memory(n_images: int, image_size: tuple[int, int], channels: int,
                 advice: str = "choose a smaller image size, or stream the folder (--stream)") -> None:
    """A UsageError before any image is read when holding `n_images` at `image_size` (as 8-bit levels, then float32
    for training: 5 bytes a value) needs more memory than this machine has: the system would stop the process
    without a word."""
    memory = machine_memory()
    needed = 5 * n_images * image_size[0] * image_size[1] * channels
    if memory is not None and needed > memory:
        raise UsageError(f"image_size {image_size[0]}x{image_size[1]} for {n_images:,} image(s) needs about "
                         f"{_size(needed)}, more than this machine's {_size(memory)}; {advice}", param="image_size")


def load_folder(
    folder: str | pathlib.Path,
    image_size: tuple[int, int] = (28, 28),
    channels: int = 1,
    test_fraction: float = 0.1,
    value_range: str = "0,1",
    seed: int = 0,
) -> Dataset:
    """Load every image below `folder`; sub-folder names become integer labels (sorted).

    Args:
        image_size: (height, width) every image is resized to.
        channels: 1 for grey, 3 for RGB.
        test_fraction: share of images held out as the test set (at least one image).
    """
    if channels not in (1, 3):
        raise UsageError(f"channels must be 1 or 3, received {channels}")
    files = list_images(folder)
    root = pathlib.Path(folder)
    classes = sorted({p.parent.relative_to(root).as_posix() for p in files})
    labels = np.array([classes.index(p.parent.relative_to(root).as_posix()) for p in files], dtype=np.int64)
    check_memory(len(files), image_size, channels)
    images = np.stack([read_image(p, image_size, channels) for p in files])
    order = np.random.default_rng(seed).permutation(len(files))
    n_test = max(1, int(round(test_fraction * len(files)))) if len(files) > 1 else 0
    test, train = order[:n_test], order[n_test:]
    if len(train) == 0:
        train = test
    return Dataset(
        scale_images(images[train], value_range), labels[train],
        scale_images(images[test], value_range), labels[test],
        info={"name": f"folder:{root}", "source": str(root), "value_range": value_range,
              "classes": classes, "train_size": int(len(train)), "test_size": int(len(test)),
              "image_size": list(image_size), "channels": channels},
    )


def load_prefixed(path: str, value_range: str = "0,1", image_size: tuple[int, int] | None = None,
                  channels: int | None = None, seed: int = 0) -> Dataset:
    """``folder:PATH`` loaded into memory, with its defaults (28x28, grey)."""
    return load_folder(path, image_size=image_size or (28, 28), channels=channels or 1, value_range=value_range,
                       seed=seed)
