"""keras_ae.fraud.synthetic: synthetic transactions in the Kaggle schema."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from keras_ae.fraud import synthetic_transactions  # noqa: E402
from keras_ae.fraud.schema import KAGGLE_COLUMNS  # noqa: E402


# ------------------------------------------------------------------------------------------ synthetic
def test_synthetic_transactions_has_the_kaggle_schema_and_structure():
    df = synthetic_transactions(20_000, seed=3)
    assert list(df.columns) == KAGGLE_COLUMNS
    assert len(df) == 20_000 and int(df["Class"].sum()) == round(20_000 * 0.00172)
    assert df["Time"].is_monotonic_increasing and df["Amount"].min() >= 0
    assert df["Amount"].mean() > 1.5 * df["Amount"].median()  # right-skewed amounts
    corr = np.corrcoef(df[[f"V{i}" for i in range(1, 29)]].to_numpy().T)
    assert np.abs(corr[np.triu_indices(28, 1)]).max() > 0.3  # correlated V-features
    fraud = df[df["Class"] == 1]
    assert fraud["V14"].mean() < df["V14"].mean() - 2 * df["V14"].std() / 2
    pd.testing.assert_frame_equal(df, synthetic_transactions(20_000, seed=3))
    assert not synthetic_transactions(500, seed=4).equals(df.head(500))
