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
    one_d = points.shape[1] == 1
    if one_d:  # a code of one number: the glyphs at their code, stacked upwards in its order
        rank = np.argsort(np.argsort(points[:, 0], kind="stable"), kind="stable")
        points = np.column_stack([points[:, 0], rank * (np.ptp(points[:, 0]) or 1.0) / max(len(points) - 1, 1)])
    span = np.ptp(points, axis=0).max() or 1.0
    size = size or 0.055 * span
    fig, ax = subplots(figsize=(7.5, 7.0))

    boxes, labels = [], []

    def put(code, image, label, colour):
        img = as_image(image)
        h, w = img.shape[:2]
        half_w, half_h = size * w / max(h, w) / 2, size * h / max(h, w) / 2
        x, y = code[0], code[1]
        cmap = "Reds" if colour == "red" else "gray_r"
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1, extent=(x - half_w, x + half_w, y - half_h, y + half_h),
                  interpolation="nearest", zorder=2)
        boxes.append(ax.add_patch(Rectangle((x - half_w, y - half_h), 2 * half_w, 2 * half_h, fill=False,
                                            edgecolor=colour, linewidth=0.6, zorder=3)))
        # a white box: a name stays readable where it must lie over another glyph
        text = ax.text(x + half_w, y + half_h, label, fontsize=8, color=colour, zorder=4 if colour == "black" else 5,
                       parse_math=False,  # a glyph named "$$" is its name, not maths
                       bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        labels.append((text, x, y, half_w, half_h))

    for code, image, name in zip(points[:len(codes)], images, names, strict=True):
        put(code, image, name, "black")
    for code, (label, (_, image)) in zip(points[len(codes):], (extra or {}).items(), strict=True):
        put(code, image, label, "red")
    pad = 0.08 * span
    ax.set_xlim(points[:, 0].min() - pad, points[:, 0].max() + pad)
    ax.set_ylim(points[:, 1].min() - pad, points[:, 1].max() + pad)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("order along z[0]" if one_d else "z[1]")
    ax.set_title(title)
    ax.grid(alpha=0.25)
    place_labels(fig, ax, labels, boxes)
    return save_figure(fig, path)


# Where a glyph's name may go, tried in this order: (x side, y side, horizontal and vertical alignment); a side of
# +1 is the glyph's right or top edge, 0 its centre.
_LABEL_PLACES = [(1, 1, "left", "bottom"), (-1, 1, "right", "bottom"), (1, -1, "left", "top"),
                 (-1, -1, "right", "top"), (1, 0, "left", "center"), (-1, 0, "right", "center"),
                 (0, 1, "center", "bottom"), (0, -1, "center", "top")]


def place_labels(fig, ax, labels: list, boxes: list) -> None:
    """Put each name at the corner or side of its glyph where it covers the least of the other names and glyphs
    already placed (greedy, in drawing order), so names stay readable where codes crowd together."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()  # to measure the names as they will be drawn
    ax.apply_aspect()  # the glyphs' equal aspect shapes the axes only when drawn: measure the drawn shape
    taken = [box.get_window_extent(renderer) for box in boxes]
    frame = ax.get_window_extent(renderer)

    def overlap(a, b) -> float:
        return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))

    for i, (text, x, y, half_w, half_h) in enumerate(labels):
        best = None
        for sx, sy, ha, va in _LABEL_PLACES:
            text.set_position((x + sx * half_w, y + sy * half_h))
            text.set_ha(ha)
            text.set_va(va)
            extent = text.get_window_extent(renderer)
            outside = extent.width * extent.height - overlap(extent, frame)
            cost = sum(overlap(extent, other) for j, other in enumerate(taken) if j != i) + 10 * outside
            if best is None or cost < best[0]:
                best = (cost, (sx, sy, ha, va), extent)
            if cost == 0:
                break
        _, (sx, sy, ha, va), extent = best
        text.set_position((x + sx * half_w, y + sy * half_h))
        text.set_ha(ha)
        text.set_va(va)
        taken.append(extent)
