"""Threshold rules, one registry shared by the image one-class runs and the fraud detector.

A rule turns validation scores (higher = more anomalous; a row is flagged when its score is above the
threshold) into a threshold. Labelled rules (`accuracy`, `f1`, `youden`) search every useful threshold in
O(n log n): sort once, count with cumulative sums. Unlabelled rules use the normal scores only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from keras_ae.registry import Registry


def check_labelled(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores as float64 and labels as int (0 normal, 1 anomaly), checked to match and hold both classes."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels differ in length: {len(scores)} vs {len(labels)}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
    if len(labels) == 0 or labels.min() == labels.max():
        raise ValueError("labels hold only one class; a labelled rule needs normal and anomalous examples")
    return scores, labels.astype(int)


def confusion_counts(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """(thresholds, tp, fp, fn, tn) for every threshold that changes the flags, in ascending order.

    The thresholds are just below the lowest score (flag all), the midpoints between consecutive distinct
    scores, and just above the highest (flag none). One sort and cumulative counts: O(n log n), O(n) memory.
    """
    order = np.argsort(-scores, kind="stable")
    s, positive = scores[order], labels[order] == 1
    ends = np.concatenate([np.flatnonzero(s[:-1] != s[1:]), [len(s) - 1]])  # last index of each distinct value
    tp_cum, fp_cum = np.cumsum(positive), np.cumsum(~positive)
    tp = np.concatenate([[0], tp_cum[ends]])
    fp = np.concatenate([[0], fp_cum[ends]])
    below = s[np.minimum(ends + 1, len(s) - 1)]
    mids = np.where(ends + 1 < len(s), (s[ends] + below) / 2, np.nextafter(s[-1], -np.inf))
    mids = np.where((ends + 1 < len(s)) & (mids >= s[ends]), below, mids)  # adjacent floats: keep flags right
    thresholds = np.concatenate([[np.nextafter(s[0], np.inf)], mids])
    n_pos, n_neg = int(tp_cum[-1]), int(fp_cum[-1])
    tp, fp, thresholds = tp[::-1], fp[::-1], thresholds[::-1]
    return thresholds, tp, fp, n_pos - tp, n_neg - fp


def _best(scores: np.ndarray, labels: np.ndarray, objective: Callable) -> float:
    """The lowest threshold with the highest `objective(tp, fp, fn, tn)`."""
    scores, labels = check_labelled(scores, labels)
    thresholds, tp, fp, fn, tn = confusion_counts(scores, labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = objective(tp.astype(float), fp.astype(float), fn.astype(float), tn.astype(float))
    return float(thresholds[int(np.nanargmax(values))])


def threshold_max_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold with the highest accuracy on a labelled set (flag = score > threshold)."""
    return _best(scores, labels, lambda tp, fp, fn, tn: (tp + tn) / (tp + fp + fn + tn))


