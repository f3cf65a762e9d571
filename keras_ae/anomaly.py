"""Anomaly scores from reconstruction error, threshold rules and detection metrics.

Everything here takes arrays (images of any shape, or table rows), so the image one-class
detector and the fraud detector share it.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

THRESHOLD_RULES = ("accuracy", "f1", "youden", "percentile", "fpr", "value")


def reconstruction_errors(x: np.ndarray, reconstruction: np.ndarray, metric: str = "mse") -> np.ndarray:
    """Per-example error between `x` and its `reconstruction`, averaged over every other axis.

    Args:
        metric: "mse" (squared error), "mae" or "bce" (binary cross-entropy, values in [0, 1]).
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    r = np.asarray(reconstruction, dtype=np.float64).reshape(len(reconstruction), -1)
    if x.shape != r.shape:
        raise ValueError(f"x and reconstruction differ in shape: {x.shape} vs {r.shape}")
    if metric == "mse":
        return np.mean((x - r) ** 2, axis=1)
    if metric == "mae":
        return np.mean(np.abs(x - r), axis=1)
    if metric == "bce":
        r = np.clip(r, 1e-7, 1 - 1e-7)
        return np.mean(-(x * np.log(r) + (1 - x) * np.log(1 - r)), axis=1)
    raise ValueError(f"unknown error metric {metric!r} (known: mse, mae, bce)")


def _check_labelled(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels differ in length: {len(scores)} vs {len(labels)}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
    if labels.min() == labels.max():
        raise ValueError("labels hold only one class; a labelled rule needs normal and anomalous examples")
    return scores, labels.astype(int)


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Thresholds worth trying: midpoints between consecutive distinct scores, plus both ends."""
    s = np.unique(scores)
    mids = (s[:-1] + s[1:]) / 2 if len(s) > 1 else s
    return np.concatenate([[s[0] - 1e-12], mids, [s[-1] + 1e-12]])


def _best(scores, labels, objective) -> float:
    cands = _candidates(scores)
    pred = scores[None, :] > cands[:, None]  # (n_thresholds, n)
    tp = (pred & (labels == 1)).sum(1)
    fp = (pred & (labels == 0)).sum(1)
    fn = ((~pred) & (labels == 1)).sum(1)
    tn = ((~pred) & (labels == 0)).sum(1)
    values = objective(tp, fp, fn, tn)
    return float(cands[int(np.argmax(values))])


def threshold_max_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold with the highest accuracy on a labelled set (flag = score > threshold)."""
    scores, labels = _check_labelled(scores, labels)
    return _best(scores, labels, lambda tp, fp, fn, tn: (tp + tn) / len(labels))


def threshold_max_f1(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold with the highest F1 of the anomaly class on a labelled set."""
    scores, labels = _check_labelled(scores, labels)
    return _best(scores, labels, lambda tp, fp, fn, tn: 2 * tp / np.maximum(2 * tp + fp + fn, 1))


def threshold_youden(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising Youden's J = true-positive rate - false-positive rate."""
    scores, labels = _check_labelled(scores, labels)
    return _best(scores, labels, lambda tp, fp, fn, tn: tp / (tp + fn) - fp / (fp + tn))


def threshold_percentile(normal_scores: np.ndarray, percentile: float = 99.0) -> float:
    """The `percentile` of the scores of normal examples (no labels of anomalies needed)."""
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be between 0 and 100, received {percentile}")
    return float(np.percentile(np.asarray(normal_scores, dtype=np.float64), percentile))


def threshold_fpr(normal_scores: np.ndarray, fpr: float = 0.01) -> float:
    """Smallest threshold whose false-positive rate on normal examples is at most `fpr`."""
    if not 0 < fpr < 1:
        raise ValueError(f"target false-positive rate must be between 0 and 1, received {fpr}")
    s = np.sort(np.asarray(normal_scores, dtype=np.float64))
    allowed = int(np.floor(fpr * len(s)))  # examples allowed above the threshold
    return float(s[len(s) - allowed - 1]) if allowed < len(s) else float(s[0] - 1e-12)


def choose_threshold(rule: str, scores: np.ndarray, labels: np.ndarray | None = None,
                     value: float | None = None) -> float:
    """Apply a rule by name. `accuracy`, `f1`, `youden` need labels; `percentile` (value = percentile,
    default 99) and `fpr` (value = rate, default 0.01) use the normal scores (label 0 when labels are
    given); `value` returns `value`."""
    if rule == "accuracy":
        return threshold_max_accuracy(scores, labels)
    if rule == "f1":
        return threshold_max_f1(scores, labels)
    if rule == "youden":
        return threshold_youden(scores, labels)
    normal = np.asarray(scores) if labels is None else np.asarray(scores)[np.asarray(labels) == 0]
    if rule == "percentile":
        return threshold_percentile(normal, 99.0 if value is None else value)
    if rule == "fpr":
        return threshold_fpr(normal, 0.01 if value is None else value)
    if rule == "value":
        if value is None:
            raise ValueError("threshold rule 'value' needs a value")
        return float(value)
    raise ValueError(f"unknown threshold rule {rule!r} (known: {', '.join(THRESHOLD_RULES)})")


def detection_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """ROC-AUC, average precision, and accuracy / precision / recall / F1 / confusion at `threshold`.

    Labels: 1 = anomaly. A row is flagged when its score is above the threshold.
    """
    scores, labels = _check_labelled(scores, labels)
    pred = (scores > threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(labels, pred, labels=[0, 1]).ravel()
    return {
        "roc_auc": float(skm.roc_auc_score(labels, scores)),
        "average_precision": float(skm.average_precision_score(labels, scores)),
        "threshold": float(threshold),
        "accuracy": float((tp + tn) / len(labels)),
        "balanced_accuracy": float(0.5 * (tp / (tp + fn) + tn / (tn + fp))),
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)),
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0,
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }
