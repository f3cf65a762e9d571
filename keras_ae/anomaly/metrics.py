"""Detection metrics at a threshold, shared by the image one-class runs and the fraud detector."""

from __future__ import annotations

import numpy as np

from keras_ae.anomaly.thresholds import check_labelled


def ranked(scores: np.ndarray) -> np.ndarray:
    """`scores` as scikit-learn's ranking metrics take them: +inf (a row that could not be scored, flagged) becomes
    float64's largest value, above every finite score."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.where(np.isposinf(scores), np.finfo(np.float64).max, scores) if np.isposinf(scores).any() else scores


def detection_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """ROC-AUC, average precision, and accuracy / precision / recall / F1 / confusion at `threshold`.

    Labels: 1 = anomaly. A row is flagged when its score is above the threshold. A score of +inf (a row the
    detector could not score, flagged) ranks above every finite score; NaN is refused.
    """
    from sklearn import metrics as skm

    scores, labels = check_labelled(scores, labels)
    pred = scores > threshold
    if np.isnan(scores).any():
        raise ValueError("detection_metrics: NaN scores cannot be ranked")
    scores = ranked(scores)  # the ranking sklearn sees: +inf above every finite score (ties only at float64's max)
    tp, fp = int(np.sum(pred & (labels == 1))), int(np.sum(pred & (labels == 0)))
    fn, tn = int(np.sum(~pred & (labels == 1))), int(np.sum(~pred & (labels == 0)))
    return {
        "roc_auc": float(skm.roc_auc_score(labels, scores)),
        "average_precision": float(skm.average_precision_score(labels, scores)),
        "threshold": float(threshold),
        "accuracy": float((tp + tn) / len(labels)),
        "balanced_accuracy": float(0.5 * (tp / (tp + fn) + tn / (tn + fp))),
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)),
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def roc_auc_standard_error(auc: float, n_anomalies: int, n_normal: int) -> float:
    """Standard error of a ROC-AUC measured on `n_anomalies` + `n_normal` examples (Hanley & McNeil 1982).

    The approximation gives 0 at a perfect 1.0 (and at 0.0): a perfect separation on a small set says less about
    new data than that, so errors combined over runs where some are perfect understate the spread."""
    if n_anomalies < 1 or n_normal < 1:
        raise ValueError(f"a ROC-AUC needs both classes, received {n_anomalies} anomalies and {n_normal} normal")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_anomalies - 1) * (q1 - auc**2) + (n_normal - 1) * (q2 - auc**2)) \
        / (n_anomalies * n_normal)
    return float(np.sqrt(max(variance, 0.0)))
