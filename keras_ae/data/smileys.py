"""Smileys: procedurally drawn 64x64 RGB faces whose generative factors are known.

Every face is drawn with NumPy from four factors, each drawn uniformly with a fixed seed:

- ``mouth_curve`` in [-1, 1]: frown (-1), straight (0), smile (+1);
- ``eye_size``: eye radius in pixels, 1.5 to 5.5;
- ``face_hue``: hue of the face colour, 0 (red) to 0.33 (green) through orange and yellow;
- ``face_size``: face radius in pixels, 18 to 28 (eyes and mouth scale with it).

Edges are anti-aliased, so every factor changes the pixels smoothly: a VAE with a small code can
learn them, and because they are known we can measure how well each latent dimension tracks one.
"""

from __future__ import annotations

import numpy as np

from keras_ae.data.base import Dataset, to_value_range

SIZE = 64
FACTOR_NAMES = ("mouth_curve", "eye_size", "face_hue", "face_size")
FACTOR_RANGES = {"mouth_curve": (-1.0, 1.0), "eye_size": (1.5, 5.5), "face_hue": (0.0, 1.0 / 3.0),
                 "face_size": (18.0, 28.0)}
BACKGROUND = np.array([0.94, 0.94, 0.94], dtype=np.float32)
INK = np.array([0.12, 0.10, 0.10], dtype=np.float32)

# The train command's preset for `--dataset smileys` (benchmarks/smileys.py measures it over five seeds): a conv
# VAE with the encoder of Burgess et al.'s 64x64 beta-VAE (four 4x4 stride-2 convs, a 256-wide dense layer), a
# spatial broadcast decoder after Watters et al. 2019 (the code tiled over an 8x8 grid with its coordinates,
# two 3x3 convs, then 4x4 stride-2 transposed convs), batch normalisation and LeakyReLU(0.2) after every
# hidden layer, 8 latent dimensions for 4 factors, batch 16; 10 epochs as a plain autoencoder, then 20 as a VAE
# (beta 32, 5-epoch KL warm-up) trained weakly supervised on 2,000 pairs of faces that differ in one factor
# (Ada-GVAE with k = 1 known, `keras_ae.models.weak`).
TRAIN_DEFAULTS = {
    "arch": "conv-vae", "latent_dim": 8, "ae_epochs": 10, "epochs": 20, "batch_size": 16, "beta": 32.0, "kl_warmup": 5,
    "model_options": {"filters": (32, 32, 64, 64), "kernel_size": 4, "dense_units": 256, "decoder_input": "broadcast",
                      "output_layer": "deconv", "normalization": "batch", "activation": "leaky_relu"},
}


def sample_factors(n: int, seed: int = 0) -> np.ndarray:
    """(n, 4) factors in the order of FACTOR_NAMES, uniform over FACTOR_RANGES."""
    rng = np.random.default_rng(seed)
    lows = np.array([FACTOR_RANGES[k][0] for k in FACTOR_NAMES])
    highs = np.array([FACTOR_RANGES[k][1] for k in FACTOR_NAMES])
    return (lows + (highs - lows) * rng.random((n, len(FACTOR_NAMES)))).astype(np.float32)


