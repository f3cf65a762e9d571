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


def test_top_feature_names_that_hold_a_space_colon_or_quote_are_quoted():
    """'card age:0.97 V26:0.01' and 'amt:eur:0.88' could not be split back into names and shares."""
    import csv
    import io

    import numpy as np

    from keras_ae.fraud.explain import format_top

    names = ["card age", "amt:eur", 'say "hi"', "V26"]
    share = np.array([[0.5, 0.3, 0.15, 0.05], [0.0, 0.0, 0.1, 0.9]])
    out = format_top(names, share, 3)
    assert out.tolist() == ['"card age":0.50 "amt:eur":0.30 "say ""hi""":0.15',
                            'V26:0.90 "say ""hi""":0.10 "card age":0.00']
    pairs = next(csv.reader(io.StringIO(out[0]), delimiter=" "))
    assert [p.rsplit(":", 1)[0] for p in pairs] == names[:3]
