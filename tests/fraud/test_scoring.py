"""keras_ae.fraud.scoring: chunked CSV scoring equals in-memory scoring."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from keras_ae.fraud import FraudDetector  # noqa: E402
from keras_ae.fraud.scoring import count_rows, score_table  # noqa: E402


# ------------------------------------------------------------------------------------ chunked scoring
def test_score_table_in_chunks_matches_in_memory_scores(detector, data, tmp_path):
    _, test = data
    src, out = tmp_path / "new.csv", tmp_path / "scored.csv"
    test.to_csv(src, index=False)
    assert count_rows(src) == len(test)
    summary = score_table(detector, src, out, chunksize=400, progress=False)
    scored = pd.read_csv(out)
    assert summary["rows"] == len(scored) == len(test)
    assert list(scored.columns) == [*test.columns, "score", "reconstruction_error", "flag", "top_features",
                                    "p_value"]
    np.testing.assert_allclose(scored["score"], detector.score_samples(test), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scored["reconstruction_error"], detector.reconstruction_errors(test), rtol=1e-5)
    np.testing.assert_array_equal(scored["flag"], detector.predict(test))
    first = [name for name, _ in detector.explain(test.head(5))[0]]
    assert scored["top_features"][0].split()[0].split(":")[0] == first[0]
    assert summary["flagged"] == int(scored["flag"].sum())
    src_lines, out_lines = src.read_text().splitlines(), out.read_text().splitlines()
    assert all(o.startswith(s + ",") for s, o in zip(src_lines[:50], out_lines[:50], strict=True))  # verbatim


def test_progress_into_a_file_is_plain_lines_at_a_modest_rate():
    import io

    from keras_ae.progress import Progress

    log = io.StringIO()
    bar = Progress(10_000, stream=log, every=3600)
    for _ in range(100):
        bar.update(100)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert lines[0].startswith("100/10,000 rows") and lines[-1].startswith("10,000/10,000 rows (100%)")


def test_a_quoted_field_with_a_line_break_keeps_every_row_aligned(detector, data, tmp_path):
    """A CSV record is not a line when a quoted field holds a line break: such files go through pandas."""
    _, test = data
    rows = test.head(50).copy()
    rows.insert(0, "note", ["line one\nline two" if i % 7 == 0 else "plain" for i in range(len(rows))])
    src, out = tmp_path / "quoted.csv", tmp_path / "scored.csv"
    rows.to_csv(src, index=False)
    det = FraudDetector(**{**detector.get_params(), "drop": ("note",)})
    det.__dict__.update({k: v for k, v in detector.__dict__.items() if k.endswith("_")})
    score_table(det, src, out, chunksize=7, progress=False)
    scored = pd.read_csv(out)
    assert list(scored["note"]) == list(rows["note"])
    np.testing.assert_allclose(scored["score"], detector.score_samples(test.head(50)), rtol=1e-5, atol=1e-6)
