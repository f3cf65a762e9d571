"""Drawing helpers every domain shares: one saved PNG per call, no global state.

Figures are made with `matplotlib.figure.Figure` and saved through its own Agg canvas, so importing
this module selects no backend and opens no window (it works the same in a terminal, a notebook or a
server). Figures of one domain live beside it: `keras_ae.anomaly.figures`, `keras_ae.fraud.figures`,
`keras_ae.latent.figures`, `keras_ae.lectures.figures`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from keras_ae.figure_text import plain_text
from keras_ae.io import atomic_path


def subplots(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (6.4, 4.8),
             squeeze: bool = True) -> tuple[Figure, object]:
    """A new `Figure` and its axes, as `pyplot.subplots` returns them (without pyplot's global state)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=squeeze)


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> str:
    """Save `fig` atomically as PNG; returns the path. A title naming a user's folder in a script the default font
    lacks (Chinese, say) draws those characters as boxes, without matplotlib's warning for each of them."""
    plain_text(fig)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return str(path)


def as_image(x: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
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
               title: str | None = None, value_range: tuple[float, float] = (0.0, 1.0),
               captions: Sequence[Sequence[str] | None] | None = None, cmap: str = "gray") -> str:
    """A grid with one row per array of images (e.g. originals over reconstructions), labelled on the left;
    `captions[r]` (when given and not None) names each image of row r above it. `cmap` colours a grey image
    ("gray": 1 is white, as MNIST digits are shown; "gray_r": 1 is black, ink on paper)."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    captioned = sum(1 for c in captions or () if c is not None)
    fig, axes = subplots(n_rows, n_cols, figsize=(1.1 * n_cols + 0.8, 1.15 * n_rows + 0.3 + 0.3 * captioned),
                         squeeze=False)
    for r, (images, label) in enumerate(zip(rows, labels)):
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(images):  # a shorter row: its last cells stay empty
                ax.axis("off")
                continue
            ax.imshow(as_image(images[c], value_range), cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if captions is not None and captions[r] is not None:
                ax.set_title(str(captions[r][c]), fontsize=10, pad=3)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def loss_curves(history: dict[str, list[float]], path: str | os.PathLike, title: str = "Loss",
                ylabel: str = "loss", stages: Sequence[tuple[str, int]] | None = None) -> str:
    """The three curves: loss averaged during each epoch, training loss after it, validation loss.

    `stages`: ``[(name, epochs), ...]`` when training ran in stages (a plain autoencoder, then a VAE): a dotted
    line between them and each stage's name over its epochs."""
    fig, ax = subplots(figsize=(6.4, 4.2))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "o-", label="training loss (during epoch)")
    if history.get("train_loss_after_epoch"):
        ax.plot(epochs, history["train_loss_after_epoch"], "s--", label="training loss (after epoch)")
    if history.get("val_loss"):
        ax.plot(epochs, history["val_loss"], "^-", label="validation loss")
    ax.set_xlabel("epoch")
    if len(epochs) <= 12:  # whole epochs, also for a run of one
        ax.set_xticks(epochs)
    else:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlim(0.5, len(epochs) + 0.5)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    start = 0
    for i, (name, count) in enumerate(stages or []):
        if i:
            ax.axvline(start + 0.5, color="0.3", linestyle=":", linewidth=1.2)
        ax.text(start + 0.5 + count / 2, 1.01, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize="small", color="0.25", parse_math=False)
        start += count
    if stages:
        ax.set_title(title, pad=18)
    return save_figure(fig, path)


