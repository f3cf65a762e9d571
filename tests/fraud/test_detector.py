"""keras_ae.fraud.detector: fitting on normal rows, thresholds, NumPy input, trimming."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from keras_ae import anomaly  # noqa: E402
from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import FraudDetector  # noqa: E402
from keras_ae.fraud.schema import KAGGLE_COLUMNS  # noqa: E402
from tests.conftest import FRAUD_FAST as FAST  # noqa: E402


# ------------------------------------------------------------------------------------------- detector
def test_fit_learns_on_normal_rows_and_separates_frauds(detector, data):
    train, test = data
    n_normal = int((train["Class"] == 0).sum())
    assert detector.columns_ == KAGGLE_COLUMNS[:-1]
    assert detector.n_train_rows_ + detector.n_validation_rows_ == n_normal
    assert detector.n_fraud_rows_ == int(train["Class"].sum())
    assert (
        detector.features_[:2] == ["Time_hour_sin", "Time_hour_cos"] and "log1p_Amount" in detector.features_
    )
    scores = detector.score_samples(test)
    assert scores.shape == (len(test),) and (detector.reconstruction_errors(test) >= 0).all()
    normal_val = detector.validation_scores_[detector.validation_labels_ == 0]
    assert abs(np.median(normal_val)) < 0.5  # 0 = a typical normal row
    assert roc_auc_score(test["Class"], scores) > 0.9
    np.testing.assert_array_equal(detector.predict(test), (scores > detector.threshold_).astype(int))
    np.testing.assert_allclose(detector.decision_function(test), scores - detector.threshold_)


def test_scaler_is_learned_on_normal_training_rows(detector, data):
    train, _ = data
    normal = train[train["Class"] == 0]
    z = detector.scaler_.transform(detector.preprocessor_._raw(normal))
    assert np.abs(z.mean(axis=0)).max() < 0.2 and np.abs(z.std(axis=0) - 1).max() < 0.2
    amount = detector.features_.index("log1p_Amount")
    assert detector.scaler_.mean_[amount] == pytest.approx(np.log1p(normal["Amount"]).mean(), rel=0.05)


def test_threshold_rules_follow_the_stored_validation_errors(detector, data):
    _, test = data
    normal_val = detector.validation_scores_[detector.validation_labels_ == 0]
    det = FraudDetector(**detector.get_params())
    det.__dict__.update({k: v for k, v in detector.__dict__.items() if k.endswith("_")})
    from keras_ae.anomaly.thresholds import threshold_alpha

    assert det.threshold_rule == "alpha" and det.threshold_ == threshold_alpha(normal_val, 0.005)
    weights = [w.copy() for w in det.models_[0].get_weights()]
    det.set_threshold("fpr", 0.05)
    assert np.mean(normal_val > det.threshold_) <= 0.05
    det.set_threshold("f1")
    assert det.threshold_ == pytest.approx(
        anomaly.threshold_max_f1(det.validation_scores_, det.validation_labels_)
    )
    det.set_threshold("value", 1e9)
    assert det.predict(test).sum() == 0  # predict follows the new rule at once
    det.threshold_rule, det.threshold_value = "value", -1e9  # a parameter change alone does not refit
    assert det.predict(test).sum() == 0
    det.set_threshold("value", -1e9)
    assert det.predict(test).sum() == len(test)
    np.testing.assert_array_equal(weights[0], det.models_[0].get_weights()[0])  # no retraining
    with pytest.raises(ValueError, match=r"rule 'percentile'\) between 0 and 100, received threshold_value=150"):
        det.set_threshold("percentile", 150)


def test_numpy_input_unlabelled_f1_rule_and_not_fitted():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 2))
    x = np.column_stack([z, z @ [[1.0, -1.0, 1.0], [0.5, 2.0, -1.0]]]) + rng.normal(size=(600, 5)) * 0.05
    with pytest.raises(NotFittedError, match="FraudDetector is not fitted yet"):
        FraudDetector().predict(x)
    det = FraudDetector(n_models=1, epochs=40, patience=5).fit(x)
    assert det.columns_ == ["x0", "x1", "x2", "x3", "x4"]
    odd = x[:50].copy()
    odd[:, 2] += 6.0  # breaks the x2 = x0 + 0.5 x1 relation
    assert roc_auc_score(np.r_[np.zeros(50), np.ones(50)], det.score_samples(np.r_[x[:50], odd])) > 0.95
    assert {name for row in det.explain(odd, top=1) for name, _ in row} <= {"x0", "x1", "x2"}
    with pytest.raises(UsageError, match="'f1' needs labelled frauds"):  # found before any training
        FraudDetector(threshold_rule="f1", n_models=1, epochs=1).fit(x)


def test_trim_drops_the_highest_error_training_rows(data):
    train, test = data
    unlabelled = train.drop(columns=["Class"])
    det = FraudDetector(trim_fraction=0.02, **{**FAST, "n_models": 1}).fit(unlabelled)  # ROC-AUC 0.94 as with 2
    n_fit = len(unlabelled) - det.n_validation_rows_
    assert det.trimmed_rows_ == pytest.approx(0.02 * n_fit, abs=2)
    assert det.n_train_rows_ == n_fit - det.trimmed_rows_
    assert roc_auc_score(test["Class"], det.score_samples(test)) > 0.9


def test_a_text_column_in_fit_is_refused_with_how_to_leave_it_out():
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 7, "name": [f"shop {i}" for i in range(20)]})
    with pytest.raises(UsageError, match=r"column 'name': non-numeric value 'shop 0'; .*\(drop=\['name'\]\)"):
        FraudDetector(epochs=1, verbose=0).fit(frame)
    frame["b"] = frame["b"].astype(object)
    frame.loc[3, "b"] = "n/a"  # one bad cell in a numeric column: no advice to drop the column
    with pytest.raises(UsageError, match=r"column 'b': non-numeric value 'n/a'$"):
        FraudDetector(epochs=1, verbose=0, drop=["name"]).fit(frame)


def test_training_that_diverges_is_refused_not_saved_as_a_detector(data):
    """(A learning rate above float32's largest, 1e300, is refused before any training: learning_rate's spec.)"""
    train, _ = data
    with pytest.raises(UsageError, match="training diverged: the loss is not a finite number"):
        FraudDetector(n_models=1, epochs=2, learning_rate=1e30, verbose=0).fit(train.head(500))


@pytest.mark.parametrize("cell", [complex(1.0, 1e30), complex(1.0, float("inf")), 10**400, -(10**400), b"1.23",
                                  bytearray(b"0.5"), "\u0661\u0662", "\uff11.\uff15", "1_000", "1.5\u00a0"])
def test_a_cell_that_is_no_real_number_is_never_scored_as_normal(detector, data, cell):
    _, test = data
    x = test.drop(columns=["Class"]).head(3).copy()
    x["V3"] = x["V3"].astype(object)
    x.iloc[0, x.columns.get_loc("V3")] = cell
    with pytest.raises(UsageError, match=r"row 1 \(position 0\), column 'V3'"):
        detector.score_samples(x)
    flagging = FraudDetector(**{**detector.get_params(), "unscorable": "flag"})
    flagging.__dict__.update({k: v for k, v in vars(detector).items() if k.endswith("_")})
    assert np.isposinf(flagging.score_samples(x)[0]) and flagging.predict(x)[0] == 1
    x.iloc[1, x.columns.get_loc("V3")] = 10**400  # beside a cell pandas cannot convert: read cell by cell
    with pytest.raises(UsageError, match=r"row 1 \(position 0\), column 'V3'"):
        detector.score_samples(x)
    complex_column = test.drop(columns=["Class"]).head(3).assign(V3=lambda d: d["V3"].astype(complex) + 1e30j)
    with pytest.raises(UsageError, match="column 'V3': non-numeric value"):
        detector.score_samples(complex_column)
    # pandas turns periods and intervals into numbers (a period's ordinal): they are no feature values
    for odd in (pd.period_range("1970", periods=3, freq="Y"), pd.interval_range(0, 3)):
        with pytest.raises(UsageError, match=r"row 1 \(position 0\), column 'V3': non-numeric value"):
            detector.score_samples(test.drop(columns=["Class"]).head(3).assign(V3=odd))


def test_a_parquet_binary_column_is_not_read_as_numbers(detector, data, tmp_path):
    """pandas decodes bytes like text (b"1.23" -> 1.23): a binary column is not the numbers a model was fitted on,
    in the Python API and through the score command, whatever the cells hold."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keras_ae.cli.fraud import cli

    _, test = data
    x = test.drop(columns=["Class"]).head(5)
    table = pa.Table.from_pandas(x, preserve_index=False)
    binary = pa.array([repr(float(v)).encode() for v in x["V3"]], type=pa.binary())
    table = table.set_column(table.schema.get_field_index("V3"), "V3", binary)
    pq.write_table(table, tmp_path / "binary.parquet")
    with pytest.raises(UsageError, match=r"row 1 \(position 0\), column 'V3': non-numeric value"):
        detector.score_samples(pd.read_parquet(tmp_path / "binary.parquet"))
    detector.save(tmp_path / "model")
    code = cli(["score", "--model", str(tmp_path / "model"), "--input", str(tmp_path / "binary.parquet"), "--out",
                str(tmp_path / "scored.csv"), "--quiet"])
    assert code == 2 and not (tmp_path / "scored.csv").exists()


