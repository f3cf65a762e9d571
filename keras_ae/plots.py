"""Every figure of the package, saved as PNG (Agg backend, so it works without a display)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

if not os.environ.get("DISPLAY") and "inline" not in matplotlib.get_backend().lower():
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from keras_ae.io import atomic_path  # noqa: E402


def save_figure(fig: plt.Figure, path: str | os.PathLike, dpi: int = 110) -> str:
    """Save `fig` atomically as PNG and close it; returns the path."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return str(path)


def _as_image(x: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """(h, w, c) or flat -> something imshow draws: grey (h, w) or RGB (h, w, 3) in [0, 1]."""
    low, high = value_range
    img = (np.asarray(x, dtype=np.float32) - low) / (high - low)
    img = np.clip(img, 0, 1)
    if img.ndim == 1:
        side = int(round(np.sqrt(img.size)))
        img = img.reshape(side, side) if side * side == img.size else img[None, :]
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return img


def image_rows(rows: Sequence[np.ndarray], labels: Sequence[str], path: str | os.PathLike,
               title: str | None = None, value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """A grid with one row per array of images (e.g. originals over reconstructions), labelled on the left."""
    n_rows, n_cols = len(rows), min(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.1 * n_cols + 0.8, 1.15 * n_rows + 0.3), squeeze=False)
    for r, (images, label) in enumerate(zip(rows, labels)):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.imshow(_as_image(images[c], value_range), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def loss_curves(history: dict[str, list[float]], path: str | os.PathLike, title: str = "Loss") -> str:
    """The three curves: loss averaged during each epoch, training loss after it, validation loss."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "o-", label="training loss (during epoch)")
    if history.get("train_loss_after_epoch"):
        ax.plot(epochs, history["train_loss_after_epoch"], "s--", label="training loss (after epoch)")
    if history.get("val_loss"):
        ax.plot(epochs, history["val_loss"], "^-", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def latent_scatter(codes: np.ndarray, labels: np.ndarray | None, path: str | os.PathLike,
                   title: str = "Latent space") -> str:
    """2-D scatter of codes coloured by label (codes of more dimensions are projected with PCA)."""
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    xlabel, ylabel = "z[0]", "z[1]"
    if codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        codes = PCA(n_components=2, random_state=0).fit_transform(codes)
        xlabel, ylabel = "PC 1", "PC 2"
    elif codes.shape[1] == 1:
        codes = np.column_stack([codes[:, 0], np.zeros(len(codes))])
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=6, alpha=0.8)
    if labels is not None:
        fig.colorbar(points, ax=ax, label="label")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save_figure(fig, path)


def image_grid(images: np.ndarray, path: str | os.PathLike, title: str | None = None,
               extent: tuple[float, float, float, float] | None = None,
               value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """Tile a (rows, cols, h, w[, c]) array into one picture (e.g. a 2-D latent manifold)."""
    rows, cols = images.shape[:2]
    tiles = [[_as_image(images[r, c], value_range) for c in range(cols)] for r in range(rows)]
    canvas = np.concatenate([np.concatenate(row, axis=1) for row in tiles], axis=0)
    fig, ax = plt.subplots(figsize=(7, 7 * rows / cols))
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=extent)
    if extent is None:
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def error_histogram(scores: np.ndarray, labels: np.ndarray, threshold: float, path: str | os.PathLike,
                    title: str = "Reconstruction error by class") -> str:
    """Histogram of scores for each class (log-spaced bins, log counts) with the threshold marked."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    positive = scores[scores > 0]
    low = positive.min() if len(positive) else 1e-6
    bins = np.logspace(np.log10(low), np.log10(max(scores.max(), low * 10)), 60)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for value, name, color in ((0, "normal", "tab:blue"), (1, "fraud", "tab:red")):
        chosen = np.clip(scores[labels == value], low, None)
        if len(chosen):
            ax.hist(chosen, bins=bins, alpha=0.6, color=color, label=f"{name} ({len(chosen):,})")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Plain numbers at 1-2-5 steps: readable on the short ranges these errors span.
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("reconstruction error (1 = a typical normal row)")
    ax.set_ylabel("rows")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)


def roc_curve(scores: np.ndarray, labels: np.ndarray, path: str | os.PathLike,
              title: str = "ROC curve") -> str:
    """Receiver operating characteristic of a score against 0/1 labels, with its area."""
    from sklearn import metrics

    fpr, tpr, _ = metrics.roc_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.plot(fpr, tpr, color="tab:blue", label=f"ROC-AUC {metrics.roc_auc_score(labels, scores):.3f}")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate (recall)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return save_figure(fig, path)


def precision_recall_curve(scores: np.ndarray, labels: np.ndarray, path: str | os.PathLike,
                           title: str = "Precision-recall curve") -> str:
    """Precision against recall, with the average precision and the base rate of the positive class."""
    from sklearn import metrics

    precision, recall, _ = metrics.precision_recall_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.plot(recall, precision, color="tab:red",
            label=f"average precision {metrics.average_precision_score(labels, scores):.3f}")
    ax.axhline(np.mean(labels), color="grey", linestyle=":", label=f"base rate {np.mean(labels):.4f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower left")
    return save_figure(fig, path)
