"""Figures of the latent space: a 2-D scatter of codes and a traversal grid."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib
import numpy as np

from keras_ae.figures import as_image, save_figure, subplots


def latent_scatter(codes: np.ndarray, labels: np.ndarray | None, path: str | os.PathLike,
                   title: str = "Latent space", label_names: Sequence[str] | None = None,
                   label_title: str = "label") -> str:
    """2-D scatter of codes coloured by label (codes of more dimensions are projected with PCA).

    Up to 10 integer labels get a legend of classes (``label_names[label]`` beside each number, when given; the
    legend titled `label_title`); other labels a colour bar."""
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    xlabel, ylabel = "z[0]", "z[1]"
    if codes.shape[1] > 2 and not np.ptp(codes, axis=0).max() > 0:  # one code (or one code repeated) has no
        # directions to project on: its first two numbers
        codes = codes[:, :2]
    elif codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        codes = PCA(n_components=2, random_state=0).fit_transform(codes)
        xlabel, ylabel = "PC 1", "PC 2"
    elif codes.shape[1] == 1:
        codes = np.column_stack([codes[:, 0], np.zeros(len(codes))])
    fig, ax = subplots(figsize=(6.4, 5.4))
    classes = _few_classes(labels)
    if classes is None:
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="viridis" if labels is not None else None,
                            s=6, alpha=0.8)
        if labels is not None:
            fig.colorbar(points, ax=ax, label=label_title)
    else:
        colours = matplotlib.colormaps["tab10"]
        for i, label in enumerate(classes):
            name = f"{label} {label_names[label]}" if label_names is not None and 0 <= label < len(label_names) \
                else str(label)
            mask = np.asarray(labels).ravel() == label
            ax.scatter(codes[mask, 0], codes[mask, 1], color=colours(i % 10), s=6, alpha=0.8, label=name)
        ax.legend(title=label_title, markerscale=2.5, fontsize="small", loc="best", framealpha=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save_figure(fig, path)


def _few_classes(labels: np.ndarray | None) -> list[int] | None:
    """The sorted distinct labels when they are at most 10 integers, else None (a colour bar suits them)."""
    if labels is None:
        return None
    values = np.asarray(labels).ravel()
    if values.dtype.kind not in "iub":
        return None
    classes = sorted(int(v) for v in np.unique(values))
    return classes if len(classes) <= 10 else None


def traversal_grid(images: np.ndarray, path: str | os.PathLike, row_labels: Sequence[str],
                   column_values: Sequence[float], title: str | None = None,
                   value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """(rows, steps, h, w[, c]) images: one row per latent dimension, the offset above each column."""
    rows, cols = images.shape[:2]
    fig, axes = subplots(rows, cols, figsize=(0.95 * cols + 0.9, 0.95 * rows + 0.5), squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(as_image(images[r, c], value_range), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{column_values[c]:+.1f}", fontsize=9)
        axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=10)
    if title:
        # above the column offsets, whatever the number of rows (bbox_inches="tight" keeps it in the PNG)
        top = axes[0, 0].get_position().y1
        fig.suptitle(title, y=top + 0.35 / fig.get_figheight())
    return save_figure(fig, path)
