"""A value that alone makes up a feature's spread is refused at fit: standardised by such a spread, the feature
would be blind to every other value, and rows far outside the normal ones would pass as normal."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.fraud.preprocess import SPREAD_LIMIT, Preprocessor  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402


def frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(n, 3)), columns=["V1", "V2", "Amount"])
    table["Amount"] = np.abs(table["Amount"]) * 80
    return table


def dominated(table, **kw):
    return Preprocessor(list(table.columns), time_column=None, **kw).dominated_feature(table)


@pytest.mark.parametrize("values", [[1e30], [1e30, -1e30], [5e3, 6e3, 7e3]])
def test_a_few_extreme_rows_are_found_with_their_column(values):
    table = frame()
    rows = [16, 40, 300][: len(values)]
    table.loc[rows, "V2"] = values
    position, column, multiple, kind = dominated(table)
    assert column == "V2" and position in rows and multiple > SPREAD_LIMIT and kind == "feature"


@pytest.mark.parametrize(("code", "share"), [(-999999.0, 0.01), (1e30, 0.01), (-999.0, 0.04), (-999999.0, 0.062),
                                             (-999999.0, 0.2)])
def test_a_missing_value_code_in_a_few_percent_of_the_rows_is_found(code, share):
    """A code for "missing" in 1% of the rows swallowed the column's spread (a V14 of 5,000 then scored like 1.5)
    and was too many rows for the rule of the few most extreme ones."""
    table = frame(2000)
    rows = np.random.default_rng(3).choice(2000, int(share * 2000), replace=False)
    table.loc[rows, "V2"] = code
    position, column, multiple, kind = dominated(table)
    assert column == "V2" and position == rows.min() and multiple > SPREAD_LIMIT and kind == "feature"


def test_a_rare_flag_a_sparse_pixel_and_a_second_mode_are_no_code():
    rng = np.random.default_rng(2)
    pixel = np.full(4143, -10.498)  # ADBench's MNIST: a border pixel inked in 5 of 4,143 normal images
    pixel[[7, 90, 1000, 2000, 3000]] = [242.5, 234.5, 149.5, 78.5, -8.498]
    table = pd.DataFrame({"flag": (rng.random(4143) < 0.01) * 1000.0,  # two values: nothing else to compare with
                          "pixel": pixel,  # once refused by the rule of the few most extreme rows
                          "counts": rng.negative_binomial(1, 0.01, 4143).astype(float),  # a long natural tail
                          "wide": np.where(rng.random(4143) < 0.3, 1e6, rng.normal(size=4143))})  # 30%: a mode
    assert dominated(table) is None
    table.loc[[3, 5], "counts"] = 1e30  # a stray value in a varying column is still found
    assert dominated(table)[:2] == (3, "counts")
    flag = np.zeros(1000)
    flag[:5] = 1.0
    flag[7] = 1e30  # and in a rare flag: far beyond its other values
    assert dominated(pd.DataFrame({"flag": flag}))[:2] == (7, "flag")
    fees = np.zeros(2000)  # but fees of 0.01-0.02 beside 5-8, or 20 and 40 beside 5,000, are real
    fees[[3, 9, 30, 44, 70, 81, 99, 120]] = [0.01, 0.01, 0.02, 0.02, 5, 6, 7, 8]
    refunds = np.zeros(2000)
    refunds[[5, 6, 7]] = [20, 40, 5000]
    assert dominated(pd.DataFrame({"fees": fees, "refunds": refunds})) is None


def test_ordinary_tails_pass_and_a_stray_amount_is_found_in_the_raw_amounts_its_range_is_taken_from():
    table = frame()
    assert dominated(table) is None
    table.loc[5, "Amount"] = 1e30  # log1p(1e30) = 69: it does not swallow the log's spread, but the range's
    assert dominated(table)[:2] == (5, "Amount") and dominated(table)[3] == "range"
    assert dominated(table, log_amount=False)[1:4:2] == ("Amount", "feature")
    rng = np.random.default_rng(1)
    heavy = pd.DataFrame({"t2": rng.standard_t(2, 20_000), "lognormal": rng.lognormal(0, 2, 20_000),
                          "sparse": np.where(np.arange(20_000) == 7, 9.0, 0.0),  # constant but for one row
                          "Amount": rng.lognormal(0, 4, 20_000)})  # a raw amount's tail far heavier than real ones
    assert dominated(heavy) is None


def test_fit_refuses_a_stray_amount_that_would_open_the_range_of_normal_amounts(tmp_path):
    """A normal training amount of 1e30 would make the range of normal amounts reach 1e30: every far amount
    would pass. fit names the row instead."""
    from keras_ae.errors import UsageError
    from keras_ae.fraud import FraudDetector, synthetic_transactions

    rows = synthetic_transactions(2000, seed=0)
    rows.loc[rows.index[rows["Class"] == 0][10], "Amount"] = 1e30
    with pytest.raises(UsageError, match="column 'Amount'.*1e[+]30 is so far from the other normal rows.*the range "
                                         "of normal amounts taken with it would pass"):
        FraudDetector(epochs=1).fit(rows)


def test_two_codes_together_are_found():
    table = frame(2000)
    table.loc[range(0, 2000, 32), "V2"] = -999999.0
    table.loc[range(16, 2000, 32), "V2"] = 999999.0
    assert dominated(table)[1] == "V2"


def test_fit_names_a_missing_value_code_with_its_rows():
    from keras_ae.errors import UsageError
    from keras_ae.fraud import FraudDetector, synthetic_transactions

    rows = synthetic_transactions(2000, seed=0)
    normal = rows.index[rows["Class"] == 0]
    rows.loc[normal[5:45:2], "V14"] = -999999
    with pytest.raises(UsageError, match=r"column 'V14'.*-999999 \(in 20 rows: a code for a missing value\?\) is so "
                                         r"far from the other normal rows"):
        FraudDetector(epochs=1).fit(rows)


def test_no_column_of_the_real_credit_card_rows_is_dominated():
    path = SHARED_DATA / "creditcard_dev.csv"
    if not path.exists():
        pytest.skip("the development credit-card file is not here")
    table = pd.read_csv(path)
    normal = table[table["Class"] == 0].drop(columns=["Class"])
    assert Preprocessor(list(normal.columns), time_mode="hour").dominated_feature(normal) is None
