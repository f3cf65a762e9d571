"""Figures of the fraud detector: the error histogram by class and the precision-recall curve."""

from __future__ import annotations

import os

import matplotlib.ticker
import numpy as np

from keras_ae.figures import save_figure, subplots


def error_histogram(scores: np.ndarray, labels: np.ndarray, threshold: float, path: str | os.PathLike,
                    title: str = "Reconstruction error by class",
                    class_names: tuple[str, str] = ("normal", "fraud")) -> str:
    """Histogram of scores for each class (log-spaced bins, log counts) with the threshold marked."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    positive = scores[scores > 0]
    low = positive.min() if len(positive) else 1e-6
    bins = np.logspace(np.log10(low), np.log10(max(scores.max(), low * 10)), 60)
    fig, ax = subplots(figsize=(6.4, 4.2))
    for value, name, color in ((0, class_names[0], "tab:blue"), (1, class_names[1], "tab:red")):
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
    fig, ax = subplots(figsize=(4.8, 4.5))
    ax.plot(recall, precision, color="tab:red",
            label=f"average precision {metrics.average_precision_score(labels, scores):.3f}")
    ax.axhline(np.mean(labels), color="grey", linestyle=":", label=f"base rate {np.mean(labels):.4f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower left")
    return save_figure(fig, path)
