"""The fraud detector's threshold: a rule of `keras_ae.anomaly.thresholds` applied to the stored validation scores
(normal rows held out in fit, and labelled frauds when there were any), changeable after fit without retraining."""

from __future__ import annotations

from keras_ae.anomaly import thresholds
from keras_ae.errors import UsageError

RULE_DEFAULTS = {"percentile": 99.5, "fpr": 0.005}  # the fraud detector's values when a rule gets none


class ThresholdMixin:
    """Needs validation_scores_, validation_labels_, threshold_rule, threshold_value and _check_fitted()."""

    def _threshold(self, rule: str, value: float | None) -> float:
        entry = thresholds.check_rule(rule, value)
        if entry.labelled and not (self.validation_labels_ == 1).any():
            raise UsageError(f"threshold rule {rule!r} needs labelled frauds in the data given to fit")
        value = RULE_DEFAULTS.get(rule, entry.default) if value is None else value
        return thresholds.choose_threshold(rule, self.validation_scores_, self.validation_labels_, value)

    def set_threshold(self, rule: str, value: float | None = None) -> ThresholdMixin:
        """Change the threshold rule after fit (derived from the stored validation scores, no retraining)."""
        self._check_fitted()
        self.threshold_ = self._threshold(rule, value)
        self.threshold_rule, self.threshold_value = rule, value
        return self

    def threshold_info(self) -> dict:
        """The rule, its value as given (None = default), the value in effect, the threshold."""
        value = self.threshold_value
        effective = RULE_DEFAULTS.get(self.threshold_rule, thresholds.THRESHOLD_RULES[self.threshold_rule].default)
        return {"rule": self.threshold_rule, "value": value, "effective_value": effective if value is None else value,
                "threshold": self.threshold_}
