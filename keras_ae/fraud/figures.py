"""Figures of the fraud detector: the error histogram by class and the precision-recall curve."""

from __future__ import annotations

import os

import matplotlib.ticker
import numpy as np

from keras_ae.figures import save_figure, subplots


def error_histogram(scores: np.ndarray, labels: np.ndarray, threshold: float, path: str | os.PathLike,
                    title: str = "Score by class", class_names: tuple[str, str] = ("normal", "fraud"),
                    xlabel: str = "score (0 = a typical normal row)") -> str:
    """Histogram of scores for each class with the threshold marked: log counts, and a symmetric log axis
    (linear within +-1), so signed scores and their long right tail both show. Rows scored +inf (unscorable) or
    float64's largest value (an amount far outside the normal training rows) are counted in the legend, not drawn."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    from keras_ae.fraud.rows import FAR_SCORE

    drawn = scores < FAR_SCORE
    beyond = {value: int(np.sum(~drawn & (labels == value))) for value in (0, 1)}
    labels, scores = labels[drawn], scores[drawn]
    if not len(scores):
        scores, labels = np.array([0.0]), np.array([-1])
    squash = np.sign(scores) * np.log10(1 + np.abs(scores))
    edges = np.linspace(squash.min(), max(squash.max(), squash.min() + 1e-3), 61)
    bins = np.sign(edges) * (10 ** np.abs(edges) - 1)
    fig, ax = subplots(figsize=(6.4, 4.2))
    for value, name, color in ((0, class_names[0], "tab:blue"), (1, class_names[1], "tab:red")):
        chosen = scores[labels == value]
        off = f" (+{beyond[value]:,} flagged beyond any score, not drawn)" if beyond[value] else ""
        if len(chosen) or off:
            ax.hist(chosen, bins=bins, alpha=0.6, color=color, label=f"{name}, n={len(chosen):,}{off}")
    # a threshold far beyond every score (a value rule's 1e308) is drawn some decades out, labelled so
    span = max(edges[-1] - edges[0], 1.0)
    reach = float(np.clip(np.sign(threshold) * np.log10(1 + abs(threshold)), edges[0] - span, edges[-1] + span)) \
        if np.isfinite(threshold) else np.nan
    shown = np.sign(reach) * (10 ** abs(reach) - 1) if np.isfinite(reach) else threshold
    ax.axvline(shown, color="black", linestyle="--", label=f"threshold {threshold:.3g}" + (
        ", off the chart" if np.isfinite(threshold) and not np.isclose(shown, threshold) else ""))
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_yscale("log")
    # the axis spans the bins (matplotlib's margins on a symlog axis can reach far past them), with ticks at 1, 2 and
    # 5 times each power of ten while few decades are shown, at the powers only where more would crowd
    margin = 0.02 * (edges[-1] - edges[0])
    low, high = (np.sign(e) * (10 ** np.abs(e) - 1) for e in (edges[0] - margin, edges[-1] + margin))
    if np.isfinite(reach):  # the threshold line shows even beyond every score
        low = min(low, np.sign(reach - margin) * (10 ** abs(reach - margin) - 1))
        high = max(high, np.sign(reach + margin) * (10 ** abs(reach + margin) - 1))
    ax.set_xlim(low, high)
    subs = (1, 2, 5) if edges[-1] - edges[0] <= 2.5 else (1,)
    ax.xaxis.set_major_locator(matplotlib.ticker.SymmetricalLogLocator(linthresh=1.0, base=10, subs=subs))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_xlabel(f"{xlabel}\nsymmetric log scale: linear within -1..1, logarithmic beyond")
    ax.set_ylabel("rows (log scale)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)  # beside the bars, never over them
    return save_figure(fig, path)


def precision_recall_curve(scores: np.ndarray, labels: np.ndarray, path: str | os.PathLike,
                           title: str = "Precision-recall curve", threshold: float | None = None) -> str:
    """Precision against recall as a step curve (without scikit-learn's added end point at recall 0, precision
    1, which no threshold reaches), the average precision, the base rate of the positive class and, when given,
    the point of the threshold in effect (a row is flagged when its score is above it)."""
    from sklearn import metrics

    from keras_ae.anomaly.metrics import ranked

    scores, labels = ranked(scores), np.asarray(labels)
    precision, recall, _ = metrics.precision_recall_curve(labels, scores)
    fig, ax = subplots(figsize=(4.8, 4.5))
    ax.plot(recall[:-1], precision[:-1], color="tab:red", drawstyle="steps-post",
            label=f"average precision {metrics.average_precision_score(labels, scores):.3f}")
    ax.axhline(np.mean(labels), color="grey", linestyle=":", label=f"base rate {np.mean(labels):.4f}")
    if threshold is not None:
        flagged = scores > threshold
        hits = int(np.sum(flagged & (labels == 1)))
        at_p = hits / max(int(flagged.sum()), 1)
        at_r = hits / max(int(np.sum(labels == 1)), 1)
        ax.plot([at_r], [at_p], "o", color="black",
                label=f"threshold {threshold:.3g}: precision {at_p:.3f}, recall {at_r:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.0)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), fontsize=8)  # below the axes: the curve stays clear
    return save_figure(fig, path)
