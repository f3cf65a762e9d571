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
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
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


# --- anomaly detection -------------------------------------------------------------------------

def score_histograms(panels: Sequence[tuple[str, np.ndarray, np.ndarray, float | None]],
                     path: str | os.PathLike, class_names: tuple[str, str] = ("normal", "anomaly"),
                     title: str | None = None) -> str:
    """One histogram panel per (title, scores, labels 0/1, threshold or None), normal vs anomaly overlaid.

    Scores above the 99th percentile are drawn in the last bin, so one extreme image does not squeeze
    the rest into a few bins.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (name, scores, labels, threshold) in zip(axes[0], panels, strict=True):
        scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
        top = np.percentile(scores, 99)
        clipped = scores > top
        scores = np.minimum(scores, top)
        bins = np.histogram_bin_edges(scores, bins=40)
        for value, colour in ((0, "tab:blue"), (1, "tab:red")):
            ax.hist(scores[labels == value], bins=bins, alpha=0.55, color=colour,
                    label=f"{class_names[value]} ({int((labels == value).sum())})")
        if threshold is not None:
            ax.axvline(threshold, color="black", linestyle="--", label="threshold")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("anomaly score" + (f" ({int(clipped.sum())} above {top:.3g} in the last bin)"
                                         if clipped.any() else ""))
        ax.set_ylabel("images")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def roc_curves(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], path: str | os.PathLike,
               title: str = "ROC curve") -> str:
    """ROC curves of (name, scores, labels 0/1) with the area under each in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = plt.subplots(figsize=(5.0, 4.6))
    for name, scores, labels in curves:
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def confusion_matrix(confusion: dict[str, int], path: str | os.PathLike,
                     class_names: tuple[str, str] = ("normal", "anomaly"),
                     title: str = "Confusion matrix") -> str:
    """2x2 confusion matrix from {"tn", "fp", "fn", "tp"}: rows true class, columns predicted."""
    table = np.array([[confusion["tn"], confusion["fp"]], [confusion["fn"], confusion["tp"]]])
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(table, cmap="Blues")
    for (r, c), value in np.ndenumerate(table):
        ax.text(c, r, str(value), ha="center", va="center", fontsize=14,
                color="white" if value > table.max() / 2 else "black")
    ax.set_xticks([0, 1], [f"pred. {n}" for n in class_names])
    ax.set_yticks([0, 1], [f"true {n}" for n in class_names])
    ax.set_title(title)
    return save_figure(fig, path)