def image_grid(images: np.ndarray, path: str | os.PathLike, title: str | None = None,
               extent: tuple[float, float, float, float] | None = None,
               value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """Tile a (rows, cols, h, w[, c]) array into one picture (e.g. a 2-D latent manifold)."""
    rows, cols = images.shape[:2]
    tiles = [[as_image(images[r, c], value_range) for c in range(cols)] for r in range(rows)]
    canvas = np.concatenate([np.concatenate(row, axis=1) for row in tiles], axis=0)
    fig, ax = subplots(figsize=(7, 7 * rows / cols))
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


def image_strip(images: Sequence[np.ndarray], path: str | os.PathLike, captions: Sequence[str] | None = None,
                title: str | None = None, value_range: tuple[float, float] = (0.0, 1.0), cmap: str = "gray") -> str:
    """One row of images with a caption under each (an interpolation / concept-vector strip); `cmap` as in
    `image_rows`."""
    n = len(images)
    fig, axes = subplots(1, n, figsize=(0.95 * n + 0.4, 1.9), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(as_image(images[i], value_range), cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if captions is not None:
            ax.set_xlabel(captions[i], fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def roc_curves(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], path: str | os.PathLike,
               title: str = "ROC curve") -> str:
    """ROC curves of (name, scores, labels 0/1) with the area under each in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = subplots(figsize=(5.0, 4.6))
    from keras_ae.anomaly.metrics import ranked

    for name, scores, labels in curves:
        scores = ranked(scores)
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 3:  # below the axes: over them it would hide the curves it names
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.14))
    else:
        ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], path: str | os.PathLike,
                 ylabel: str, title: str | None = None, ylim: tuple[float, float] | None = None,
                 xlabel: str | None = None, legend: str = "best") -> str:
    """Bars per category, one colour per series (e.g. wrong pixels per character at each noise level).

    `legend` is a Matplotlib location, or "below": under the axes, where no bar can hide it."""
    n = len(series)
    x = np.arange(len(categories))
    width = 0.8 / max(n, 1)
    fig, ax = subplots(figsize=(min(14.0, max(6.4, 0.12 * len(categories) * max(n, 1) + 1.5)), 4.0))
    for i, (label, values) in enumerate(series.items()):
        ax.bar(x + (i - (n - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(categories)
    ax.set_xlim(-0.6, len(categories) - 0.4)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.grid(axis="y", alpha=0.3)
    if legend == "below":
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 if xlabel else -0.08), ncol=n, frameon=False)
    else:
        ax.legend(loc=legend)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def mean_std_bars(names: Sequence[str], means: Sequence[float], stds: Sequence[float],
                  path: str | os.PathLike, xlabel: str, title: str | None = None) -> str:
    """Horizontal bars of mean +- std, one per configuration (best at the top when sorted by the caller)."""
    y = np.arange(len(names))
    fig, ax = subplots(figsize=(8.0, 0.42 * len(names) + 1.4))
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
    """Mean curve (line) +- std (band) per name, all on one axis (e.g. loss per configuration), the legend beside
    the axes. Each curve has a colour of its own (20 at most repeat, then the line style changes); a curve with
    no finite value (training that diverged) is named in the legend as such, without a line.

    Point i is drawn at epoch (i + 1) * epoch_scale (a Keras epoch may hold several passes over the data).
    """
    import matplotlib.pyplot as plt

    fig, ax = subplots(figsize=(7.4, 4.6))
    palette = plt.get_cmap("tab10" if len(curves) <= 10 else "tab20").colors
    drawn = []
    for i, (name, (mean, std)) in enumerate(curves.items()):
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        epochs = np.arange(1, len(mean) + 1) * epoch_scale
        finite = np.isfinite(mean) & ((mean > 0) if log else True)
        style = dict(color=palette[i % len(palette)], linestyle=("-", "--", ":", "-.")[i // len(palette) % 4])
        if not finite.any():
            ax.plot([], [], label=f"{name} (diverged: no finite loss)", linewidth=1.2, **style)
            continue
        shown = np.where(finite, mean, np.nan)
        lone = finite & ~np.roll(finite, 1) & ~np.roll(finite, -1) if len(finite) > 1 else finite  # no line to show
        ax.plot(epochs, shown, label=name, linewidth=1.2, marker="o" if lone.any() else None,
                markevery=list(np.flatnonzero(lone)), markersize=4, **style)
        spread = np.where(np.isfinite(std), std, 0.0)
        low = np.where(finite, mean - spread, np.nan)
        ax.fill_between(epochs, np.where(low > 0, low, shown) if log else low, shown + spread,
                        color=style["color"], alpha=0.15)
        drawn.append(shown[finite])
    if log and drawn:
        ax.set_yscale("log")
    if not drawn:
        ax.text(0.5, 0.5, "no finite loss to draw", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              ncol=1 if len(curves) <= 16 else 2)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def correlation_heatmap(matrix: np.ndarray, row_labels: Sequence[str], column_labels: Sequence[str],
                        path: str | os.PathLike, title: str = "|correlation|") -> str:
    """A matrix of values in [0, 1] with each value written in its cell (e.g. latent dims x factors)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    fig, ax = subplots(figsize=(1.2 * matrix.shape[1] + 2.0, 0.6 * matrix.shape[0] + 1.6))
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
