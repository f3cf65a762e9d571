"""Every row of the bad-input table of issue 12: one line naming the problem, exit code 2, nothing written
(or, where a user would expect it to work, it works).

Rows that tests/test_probe.py checks as strictly (the file named, nothing changed on disk) are left to it: a
latin-1 byte in a table, a damaged model directory (and tests/fraud/test_bundle_verify.py, file by file)."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.cli import experiment as experiment_cli  # noqa: E402
from keras_ae.cli import train as train_cli  # noqa: E402
from keras_ae.cli.anomaly import cli as anomaly  # noqa: E402
from keras_ae.cli.fraud import cli as fraud  # noqa: E402
from keras_ae.errors import UsageError  # noqa: E402
from tests.helpers import listing, one_line_error  # noqa: E402


@pytest.fixture
def table(data, tmp_path):
    _, test = data
    path = tmp_path / "new.csv"
    test.head(400).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", ["score", "evaluate"])
def test_out_an_existing_directory(command, bundle, table, tmp_path, capsys):
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "mine.txt").write_text("the user's")  # (an empty one becomes the output: test_tables.py)
    code = fraud([command, "--model", str(bundle), "--input", str(table), "--out", str(tmp_path / "here"),
                  "--quiet"])
    one_line_error(code, capsys, "--out", "here", "existing directory")
    assert listing(tmp_path / "here") == ["mine.txt"]


def test_out_the_input_file_leaves_the_input_alone(bundle, table, capsys):
    before = table.read_bytes()
    code = fraud(["score", "--model", str(bundle), "--input", str(table), "--out", str(table), "--quiet"])
    one_line_error(code, capsys, f"--out '{table}' is an input ({table})", "write the output elsewhere")
    assert table.read_bytes() == before


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_threshold_value_that_is_not_finite(value, bundle, table, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    for argv in (["score", "--out", str(out)], ["evaluate", "--out", str(tmp_path / "m.json")]):
        code = fraud([*argv, "--model", str(bundle), "--input", str(table), "--threshold-rule", "value",
                      f"--threshold-value={value}", "--quiet"])
        one_line_error(code, capsys, "--threshold-value", "finite")
    code = fraud(["fit", "--input", str(table), "--out", str(tmp_path / "model"), "--threshold-rule", "value",
                  f"--threshold-value={value}"])
    one_line_error(code, capsys, "--threshold-value")
    assert listing(tmp_path) == ["new.csv"]


def test_a_separator_that_does_not_split_the_header(bundle, table, tmp_path, capsys):
    code = fraud(["score", "--model", str(bundle), "--input", str(table), "--out", str(tmp_path / "s.csv"),
                  "--sep", ":"])
    one_line_error(code, capsys, "new.csv", "','", "--sep ':'")
    code = fraud(["score", "--model", str(bundle), "--input", str(table), "--out", str(tmp_path / "s.csv"),
                  "--sep", "::"])  # pandas would take it as a pattern, which the scored table cannot be written with
    one_line_error(code, capsys, "--sep", "one ASCII character", "'::'")
    assert listing(tmp_path) == ["new.csv"]


def test_out_an_existing_file(table, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    one_line_error(fraud(["fit", "--input", str(table), "--out", str(taken)]), capsys, "taken", "existing file")
    one_line_error(train_cli.cli(["--out", str(taken), "--epochs", "1"]), capsys, "taken", "existing file")
    one_line_error(anomaly(["--out", str(taken), "--epochs", "1"]), capsys, "taken", "existing file")
    assert taken.read_text() == "keep me" and listing(tmp_path) == ["new.csv", "taken"]


def test_a_folder_dataset_with_one_image(tmp_path, capsys):
    from PIL import Image

    (tmp_path / "D").mkdir()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "D" / "a.png")
    code = train_cli.cli(["--dataset", f"folder:{tmp_path / 'D'}", "--out", str(tmp_path / "run"), "--epochs", "1"])
    one_line_error(code, capsys, "1 training image", "at least 2")
    assert listing(tmp_path) == ["D"]


@pytest.mark.parametrize(("value", "fragment"), [([1], "[1]"), (1.5, "1.5"), (True, "true"), ("3", '"3"')])
def test_a_config_value_of_the_wrong_type(value, fragment, tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"epochs": value}))
    code = train_cli.cli(["--config", str(config), "--out", str(tmp_path / "run")])
    one_line_error(code, capsys, "c.json", "'epochs'", "integer", fragment)
    assert listing(tmp_path) == ["c.json"]


def test_a_sweep_with_an_unknown_dataset_leaves_no_directory(tmp_path, capsys):
    sweep = {"name": "t", "dataset": "nosuch", "arch": "font", "n_runs": 1, "grid": {"epochs": [1]}}
    (tmp_path / "s.json").write_text(json.dumps(sweep))
    code = experiment_cli.cli(["--config", str(tmp_path / "s.json"), "--out", str(tmp_path / "out")])
    one_line_error(code, capsys, "nosuch")
    assert listing(tmp_path) == ["s.json"]


def test_integer_column_names_fit_score_and_round_trip(tmp_path):
    from keras_ae.fraud import FraudDetector

    x = np.random.default_rng(0).normal(size=(300, 4))
    frame = pd.DataFrame(x)  # columns 0..3 (integers)
    det = FraudDetector(epochs=2, n_models=1, verbose=0).fit(frame)
    scores = det.score_samples(frame)
    assert scores.shape == (300,) and np.isfinite(scores).all()
    np.testing.assert_allclose(FraudDetector.load(det.save(tmp_path / "m")).score_samples(frame), scores,
                               rtol=1e-5)


def test_constant_columns_are_refused_by_name(tmp_path, capsys):
    from keras_ae.fraud import FraudDetector

    frame = pd.DataFrame({"a": np.ones(200), "b": np.zeros(200), "Class": 0})
    with pytest.raises(UsageError, match=r"no feature varies.*constant columns: a, b"):
        FraudDetector(epochs=1, n_models=1, verbose=0).fit(frame)
    frame.to_csv(tmp_path / "flat.csv", index=False)
    code = fraud(["fit", "--input", str(tmp_path / "flat.csv"), "--out", str(tmp_path / "m"),
                  "--label-column", "none", "--time-column", "x", "--amount-column", "y"])
    one_line_error(code, capsys, "flat.csv", "constant", "a, b")
    assert listing(tmp_path) == ["flat.csv"]
    # one constant column among varying ones is fine: a value there at scoring time is a reason to flag
    frame["c"] = np.random.default_rng(0).normal(size=200)
    FraudDetector(epochs=1, n_models=1, verbose=0).fit(frame)


def test_scoring_no_rows_is_the_package_message(detector, data):
    _, test = data
    with pytest.raises(UsageError, match="no rows"):
        detector.score_samples(test.head(0))


def test_rows_with_one_field_more_than_the_header(bundle, data, tmp_path, capsys):
    _, test = data
    lines = test.head(3).to_csv(index=False).splitlines()
    path = tmp_path / "extra.csv"  # every row has an extra field: pandas would silently take it as an index
    path.write_text("\n".join([lines[0], *("7," + line for line in lines[1:])]) + "\n")
    code = fraud(["score", "--model", str(bundle), "--input", str(path), "--out", str(tmp_path / "s.csv"), "--quiet"])
    one_line_error(code, capsys, "extra.csv", "row 1", "32 fields", "31 columns")
    assert listing(tmp_path) == ["extra.csv"]


@pytest.mark.parametrize(("argv", "fragments"), [
    (["score", "--model", "", "--input", "{table}", "--out", "{tmp}/s.csv"], ["--model must be a path, received ''"]),
    (["score", "--model", "{bundle}", "--input", "", "--out", "{tmp}/s.csv"], ["--input must be a path, received ''"]),
    (["score", "--model", "{bundle}", "--input", "{table}", "--out", ""], ["--out must be a path, received ''"]),
    (["evaluate", "--model", "{bundle}", "--input", ""], ["--input must be a path, received ''"]),
    (["score", "--model", "{bundle}", "--input", "{table}", "--out", "{tmp}/s.csv", "--master", "local[2]"],
     ["--master 'local[2]' is an option of --engine 'spark'"]),
    (["score", "--model", "{bundle}", "--input", "{table}", "--out", "{tmp}/s", "--engine", "spark",
      "--chunksize", "5"],
     ["--chunksize 5 is an option of --engine 'local'"]),
    (["score", "--model", "{bundle}", "--input", "{table}", "--out", "{tmp}/s", "--engine", "spark",
      "--chunksize", "20000"],
     ["--chunksize 20000 is an option of --engine 'local'"]),
    (["fit", "--input", "{table}", "--out", "{tmp}/m", "--drop", "Class"],
     ["--drop ['Class'] names 'Class', the label column (--label-column 'Class')"]),
    (["fit", "--input", "{table}", "--out", "{tmp}/m", "--amount-column", "Class"],
     ["--amount-column and --label-column both name 'Class'"]),
    (["fit", "--input", "{table}", "--out", "{tmp}/m", "--time-column", "Class", "--time", "keep"],
     ["--time-column and --label-column both name 'Class'"]),
    (["fit", "--input", "{table}", "--out", "{tmp}/m", "--n-models", "1000000000"],
     ["--n-models must be an integer in [1, 100], received 1000000000"]),
])
def test_empty_paths_ignored_options_and_columns_in_two_roles_are_refused(argv, fragments, bundle, table, tmp_path,
                                                                           capsys):
    """An empty path would be the working directory; an option that would do nothing, or a column named for two
    roles, is a slip: each refused in one line before any work, nothing written."""
    before = listing(tmp_path)
    argv = [a.format(table=table, tmp=tmp_path, bundle=bundle) for a in argv]
    one_line_error(fraud(argv), capsys, *fragments)
    assert listing(tmp_path) == before


def test_a_file_that_is_not_an_npz_is_named_as_such(tmp_path, capsys):
    """np.load takes any other file for a pickle and suggests allow_pickle: the message says what the file is not."""
    fake = tmp_path / "pneumoniamnist.csv"
    fake.write_text("a,b\n1,2\n")
    code = anomaly(["--dataset", "pneumonia", "--data-path", str(fake), "--out", str(tmp_path / "run")])
    one_line_error(code, capsys, f"PneumoniaMNIST file {fake} is not an .npz file")
    assert listing(tmp_path) == ["pneumoniamnist.csv"]


@pytest.mark.parametrize("name", ["folder:", "tfds:", "medmnist: "])
def test_a_dataset_family_without_a_name_is_refused(name, tmp_path, capsys):
    code = train_cli.cli(["--dataset", name, "--out", str(tmp_path / "run"), "--epochs", "1"])
    one_line_error(code, capsys, f"--dataset {name!r} names nothing after")
    assert listing(tmp_path) == []


def test_a_config_file_giving_a_key_twice_is_refused(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text('{"epochs": 1, "epochs": 2}')
    code = train_cli.cli(["--config", str(config), "--out", str(tmp_path / "run")])
    one_line_error(code, capsys, f"config file {config} gives the key 'epochs' twice")
    assert listing(tmp_path) == ["c.json"]


def test_a_header_change_part_way_names_the_columns():
    from keras_ae.fraud.scoring import header_change

    assert header_change(["a", "b", "c"], ["a", "c", "d"]).startswith("the columns changed (columns b missing; "
                                                                       "columns d new)")
    assert "the same columns in another order" in header_change(["a", "b"], ["b", "a"])


def test_rules_for_a_new_fit_leave_saved_detectors_alone_and_dropping_the_amount_is_fine():
    from keras_ae.fraud import FraudDetector, params

    params.check(FraudDetector(drop=("Amount",)), fitting=True)  # keeps Amount out of the features: allowed
    many = FraudDetector(n_models=500)
    params.check(many)  # a detector saved before the bound still loads
    with pytest.raises(UsageError, match=r"n_models must be an integer in \[1, 100\], received 500"):
        params.check(many, fitting=True)
    with pytest.raises(UsageError, match="the time column that time_mode='hour' uses"):
        params.check(FraudDetector(time_mode="hour", drop=("Time",)), fitting=True)


def test_a_config_setting_one_option_under_two_names_is_refused(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text('{"batch_size": 64, "batch-size": 32}')
    code = train_cli.cli(["--config", str(config), "--out", str(tmp_path / "run")])
    one_line_error(code, capsys, "'batch-size' sets an option an earlier key already set")


def test_a_streamed_dataset_that_cannot_be_downloaded_is_one_line(tmp_path, capsys, monkeypatch):
    """A TFDS set streams and has no offline fallback: the download failure is the one error line."""
    from keras_ae.data import DownloadError, stream

    def offline(*args, **kwargs):
        raise DownloadError("cannot download tfds:mnist: Failed to establish a new connection")

    monkeypatch.setattr(stream, "load_stream", offline)
    code = train_cli.cli(["--dataset", "tfds:mnist", "--out", str(tmp_path / "run"), "--epochs", "1"])
    one_line_error(code, capsys, "cannot download tfds:mnist")
    assert listing(tmp_path) == []