def ranked_images(groups: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                  path: str | os.PathLike, class_names: tuple[str, str] = ("normal", "anomaly")) -> str:
    """Rows of images over their reconstructions, one pair of rows per (title, images, reconstructions,
    scores, labels 0/1); each image is captioned with its score and true class."""
    n_cols = max(len(g[1]) for g in groups)
    fig, axes = plt.subplots(2 * len(groups), n_cols, figsize=(1.15 * n_cols, 2.6 * len(groups) + 0.4),
                             squeeze=False)
    for g, (name, images, recons, scores, labels) in enumerate(groups):
        for c in range(n_cols):
            for r, source in enumerate((images, recons)):
                ax = axes[2 * g + r, c]
                ax.set_xticks([])
                ax.set_yticks([])
                if c >= len(images):
                    ax.axis("off")
                    continue
                ax.imshow(_as_image(source[c]), cmap="gray", vmin=0, vmax=1)
                if r == 0:
                    ax.set_title(f"{scores[c]:.3g}\n{class_names[int(labels[c])]}", fontsize=7,
                                 color="tab:red" if labels[c] else "tab:blue")
        axes[2 * g, 0].set_ylabel(f"{name}\nimage", fontsize=8)
        axes[2 * g + 1, 0].set_ylabel("reconstr.", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


# --- latent space, font and experiments (issue 5) ---------------------------------------------------


def image_strip(images: Sequence[np.ndarray], path: str | os.PathLike, captions: Sequence[str] | None = None,
                title: str | None = None, value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """One row of images with a caption under each (an interpolation / concept-vector strip)."""
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(0.95 * n + 0.4, 1.9), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(_as_image(images[i], value_range), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if captions is not None:
            ax.set_xlabel(captions[i], fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def traversal_grid(images: np.ndarray, path: str | os.PathLike, row_labels: Sequence[str],
                   column_values: Sequence[float], title: str | None = None,
                   value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """(rows, steps, h, w[, c]) images: one row per latent dimension, the offset above each column."""
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(0.95 * cols + 0.9, 0.95 * rows + 0.5), squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(_as_image(images[r, c], value_range), cmap="gray", vmin=0, vmax=1)
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
    fig, ax = plt.subplots(figsize=(7.5, 7.0))

    def put(code, image, label, colour):
        img = _as_image(image)
        h, w = img.shape[:2]
        half_w, half_h = size * w / max(h, w) / 2, size * h / max(h, w) / 2
        x, y = code[0], code[1]
        cmap = "Reds" if colour == "red" else "gray_r"
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1, extent=(x - half_w, x + half_w, y - half_h, y + half_h),
                  interpolation="nearest", zorder=2)
        ax.add_patch(plt.Rectangle((x - half_w, y - half_h), 2 * half_w, 2 * half_h, fill=False,
                                   edgecolor=colour, linewidth=0.6, zorder=3))
        ax.annotate(label, (x + half_w, y + half_h), fontsize=8, color=colour, zorder=4)

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


def grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], path: str | os.PathLike,
                 ylabel: str, title: str | None = None) -> str:
    """Bars per category, one colour per series (e.g. wrong pixels per character at each noise level)."""
    n = len(series)
    x = np.arange(len(categories))
    width = 0.8 / max(n, 1)
    fig, ax = plt.subplots(figsize=(min(14.0, max(6.4, 0.12 * len(categories) * max(n, 1) + 1.5)), 4.0))
    for i, (label, values) in enumerate(series.items()):
        ax.bar(x + (i - (n - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(categories)
    ax.set_xlim(-0.6, len(categories) - 0.4)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def correlation_heatmap(matrix: np.ndarray, row_labels: Sequence[str], column_labels: Sequence[str],
                        path: str | os.PathLike, title: str = "|correlation|") -> str:
    """A matrix of values in [0, 1] with each value written in its cell (e.g. latent dims x factors)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(1.2 * matrix.shape[1] + 2.0, 0.6 * matrix.shape[0] + 1.6))
    image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    for (r, c), value in np.ndenumerate(matrix):
        ax.text(c, r, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_xticklabels(column_labels, rotation=20, ha="right")
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_yticklabels(row_labels)
    fig.colorbar(image, ax=ax)
    ax.set_title(title)
    return save_figure(fig, path)


def mean_std_bars(names: Sequence[str], means: Sequence[float], stds: Sequence[float],
                  path: str | os.PathLike, xlabel: str, title: str | None = None) -> str:
    """Horizontal bars of mean +- std, one per configuration (best at the top when sorted by the caller)."""
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8.0, 0.42 * len(names) + 1.4))
    ax.barh(y, means, xerr=stds, capsize=3, color="tab:blue", alpha=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def overlaid_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike,
                    ylabel: str = "loss", title: str | None = None, log: bool = True,
                    epoch_scale: int = 1) -> str:
    """Mean curve (line) +- std (band) per name, all on one axis (e.g. loss per configuration).

    Point i is drawn at epoch (i + 1) * epoch_scale (a Keras epoch may hold several passes over the data).
    """
    fig, ax = plt.subplots(figsize=(7.4, 4.6))
    for name, (mean, std) in curves.items():
        epochs = np.arange(1, len(mean) + 1) * epoch_scale
        (line,) = ax.plot(epochs, mean, label=name, linewidth=1.2)
        ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=1 if len(curves) <= 8 else 2)
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