def _hue_to_rgb(hue: np.ndarray, saturation: float = 0.7, value: float = 0.95) -> np.ndarray:
    """HSV -> RGB for an array of hues in [0, 1) (fixed saturation and value); shape (n, 3)."""
    k = (np.array([5.0, 3.0, 1.0]) + hue[:, None] * 6.0) % 6.0
    return value - value * saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _coverage(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased ink coverage from a signed distance in pixels (negative inside)."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


def draw(factors: np.ndarray) -> np.ndarray:
    """Draw faces for an (n, 4) array of factors; returns float32 (n, 64, 64, 3) in [0, 1]."""
    f = np.asarray(factors, dtype=np.float64)
    curve, eye, hue, radius = (f[:, i, None, None] for i in range(4))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5
    cy = cx = SIZE / 2.0
    dist = np.hypot(yy - cy, xx - cx)[None]

    face = _coverage(dist - radius)
    outline = _coverage(np.abs(dist - radius) - 0.9)

    eye_y, eye_dx = cy - 0.3 * radius, 0.38 * radius
    left = np.hypot(yy - eye_y, xx - (cx - eye_dx))
    right = np.hypot(yy - eye_y, xx - (cx + eye_dx))
    eyes = _coverage(np.minimum(left, right) - eye)

    # Mouth: a parabola through the two corners, its middle moved down (smile) or up (frown).
    half_width = 0.5 * radius
    u = (xx - cx) / half_width
    mouth_y = cy + 0.35 * radius + curve * 0.28 * radius * (1.0 - u**2)
    slope = curve * 0.28 * radius * (-2.0 * u) / half_width
    across = np.abs(yy - mouth_y) / np.sqrt(1.0 + slope**2)
    along = np.maximum(np.abs(u) - 1.0, 0.0) * half_width  # round caps beyond the corners
    mouth = _coverage(np.hypot(across, along) - 1.3)

    colour = _hue_to_rgb(f[:, 2])[:, None, None, :]
    image = BACKGROUND + face[..., None] * (colour - BACKGROUND)
    ink = np.clip(outline + eyes * face + mouth * face, 0.0, 1.0)[..., None]
    image = image + ink * (INK - image)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def make_smileys(n: int, seed: int = 0, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """`n` faces and their factors: (float32 (n, 64, 64, 3) in [0, 1], float32 (n, 4))."""
    factors = sample_factors(n, seed)
    images = np.empty((n, SIZE, SIZE, 3), dtype=np.float32)
    for start in range(0, n, chunk):
        images[start:start + chunk] = draw(factors[start:start + chunk])
    return images, factors


def make_pairs(n: int, seed: int = 0, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """`n` pairs of faces that differ in one factor, chosen at random for each pair, and share the other three
    (the weak supervision of `keras_ae.models.weak`: which factor changed is not given).

    Returns (float32 (n, 2, 64, 64, 3) in [0, 1], float32 (n, 2, 4) factors).
    """
    rng = np.random.default_rng([seed, 1])
    first = sample_factors(n, seed)
    second = first.copy()
    changed = rng.integers(0, len(FACTOR_NAMES), size=n)
    redrawn = sample_factors(n, seed + 1_000_003)
    second[np.arange(n), changed] = redrawn[np.arange(n), changed]
    factors = np.stack([first, second], axis=1)
    images = np.empty((n, 2, SIZE, SIZE, 3), dtype=np.float32)
    for start in range(0, n, chunk):
        for side in (0, 1):
            images[start:start + chunk, side] = draw(factors[start:start + chunk, side])
    return images, factors


def mouth_class(factors: np.ndarray) -> np.ndarray:
    """0 frown, 1 straight, 2 smile: thirds of the mouth curve (used as the class label)."""
    return np.digitize(factors[:, 0], [-1.0 / 3.0, 1.0 / 3.0]).astype(np.int64)


def load_smileys(value_range: str = "0,1", train_size: int = 2000, test_size: int = 500,
                 seed: int = 0, pairs: bool = True) -> Dataset:
    """The smileys dataset: labels are the mouth class, ``info["factors"]`` holds the true factors.

    With `pairs`, the training images are the first faces of `train_size` pairs that differ in one factor
    (`make_pairs`), and ``x_pairs`` holds the pairs for weakly supervised training; without, `train_size`
    independent faces.

    ``info["factors"]`` is ``{"names": [...], "train": (n, 4) array, "test": (m, 4) array}``; the
    training command takes the arrays out of the metadata it writes and reports how each latent
    dimension correlates with each factor.
    """
    x_pairs = None
    if pairs:
        x_pairs, f_pairs = make_pairs(train_size, seed=seed)
        x_pairs, f_train = to_value_range(x_pairs, value_range), f_pairs[:, 0]
        x_train = x_pairs[:, 0]
    else:
        x_train, f_train = make_smileys(train_size, seed=seed)
        x_train = to_value_range(x_train, value_range)
    x_test, f_test = make_smileys(test_size, seed=seed + 1)
    x_test = to_value_range(x_test, value_range)
    return Dataset(
        x_train, mouth_class(f_train), x_test, mouth_class(f_test),
        info={"name": "smileys", "source": "procedurally drawn by keras_ae.data.smileys (seed "
              f"{seed})", "value_range": value_range, "train_size": train_size, "test_size": test_size,
              "labels": "mouth class: 0 frown, 1 straight, 2 smile",
              "label_names": ["frown", "straight", "smile"], "label_title": "mouth class",
              "factors": {"names": list(FACTOR_NAMES), "ranges": FACTOR_RANGES,
                          "train": f_train, "test": f_test}},
        x_pairs=x_pairs, pair_changes=1 if pairs else None,
    )