def threshold_max_f1(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold with the highest F1 of the anomaly class on a labelled set."""
    return _best(scores, labels, lambda tp, fp, fn, tn: 2 * tp / np.maximum(2 * tp + fp + fn, 1))


def threshold_youden(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising Youden's J = true-positive rate - false-positive rate."""
    return _best(scores, labels, lambda tp, fp, fn, tn: tp / (tp + fn) - fp / (fp + tn))


def threshold_quartile_gap(scores: np.ndarray, labels: np.ndarray) -> float:
    """Halfway between the upper quartile of the normal scores and the lower quartile of the anomalous ones:
    the middle of the gap between the bulk of each class. It does not fit the exact validation points (as
    the best-accuracy search does), so a shift of one class between validation and test (PneumoniaMNIST's
    test normals score higher than its validation normals) moves the error least."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).reshape(-1)
    normal, anomalous = scores[labels == 0], scores[labels == 1]
    if len(normal) == 0 or len(anomalous) == 0:
        raise ValueError("the quartile-gap threshold needs normal and anomalous validation scores")
    return float((np.percentile(normal, 75) + np.percentile(anomalous, 25)) / 2)


def threshold_percentile(normal_scores: np.ndarray, percentile: float = 99.0) -> float:
    """The `percentile` of the scores of normal examples (no labels of anomalies needed)."""
    if not 0 < percentile < 100:
        raise ValueError(f"Expected percentile between 0 and 100, received percentile={percentile}")
    return float(np.percentile(np.asarray(normal_scores, dtype=np.float64), percentile))


def threshold_fpr(normal_scores: np.ndarray, fpr: float = 0.01) -> float:
    """Smallest threshold whose false-positive rate on normal examples is at most `fpr`."""
    if not 0 < fpr < 1:
        raise ValueError(f"Expected fpr (a false-positive rate) between 0 and 1, received fpr={fpr}")
    s = np.sort(np.asarray(normal_scores, dtype=np.float64))
    allowed = int(np.floor(fpr * len(s)))  # examples allowed above the threshold
    return float(s[len(s) - allowed - 1]) if allowed < len(s) else float(np.nextafter(s[0], -np.inf))


def conformal_p_values(scores: np.ndarray, normal_scores: np.ndarray) -> np.ndarray:
    """Conformal p-values: for each score, the share of the held-out normal scores at least as high, with the +1
    correction, (1 + #{normal >= s}) / (n + 1). For a new normal row exchangeable with the held-out ones,
    P(p <= alpha) <= alpha: flagging p <= alpha keeps the false-positive rate at most alpha in expectation."""
    normal = np.sort(np.asarray(normal_scores, dtype=np.float64).ravel())
    if len(normal) == 0:
        raise ValueError("conformal p-values need held-out normal scores")
    scores = np.asarray(scores, dtype=np.float64)
    at_least = len(normal) - np.searchsorted(normal, scores, side="left")
    return (1.0 + at_least) / (len(normal) + 1.0)


def smallest_alpha(n_normal: int) -> float:
    """The smallest level a conformal threshold on `n_normal` held-out normal scores can promise: 1 / (n + 1)."""
    return 1.0 / (int(n_normal) + 1.0)


def rate_range(n_normal: int, alpha: float, share: float = 0.9) -> tuple[float, float]:
    """The false-positive rates between which `share` of fits on `n_normal` held-out normal rows fall, for the
    threshold that flags p <= `alpha`: given its calibration rows, the rate of one fit is Beta(k, n + 1 - k)
    distributed, k = floor(alpha (n + 1)) (Vovk 2012, "Conditional validity of inductive conformal
    predictors"); its mean k / (n + 1) is at most alpha, its spread shrinks like 1 / sqrt(k)."""
    from scipy.stats import beta

    n = int(n_normal)
    k = max(1, int(np.floor(alpha * (n + 1) + 1e-9)))
    low, high = beta(k, n + 1 - k).ppf([(1 - share) / 2, (1 + share) / 2])
    return float(low), float(high)


def within_factor(n_normal: int, alpha: float, factor: float = 2.0) -> float:
    """Probability that one fit's false-positive rate (see `rate_range`) lies within `factor` of `alpha`."""
    from scipy.stats import beta

    n = int(n_normal)
    k = int(np.floor(alpha * (n + 1) + 1e-9))
    if k < 1:
        return 0.0
    dist = beta(k, n + 1 - k)
    return float(dist.cdf(factor * alpha) - dist.cdf(alpha / factor))


def rows_for_factor(alpha: float, factor: float = 2.0, share: float = 0.9) -> int:
    """The fewest held-out normal rows for which one fit's false-positive rate lies within `factor` of `alpha`
    with probability at least `share` (a doubling search, then bisection)."""
    high = max(2, int(np.ceil(1 / alpha)))
    while within_factor(high, alpha, factor) < share:
        high *= 2
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if within_factor(mid, alpha, factor) >= share else (mid, high)
    return high


def threshold_alpha(normal_scores: np.ndarray, alpha: float = 0.01) -> float:
    """The threshold that flags exactly the rows with conformal p-value <= `alpha` (flag = score > threshold):
    the (k+1)-th highest normal score, k = floor(alpha (n+1)) - 1. Below the smallest promisable level
    (alpha < 1/(n+1)) no score has so small a p-value; the highest normal score is returned (the level then
    kept is 1/(n+1): `smallest_alpha`; callers warn)."""
    if not 0 < alpha < 1:
        raise ValueError(f"Expected alpha between 0 and 1, received alpha={alpha}")
    s = np.sort(np.asarray(normal_scores, dtype=np.float64))[::-1]
    k = int(np.floor(alpha * (len(s) + 1) + 1e-9)) - 1
    return float(s[min(max(k, 0), len(s) - 1)])


@dataclasses.dataclass(frozen=True)
class ThresholdRule:
    """A rule: ``apply(scores, labels, value) -> threshold``.

    Attributes:
        labelled: needs anomalies among the labels (else it reads the normal scores only).
        value_help: what the rule's value means ("" when it takes none); `default` when none is given.
        low, high: the open interval a given value must lie in (None: any finite number).
    """

    apply: Callable[[np.ndarray, np.ndarray | None, float | None], float]
    help: str
    labelled: bool = False
    value_help: str = ""
    default: float | None = None
    low: float | None = None
    high: float | None = None
    required: bool = False


THRESHOLD_RULES: Registry[ThresholdRule] = Registry("threshold rule")


def _normal(scores, labels):
    scores = np.asarray(scores, dtype=np.float64)
    return scores if labels is None else scores[np.asarray(labels) == 0]


def register_threshold_rule(name: str, rule: ThresholdRule, replace: bool = False) -> ThresholdRule:
    return THRESHOLD_RULES.register(name, rule, replace=replace)


register_threshold_rule("accuracy", ThresholdRule(lambda s, y, v: threshold_max_accuracy(s, y),
                                                  "the highest accuracy on labelled validation data", True))
register_threshold_rule("f1", ThresholdRule(lambda s, y, v: threshold_max_f1(s, y),
                                            "the highest F1 of the anomaly class on labelled validation data", True))
register_threshold_rule("youden", ThresholdRule(lambda s, y, v: threshold_youden(s, y),
                                                "the highest true-positive minus false-positive rate", True))
register_threshold_rule("quartile-gap", ThresholdRule(
    lambda s, y, v: threshold_quartile_gap(s, y),
    "halfway between the upper quartile of normal and the lower quartile of anomalous validation scores", True))
register_threshold_rule("percentile", ThresholdRule(
    lambda s, y, v: threshold_percentile(_normal(s, y), v), "a percentile of the normal validation scores",
    value_help="the percentile", default=99.0, low=0.0, high=100.0))
register_threshold_rule("fpr", ThresholdRule(
    lambda s, y, v: threshold_fpr(_normal(s, y), v), "a target false-positive rate on normal validation scores",
    value_help="the rate", default=0.01, low=0.0, high=1.0))
register_threshold_rule("alpha", ThresholdRule(
    lambda s, y, v: threshold_alpha(_normal(s, y), v),
    "flag rows whose conformal p-value among the normal validation scores is at most alpha (a false-positive "
    "rate kept at most alpha in expectation)", value_help="the level alpha", default=0.01, low=0.0, high=1.0))
register_threshold_rule("value", ThresholdRule(lambda s, y, v: float(v), "a threshold given as a number",
                                               value_help="the threshold itself", required=True))


FLOAT64_MAX = float(np.finfo(np.float64).max)


def _short(value) -> str:
    """A number as a message shows it: an integer of hundreds of digits by its first ones and its length."""
    text = repr(value)
    return text if len(text) <= 30 else f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


def check_rule(rule: str, value: float | None = None) -> ThresholdRule:
    """The registered rule, with `value` checked against it; ValueError naming `rule` or `value` otherwise."""
    entry = THRESHOLD_RULES.get(rule)
    if value is None:
        if entry.required:
            raise ValueError(f"threshold rule {rule!r} needs a value (threshold_value)")
        return entry
    if not entry.value_help:
        raise ValueError(f"threshold rule {rule!r} takes no value, received threshold_value={value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or \
            (not isinstance(value, int) and not math.isfinite(value)):
        raise ValueError(f"Expected a finite threshold_value, received threshold_value={value!r}")
    if value <= -FLOAT64_MAX:  # a Python int past float64 too (-10**400, which float() cannot take)
        raise ValueError(f"Expected threshold_value above float64's lowest value, received threshold_value="
                         f"{_short(value)}")
    if value >= FLOAT64_MAX:  # the score of what is always flagged (a fraud row's far amount); exact for 10**400
        raise ValueError(f"Expected threshold_value below float64's largest value, the score of a row flagged "
                         f"whatever the threshold, received threshold_value={_short(value)}")
    if entry.low is not None and not entry.low < value < entry.high:
        raise ValueError(f"Expected threshold_value ({entry.value_help} of rule {rule!r}) between {entry.low:g} "
                         f"and {entry.high:g}, received threshold_value={value}")
    return entry


def choose_threshold(rule: str, scores: np.ndarray, labels: np.ndarray | None = None,
                     value: float | None = None) -> float:
    """Apply a rule by name. `accuracy`, `f1`, `youden` need labels; `percentile` (value = percentile,
    default 99) and `fpr` (value = rate, default 0.01) use the normal scores (label 0 when labels are
    given); `value` returns `value`."""
    entry = check_rule(rule, value)
    if entry.labelled and labels is None:
        raise ValueError(f"threshold rule {rule!r} needs labels")
    return float(entry.apply(scores, labels, entry.default if value is None else value))
