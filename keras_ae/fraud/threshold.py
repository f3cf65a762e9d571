"""The fraud detector's threshold: a rule of `keras_ae.anomaly.thresholds` applied to the stored validation scores
(normal rows held out in fit, and labelled frauds when there were any), changeable after fit without retraining."""

from __future__ import annotations

import warnings

import numpy as np

from keras_ae.anomaly import thresholds
from keras_ae.errors import UsageError

RULE_DEFAULTS = {"percentile": 99.5, "fpr": 0.005, "alpha": 0.005}  # the fraud detector's values when a rule gets none
# fit warns unless one fit's false-positive rate lies within SPREAD_FACTOR of alpha in SPREAD_SHARE of fits
SPREAD_FACTOR, SPREAD_SHARE = 2.0, 0.9


class ThresholdWarning(UserWarning):
    """The threshold cannot keep the level asked for: too few held-out normal rows for alpha (below 1/(n+1)), or
    too few for one fit's false-positive rate to stay within a factor of 2 of alpha."""


class ThresholdMixin:
    """Needs validation_scores_, validation_labels_, threshold_rule, threshold_value and _check_fitted()."""

    def _threshold(self, rule: str, value: float | None, warn: bool = True) -> float:
        """The threshold of `rule` on the stored validation scores; `warn`: say the level warning (fit and
        set_threshold do; loading a model does not repeat what its fit said, `threshold_info` keeps it)."""
        entry = thresholds.check_rule(rule, value)
        if entry.labelled and not (self.validation_labels_ == 1).any():
            raise UsageError(f"threshold rule {rule!r} needs labelled frauds in the data given to fit")
        value = RULE_DEFAULTS.get(rule, entry.default) if value is None else value
        warning = self.level_warning(rule, value) if warn else None
        if warning:
            warnings.warn(warning, ThresholdWarning, stacklevel=3)
        return thresholds.choose_threshold(rule, self.validation_scores_, self.validation_labels_, value)

    def _normal_validation(self) -> np.ndarray:
        return np.asarray(self.validation_scores_)[np.asarray(self.validation_labels_) == 0]

    def level_warning(self, rule: str | None = None, value: float | None = None) -> str | None:
        """For the "alpha" rule, a sentence when alpha is below the smallest level the held-out normal rows can
        promise (1 / (n + 1)), or when so few are held out that one fit's false-positive rate falls outside a
        factor of 2 of alpha in more than 10% of fits (`thresholds.rate_range`); None otherwise."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "validation_scores_")  # set in fit before the threshold
        rule = self.threshold_rule if rule is None else rule
        if rule != "alpha":
            return None
        if value is None:
            value = self.threshold_value if self.threshold_value is not None else RULE_DEFAULTS["alpha"]
        n = len(self._normal_validation())
        smallest = thresholds.smallest_alpha(n)
        if value < smallest:
            return (f"alpha {value:g} is below the smallest level {n:,} held-out normal rows can promise "
                    f"({smallest:.3g} = 1/(n+1)); the threshold keeps {smallest:.3g}: fit on more normal rows for "
                    "a smaller level")
        if thresholds.within_factor(n, value, SPREAD_FACTOR) < SPREAD_SHARE:
            low, high = thresholds.rate_range(n, value, SPREAD_SHARE)
            need = thresholds.rows_for_factor(value, SPREAD_FACTOR, SPREAD_SHARE)
            return (f"alpha {value:g} holds on average, but with {n:,} held-out normal rows the false-positive rate "
                    f"of one fit lies between {low:.2g} and {high:.2g} (90% of fits); {need:,} held-out normal rows "
                    f"keep it within a factor of {SPREAD_FACTOR:g} of alpha")
        return None

    def p_values(self, X) -> np.ndarray:
        """Conformal p-value of every row of X: the share of held-out normal rows scoring at least as high, with
        the +1 correction. Flagging rows with p <= alpha keeps the false-positive rate on new normal rows at most
        alpha in expectation (the "alpha" threshold rule)."""
        self._check_fitted()
        return self.p_values_of(self.score_samples(X))

    def p_values_of(self, scores: np.ndarray) -> np.ndarray:
        """Conformal p-values of scores already computed (see `p_values`)."""
        return thresholds.conformal_p_values(scores, self._normal_validation())

    def set_threshold(self, rule: str, value: float | None = None) -> ThresholdMixin:
        """Change the threshold rule after fit (derived from the stored validation scores, no retraining)."""
        self._check_fitted()
        self.threshold_ = self._threshold(rule, value)
        self.threshold_rule, self.threshold_value = rule, value
        return self

    def threshold_info(self) -> dict:
        """The rule, its value as given (None = default), the value in effect, the threshold; for "alpha" also the
        level it promises (the larger of alpha and 1/(n+1)) and the warning when that is not alpha."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "threshold_")
        value = self.threshold_value
        effective = RULE_DEFAULTS.get(self.threshold_rule, thresholds.THRESHOLD_RULES[self.threshold_rule].default)
        info = {"rule": self.threshold_rule, "value": value, "effective_value": effective if value is None else value,
                "threshold": self.threshold_}
        if self.threshold_rule == "alpha":
            n = len(self._normal_validation())
            info["held_out_normal_rows"] = n
            info["promised_level"] = max(info["effective_value"], thresholds.smallest_alpha(n))
            info["warning"] = self.level_warning()
        return info