@pytest.mark.parametrize("params, message", [
    ({"seed": 3.0}, "seed must be an integer, received 3.0"),
    ({"epochs": np.float64(2.0)}, "epochs must be an integer"),
    ({"log_amount": "no"}, "log_amount must be True or False, received 'no'"),
])
def test_python_parameters_of_the_wrong_type_are_refused(data, params, message):
    train, _ = data
    with pytest.raises(UsageError, match=message):
        FraudDetector(verbose=0, **params).fit(train.head(300))


def test_explain_checks_top(detector, data):
    _, test = data
    for top in (0, 1.5, "3"):
        with pytest.raises(UsageError, match="top must be an integer >= 1"):
            detector.explain(test.head(2), top=top)


def test_explain_gives_no_columns_for_a_row_it_could_not_score(detector, data):
    _, test = data
    x = test.drop(columns=["Class"]).head(3).copy()
    x.iloc[0, x.columns.get_loc("V3")] = np.nan
    flagging = FraudDetector(**{**detector.get_params(), "unscorable": "flag"})
    flagging.__dict__.update({k: v for k, v in vars(detector).items() if k.endswith("_")})
    explained = flagging.explain(x, top=2)
    assert explained[0] == [] and len(explained[1]) == 2 and all(s >= 0 for _, s in explained[1])
