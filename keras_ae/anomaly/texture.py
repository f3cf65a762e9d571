"""Local texture energy: where in an image its detail lies, and at which scale.

Each image is split into band-pass octaves (a difference-of-Gaussians stack: the image less its blur of 0.5
pixels, then the differences of successive blurs of 0.5, 1, 2 and 4 pixels; the finest detail, then coarser and
coarser structure), and the energy of each band is averaged over small square cells of the image. The log
energies of every band and cell make one vector per image, the classic texture-energy description of an image
(Laws 1980; the bands of a Laplacian pyramid, Burt & Adelson 1983, without its downsampling). The `texture`
score is the mean Euclidean distance of that vector to those of the k nearest normal training images: an image
whose detail is missing (haze, an opacity over a lung), added (noise, a scratch) or moved scores high.

The image is standardised first (zero mean, unit variance over its pixels and channels), so the energies are
relative to its own contrast. `FLOOR` is added to every energy before the log: it keeps the log of a flat
background finite and sets the smallest energy that counts (detail at about a thousandth of the image's
contrast). Energies far below it read alike; energies near it, such as the faint tails of a blur reaching into
an empty background, still count a little, so the floor is a setting of the score, not only a guard
(docs/images.md gives the figures with another floor).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_ae.anomaly.scores import as_images, blur_images, standardize_images
from keras_ae.errors import UsageError

OCTAVES = (0.5, 1.0, 2.0, 4.0)  # Gaussian blurs (pixels) whose differences make the bands
BLOCK = 2**22  # pixels (images x height x width x channels) turned into bands at once
FLOOR = 1e-6  # added to every band energy (of a unit-variance image) before the log: a guard against log 0


def check_cell(cell: Any, height: int, width: int) -> int:
    """`cell` as an int, or a UsageError naming it: a whole number of pixels from 1 to the images' smaller side;
    also a UsageError for images under 2 x 2 pixels, which have no texture to measure."""
    from keras_ae.models.arguments import is_int  # no Keras: the models package loads its builders lazily

    if not is_int(cell) or cell < 1:
        raise UsageError(f"cell={cell!r} must be a whole number of pixels, at least 1", param="cell")
    if min(height, width) < 2:
        raise UsageError(f"the texture score needs images of at least 2 x 2 pixels, received {height} x {width}")
    if cell > min(height, width):
        raise UsageError(f"cell={cell} is larger than the images' smaller side ({min(height, width)} pixels)",
                         param="cell")
    return int(cell)


def cell_edges(size: int, cell: int) -> np.ndarray:
    """The first pixel of every cell along a side of `size` pixels; the last cell takes what is left."""
    return np.arange(0, size, cell)


def band_energies(x: np.ndarray, cell: int = 2, octaves: tuple[float, ...] = OCTAVES) -> np.ndarray:
    """Log energy of each image (n, height, width[, channels]) in each band-pass octave, averaged over cells of
    `cell` x `cell` pixels (the last cell of a side not a multiple of `cell` is smaller), per channel: an
    (n, bands x cells x channels) float32 array. Computed a block of images at a time (about `BLOCK` pixels in
    float64 at once), so large images do not need their float64 copies all in memory together."""
    x = np.asarray(x)
    x = as_images(x, "texture", dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    cell = check_cell(cell, x.shape[1], x.shape[2])
    if not len(octaves) or not all(np.isfinite(s) and s > 0 for s in octaves):
        raise ValueError(f"Expected octaves to be blurs of a positive number of pixels, received octaves={octaves!r}")
    per_image = max(1, int(np.prod(x.shape[1:])))
    step = max(1, BLOCK // per_image)
    if not len(x):
        width = len(octaves) * len(cell_edges(x.shape[1], cell)) * len(cell_edges(x.shape[2], cell)) * x.shape[3]
        return np.zeros((0, width), np.float32)
    return np.concatenate([_block_energies(x[i:i + step], cell, octaves) for i in range(0, len(x), step)])


def _block_energies(x: np.ndarray, cell: int, octaves: tuple[float, ...]) -> np.ndarray:
    x = standardize_images(x.astype(np.float64))
    rows, cols = cell_edges(x.shape[1], cell), cell_edges(x.shape[2], cell)
    counts = np.outer(np.diff(np.append(rows, x.shape[1])), np.diff(np.append(cols, x.shape[2])))[None, :, :, None]
    parts, previous = [], x
    for sigma in octaves:
        blurred = blur_images(x, sigma)
        band = (previous - blurred) ** 2
        energy = np.add.reduceat(np.add.reduceat(band, rows, axis=1), cols, axis=2) / counts
        parts.append(np.log(energy + FLOOR).reshape(len(x), -1))
        previous = blurred
    return np.hstack(parts).astype(np.float32) if parts else np.zeros((len(x), 0), np.float32)
