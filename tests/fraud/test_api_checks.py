"""The detector's API refuses what it cannot honour: a threshold no score can pass (a far amount would pass as
normal), drop=None before or after fit; asking for threshold facts before fit is sklearn's
NotFittedError."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import FraudDetector, synthetic_transactions  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    return FraudDetector(epochs=1, n_models=1, verbose=0).fit(synthetic_transactions(300, seed=0))


def test_a_threshold_at_the_far_amount_score_is_refused(fitted):
    with pytest.raises(ValueError, match="below float64's largest value"):
        fitted.set_threshold("value", float(np.finfo(np.float64).max))
    with pytest.raises(ValueError, match="below float64's largest value"):
        FraudDetector(threshold_rule="value", threshold_value=float(np.finfo(np.float64).max)).fit(
            synthetic_transactions(300, seed=0))
    rows = synthetic_transactions(3, seed=1).drop(columns="Class")
    rows.loc[0, "Amount"] = 1e9
    fitted.set_threshold("value", 1e300)
    assert fitted.predict(rows)[0] == 1  # far amounts pass no threshold that can be set


def test_drop_is_a_list_before_and_after_fit(fitted):
    rows = synthetic_transactions(300, seed=0)
    with pytest.raises(UsageError, match="drop must be a list of column names, received None"):
        FraudDetector(epochs=1, n_models=1, verbose=0, drop=None).fit(rows)
    refit = FraudDetector(epochs=1, n_models=1, verbose=0).fit(rows)
    with pytest.raises(UsageError, match="drop must be a list of column names, received None"):
        refit.set_params(drop=None).score_samples(rows.drop(columns="Class"))


def test_threshold_facts_before_fit_are_not_fitted_errors():
    for ask in (lambda d: d.threshold_info(), lambda d: d.level_warning()):
        with pytest.raises(NotFittedError):
            ask(FraudDetector())


def test_a_path_argument_that_is_no_path_is_named():
    from keras_ae import artifacts
    from keras_ae.data import load_dataset

    for call, what in ((lambda: FraudDetector.load(None), "a model directory"),
                       (lambda: artifacts.load_models(None), "a run directory"),
                       (lambda: artifacts.read_metrics(5), "a run directory")):
        with pytest.raises(UsageError, match=f"Expected {what} as a path, received"):
            call()
    with pytest.raises(UsageError, match="Expected a dataset name, received None"):
        load_dataset(None)


def test_save_to_no_path_is_named(fitted):
    with pytest.raises(UsageError, match="Expected a model directory as a path, received None"):
        fitted.save(None)


@pytest.mark.parametrize("verbose", [True, 1.0])
def test_verbose_is_one_of_the_integers_not_a_bool_or_float_equal_to_one(verbose):
    with pytest.raises(UsageError, match="verbose must be one of 0, 1, 2"):
        FraudDetector(verbose=verbose).fit(synthetic_transactions(200, seed=0))


def test_a_threshold_integer_beyond_float64_is_refused_in_one_line(fitted):
    for value, side in ((10**400, "below float64's largest"), (-(10**400), "above float64's lowest")):
        with pytest.raises(ValueError, match=side + r".*=10{11}\.\.\. \(401 digits\)|" + side + r".*=-10{10}\.\.\."):
            fitted.set_threshold("value", value)


def test_a_signalling_decimal_nan_is_refused_or_flagged_never_a_crash(fitted):
    import decimal

    rows = synthetic_transactions(4, seed=2).drop(columns="Class").astype(object)
    rows.loc[1, "V14"] = decimal.Decimal("sNaN")  # pandas' own missing-value test raises on it
    with pytest.raises(UsageError, match=r"row 2 \(position 1\), column 'V14': non-numeric value 'sNaN'"):
        fitted.score_samples(rows)
    try:
        scores = fitted.set_params(unscorable="flag").score_samples(rows)
    finally:
        fitted.set_params(unscorable="refuse")
    assert scores[1] == np.inf and np.isfinite(scores[[0, 2, 3]]).all()


def test_labels_given_twice_must_agree():
    """fit(X with its Class column, y=zeros) trained the frauds of the Class column as normal without a word."""
    rows = synthetic_transactions(300, fraud_rate=0.05, seed=0)
    with pytest.raises(UsageError, match=r"y and X's label column 'Class' disagree in \d+ row\(s\) \(first: row \d+, "
                                         r"y=0, Class=1\)"):
        FraudDetector(epochs=1, n_models=1, verbose=0).fit(rows, y=np.zeros(len(rows)))
    FraudDetector(epochs=1, n_models=1, verbose=0).fit(rows, y=rows["Class"].to_numpy())  # the same labels: fine
    unlabelled = rows.assign(Class=np.nan)  # a column not filled in yet: y gives the labels
    FraudDetector(epochs=1, n_models=1, verbose=0).fit(unlabelled, y=rows["Class"].to_numpy())
