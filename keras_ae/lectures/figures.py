"""Figures of the 5x7 character exercise: each glyph drawn at its 2-D code."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.patches import Rectangle

from keras_ae.figures import as_image, save_figure, subplots


def glyph_scatter(codes: np.ndarray, images: np.ndarray, names: Sequence[str], path: str | os.PathLike,
                  extra: dict[str, tuple[np.ndarray, np.ndarray]] | None = None, title: str = "Latent space",
                  size: float | None = None) -> str:
    """Draw each small image at its 2-D code with its name beside it.

    `extra` maps a caption to (code, image) of decoded points that are not in the data (drawn in red).
    """
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)[:, :2]
    points = codes if not extra else np.vstack([codes, *[np.reshape(c, (1, -1))[:, :2] for c, _ in
                                                         extra.values()]])
    span = np.ptp(points, axis=0).max() or 1.0
    size = size or 0.055 * span
    fig, ax = subplots(figsize=(7.5, 7.0))

    def put(code, image, label, colour):
        img = as_image(image)
        h, w = img.shape[:2]
        half_w, half_h = size * w / max(h, w) / 2, size * h / max(h, w) / 2
        x, y = code[0], code[1]
        cmap = "Reds" if colour == "red" else "gray_r"
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1, extent=(x - half_w, x + half_w, y - half_h, y + half_h),
                  interpolation="nearest", zorder=2)
        ax.add_patch(Rectangle((x - half_w, y - half_h), 2 * half_w, 2 * half_h, fill=False,
                                   edgecolor=colour, linewidth=0.6, zorder=3))
        ax.annotate(label, (x + half_w, y + half_h), fontsize=8, color=colour, zorder=4 if colour == "black" else 5,
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        # a white box: a name stays readable where glyphs crowd (codes that lie close together)

    for code, image, name in zip(codes, images, names, strict=True):
        put(code, image, name, "black")
    for label, (code, image) in (extra or {}).items():
        put(np.reshape(code, -1), image, label, "red")
    pad = 0.08 * span
    ax.set_xlim(points[:, 0].min() - pad, points[:, 0].max() + pad)
    ax.set_ylim(points[:, 1].min() - pad, points[:, 1].max() + pad)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title)
    ax.grid(alpha=0.25)
    return save_figure(fig, path)
