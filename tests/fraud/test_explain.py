"""keras_ae.fraud.explain: the column that breaks the pattern is named first."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def test_explain_names_the_column_that_breaks_the_pattern(detector, data):
    _, test = data
    rows = test[test["Class"] == 0].head(20).copy()
    rows["V3"] += 25 * test["V3"].std()
    explained = detector.explain(rows, top=3)
    assert all(row[0][0] == "V3" for row in explained)
    assert all(len(row) == 3 and 0 <= sum(s for _, s in row) <= 1 + 1e-9 for row in explained)
