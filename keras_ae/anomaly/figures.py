"""Figures of the one-class runs: score histograms, the confusion matrix, the most and least anomalous images."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from keras_ae.figures import as_image, save_figure, subplots


def score_histograms(panels: Sequence[tuple[str, np.ndarray, np.ndarray, float | None]],
                     path: str | os.PathLike, class_names: tuple[str, str] = ("normal", "anomaly"),
                     title: str | None = None, rule: str | None = None) -> str:
    """One histogram panel per (title, scores, labels 0/1, threshold or None), normal vs anomaly overlaid
    (where they overlap the colours mix); the threshold's legend entry gives its value and `rule`.

    Scores above the 99th percentile are drawn in the last bin, so one extreme image does not squeeze
    the rest into a few bins.
    """
    fig, axes = subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (name, scores, labels, threshold) in zip(axes[0], panels, strict=True):
        scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
        top = np.percentile(scores, 99)
        clipped = scores > top
        scores = np.minimum(scores, top)
        bins = np.histogram_bin_edges(scores, bins=40)
        for value, colour in ((0, "tab:blue"), (1, "tab:red")):
            ax.hist(scores[labels == value], bins=bins, alpha=0.55, color=colour,
                    label=f"{class_names[value]}, n={int((labels == value).sum())}")
        if threshold is not None:  # one far beyond the scores (a value rule's 1e308) is drawn at the chart's edge
            span = bins[-1] - bins[0]
            shown = float(np.clip(threshold, bins[0] - span, bins[-1] + span))
            ax.axvline(shown, color="black", linestyle="--", label=f"threshold {threshold:.4g}" + (
                f" ({rule})" if rule else "") + ("" if shown == threshold else ", off the chart"))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("anomaly score" + (f" ({int(clipped.sum())} above {top:.3g} in the last bin)"
                                         if clipped.any() else ""))
        ax.set_ylabel("images")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def confusion_matrix(confusion: dict[str, int], path: str | os.PathLike,
                     class_names: tuple[str, str] = ("normal", "anomaly"),
                     title: str = "Confusion matrix") -> str:
    """2x2 confusion matrix from {"tn", "fp", "fn", "tp"}: rows true class, columns predicted."""
    table = np.array([[confusion["tn"], confusion["fp"]], [confusion["fn"], confusion["tp"]]])
    fig, ax = subplots(figsize=(4.2, 3.8))
    ax.imshow(table, cmap="Blues")
    for (r, c), value in np.ndenumerate(table):
        ax.text(c, r, str(value), ha="center", va="center", fontsize=14,
                color="white" if value > table.max() / 2 else "black")
    ax.set_xticks([0, 1], [f"pred. {n}" for n in class_names])
    ax.set_yticks([0, 1], [f"true {n}" for n in class_names])
    ax.set_title(title)
    return save_figure(fig, path)


def ranked_images(groups: Sequence[tuple[str, Sequence[tuple[str, np.ndarray]], np.ndarray, np.ndarray]],
                  path: str | os.PathLike, class_names: tuple[str, str] = ("normal", "anomaly"),
                  title: str = "Test images by anomaly score (above each: its score and true class)") -> str:
    """One block of rows per (title, rows, scores, labels 0/1): `rows` is a list of (row label, images), the
    images first (each captioned with its score and true class), then what goes with them (reconstructions,
    nearest normal images), column by column."""
    n_cols = max(len(rows[0][1]) for _, rows, _, _ in groups)
    n_rows = [len(rows) for _, rows, _, _ in groups]
    fig, axes = subplots(sum(n_rows), n_cols, figsize=(1.15 * n_cols, 1.45 * sum(n_rows) + 0.7), squeeze=False)
    first = 0
    for (name, rows, scores, labels), count in zip(groups, n_rows):
        for r, (row_label, images) in enumerate(rows):
            for c in range(n_cols):
                ax = axes[first + r, c]
                ax.set_xticks([])
                ax.set_yticks([])
                if c >= len(images):
                    ax.axis("off")
                    continue
                ax.imshow(as_image(images[c]), cmap="gray", vmin=0, vmax=1)
                if r == 0:
                    ax.set_title(f"{scores[c]:.3g}\n{class_names[int(labels[c])]}", fontsize=7,
                                 color="tab:red" if labels[c] else "tab:blue")
            axes[first + r, 0].set_ylabel(f"{name}\n{row_label}" if r == 0 else row_label, fontsize=8)
        first += count
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=0.2)
    return save_figure(fig, path)
