"""keras_ae.fraud.bundle: a saved detector loads back with the same scores, and checks its columns."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import FraudDetector  # noqa: E402


def test_bundle_round_trip_and_column_mismatch(detector, bundle, data):
    _, test = data
    loaded = FraudDetector.load(bundle)
    np.testing.assert_allclose(loaded.score_samples(test), detector.score_samples(test), rtol=1e-5)
    assert loaded.threshold_ == pytest.approx(detector.threshold_)
    assert loaded.columns_ == detector.columns_ and loaded.time_mode == "hour"
    assert loaded.metadata_["versions"]["keras"] and loaded.metadata_["training"]["normal_rows"] > 0
    with pytest.raises(UsageError, match="made for other columns.*'Time'"):
        FraudDetector.load(bundle, columns=["a", "b", "Class"])
    with pytest.raises(UsageError, match="new.csv, column 'V2': missing"):
        FraudDetector.load(bundle, columns=[c for c in test.columns if c != "V2"], source="new.csv")
    with pytest.raises(UsageError, match="column 'V7': missing"):
        loaded.score_samples(test.drop(columns=["V7"]))


def test_loading_and_scoring_never_import_tensorflow(bundle, data, tmp_path):
    """Load, score_samples, predict, explain, and the score and evaluate commands, in a fresh interpreter."""
    import subprocess
    import sys

    _, test = data
    test.head(300).to_csv(tmp_path / "new.csv", index=False)
    code = (
        "import sys\n"
        "from keras_ae.fraud import FraudDetector\n"
        "import pandas as pd\n"
        f"det = FraudDetector.load({str(bundle)!r})\n"
        f"rows = pd.read_csv({str(tmp_path / 'new.csv')!r})\n"
        "det.score_samples(rows); det.predict(rows); det.explain(rows.head(3))\n"
        "from keras_ae.cli.fraud import cli\n"
        f"assert cli(['score', '--model', {str(bundle)!r}, '--input', {str(tmp_path / 'new.csv')!r}, "
        f"'--out', {str(tmp_path / 'out.parquet')!r}, '--quiet']) == 0\n"
        f"assert cli(['evaluate', '--model', {str(bundle)!r}, '--input', {str(tmp_path / 'new.csv')!r}, "
        "'--quiet']) == 0\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_model_saved_with_a_value_its_rule_ignores_still_loads(bundle, tmp_path):
    """Earlier versions accepted (and stored) a threshold value with a rule that takes none, e.g. f1."""
    import json
    import shutil

    from keras_ae.anomaly.thresholds import choose_threshold
    from keras_ae.fraud import bundle as bundle_io

    old = tmp_path / "old"
    shutil.copytree(bundle, old)
    meta = json.loads((old / "detector.json").read_text())
    meta["params"].update(threshold_rule="f1", threshold_value=0.3)
    with np.load(old / "validation.npz") as arrays:
        f1 = choose_threshold("f1", arrays["scores"], arrays["labels"], None)
    meta["threshold"].update(rule="f1", value=0.3, threshold=f1)
    (old / "detector.json").write_text(json.dumps(meta))
    bundle_io.write_manifest(old)
    det = FraudDetector.load(old)
    assert det.threshold_rule == "f1" and det.threshold_value is None and np.isfinite(det.threshold_)


def test_saving_after_a_rule_change_without_a_new_threshold_is_refused(detector, tmp_path):
    """set_params changes the rule but not threshold_: the saved file would score with another threshold."""
    import copy

    changed = copy.copy(detector).set_params(threshold_rule="percentile", threshold_value=90.0)
    with pytest.raises(UsageError, match=r"^threshold_rule or threshold_value changed .*set_threshold"):
        changed.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()
    changed.set_threshold("percentile", 90.0)
    assert FraudDetector.load(changed.save(tmp_path / "model")).threshold_ == pytest.approx(changed.threshold_)


def test_save_writes_only_a_new_directory_or_over_a_fraud_model(detector, tmp_path, monkeypatch):
    """The README's det.save("models/fraud"): a folder of the user's, a link, the current directory, a file are
    refused untouched; an earlier model is replaced whole."""
    mine = tmp_path / "proj"
    mine.mkdir()
    for name in ("manifest.json", "detector.json", "weights.npz"):
        (mine / name).write_text("mine")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "link").symlink_to(mine)
    monkeypatch.chdir(tmp_path)
    for target, message in [(mine, "an existing directory that is not a keras-ae fraud model directory"),
                            (tmp_path / "notes.txt", "an existing file"), (tmp_path / "link", "a symbolic link"),
                            (".", "the current or root directory"), ("", "empty path")]:
        with pytest.raises(UsageError, match=f"^directory=.*{message}"):
            detector.save(target)
    assert all((mine / n).read_text() == "mine" for n in ("manifest.json", "detector.json", "weights.npz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "notes.txt", "proj"]
    first = detector.save(tmp_path / "models" / "fraud")
    (first / "extra.txt").write_text("not a model's")  # a model folder with a file of the user's: refused
    with pytest.raises(UsageError, match="not a keras-ae fraud model directory"):
        detector.save(first)
    (first / "extra.txt").unlink()
    assert FraudDetector.load(detector.save(first)).threshold_ == pytest.approx(detector.threshold_)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["fraud"]
    before = sorted(p.name for p in first.iterdir())
    with pytest.raises(UsageError, match="lies inside the fraud model directory"):  # it would spoil the model's
        detector.save(first / "sub")
    assert sorted(p.name for p in first.iterdir()) == before
