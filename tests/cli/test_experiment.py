"""keras_ae.cli.experiment: a sweep end to end; bad sweep files give a one-line error and exit 2."""

import json

import pandas as pd
import pytest

from keras_ae.cli import experiment as experiment_cli
from keras_ae.errors import UsageError
from keras_ae.lectures import experiment

TINY = {"dataset": "font5x7", "arch": "font", "batch_size": 16, "n_runs": 2, "metric": "wrong_pixels",
        "grid": {"layers": [[12]], "activation": ["tanh", "sigmoid"], "learning_rate": [0.01],
                 "latent_dim": [2], "epochs": [3]}}


def write(tmp_path, config, name="sweep.json"):
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


def test_two_point_sweep_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    code = experiment_cli.cli(["--config", str(write(tmp_path, TINY)), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 4 and sorted(results["activation"].unique()) == ["sigmoid", "tanh"]
    assert list(results["seed"]) == [0, 1, 0, 1]
    assert (results["epochs_run"] == 3).all() and results["wrong_pixels"].between(0, 35).all()
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["runs"]) == [2, 2]
    first = results[results["config"] == "c00"]["wrong_pixels"]
    assert summary.loc[0, "wrong_pixels_mean"] == pytest.approx(first.mean())
    assert summary.loc[0, "wrong_pixels_std"] == pytest.approx(first.std())
    histories = pd.read_csv(out / "histories.csv")
    assert len(histories) == 4 * 3
    for name in ("comparison.png", "loss_curves.png"):
        assert (out / name).stat().st_size > 1000


@pytest.mark.parametrize("change, message", [
    ({"grid": {"activation": ["relu", "swish"]}}, "grid.activation='swish': unknown activation"),
    ({"grid": {"activation": []}}, "grid.activation=[]: is empty"),
    ({"grid": {}}, "grid={}: must be a non-empty object"),
    ({"grid": {"learning_rate": [-0.1]}}, "'grid.learning_rate' must be a finite number > 0, received -0.1"),
    ({"grid": {"learning_rate": [{"initial": 0.1, "decay_rate": 2, "decay_epochs": 5}]}},
     "'grid.learning_rate.decay_rate' must be a finite number in (0, 1], received 2"),
    ({"grid": {"initializer": ["zeros"]}}, "grid.initializer='zeros': unknown initializer"),
    ({"grid": {"loss": ["hinge"]}}, "grid.loss='hinge': unknown loss"),
    ({"grid": {"epochs": [0]}}, "'grid.epochs' must be an integer >= 1, received 0"),
    ({"grid": {"dropout": [0.1]}}, "grid.dropout=[0.1]: unknown key"),
    ({"n_runz": 3}, "n_runz=3: unknown key"),
    ({"passes_per_epoch": 2}, "grid.epochs=[3]: each must be a multiple of passes_per_epoch (2)"),
    ({"arch": "vae", "dataset": "mnist-sample", "metric": "final_loss", "grid": {"layers": [[8], []]}},
     "grid.layers=[[8], []]: a VAE needs at least one hidden layer in each"),
    ({"n_runs": 0}, "'n_runs' must be an integer >= 1, received 0"),
    ({"arch": "gan"}, "arch='gan': unknown architecture"),
    ({"dataset": "bogus"}, "dataset='bogus': unknown dataset (known: mnist"),
    ({"grid": {"loss": [["bce"]]}}, "grid.loss=['bce']: must be a name"),
    ({"name": "../../escape"}, "name='../../escape': must be a plain name"),
    ({"name": {"x": 1}}, "must be a plain name"),
    ({"channels": 2, "dataset": "folder:imgs"}, "channels=2: must be 1 or 3"),
    ({"image_size": 32, "dataset": "mnist-sample"}, "image_size=32: applies to the images of folder:"),
    ({"grid": {"latent_dim": list(range(1, 101)), "epochs": list(range(1, 101)), "activation": ["tanh", "relu"]}},
     "the grid makes 20,000 configurations, more than 10,000"),
    ({"grid": {"latent_dim": [1, 2, 3]}, "n_runs": 2147483647},
     "3 configurations x 2,147,483,647 seeds ('n_runs') make 6,442,450,941 runs, more than 100,000"),
    ({"grid": {"initializer": [{"name": "he"}]}}, "must be a name"),
    ({"grid": {"activation": ["tanh", "tanh"]}}, "grid.activation=['tanh', 'tanh']: lists 'tanh' twice"),
    ({"grid": {"latent_dim": [2, 2.0]}}, "lists 2 twice"),
    ({"dataset": "folder:no/such/folder"}, "dataset='folder:no/such/folder': no such folder"),
    ({"arch": ["font"]}, "arch=['font']: must be an architecture name"),
])
def test_bad_sweep_gives_a_one_line_error_and_exit_2(change, message, tmp_path, capsys):
    config = {**TINY, **change}
    path = write(tmp_path, config)
    assert experiment_cli.cli(["--config", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: config file {path}: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_missing_or_broken_sweep_file(tmp_path, capsys):
    assert experiment_cli.cli(["--config", str(tmp_path / "none.json")]) == 2
    assert "cannot read config file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert experiment_cli.cli(["--config", str(broken)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    with pytest.raises(UsageError, match="must hold a JSON object"):
        experiment.parse_sweep([1, 2])


def test_a_configuration_that_diverges_is_a_row_of_the_results_not_a_failure(tmp_path, capsys):
    config = {**TINY, "n_runs": 1, "grid": {**TINY["grid"], "activation": ["tanh"], "learning_rate": [0.01, 1e300]}}
    out = tmp_path / "out"
    code = experiment_cli.cli(["--config", str(write(tmp_path, config)), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 2 and results["final_loss"].notna().iloc[0] and results["final_loss"].isna().iloc[1]


def test_a_sweep_whose_every_configuration_diverges_still_draws_its_pictures(tmp_path, capsys):
    config = {**TINY, "n_runs": 1, "grid": {**TINY["grid"], "activation": ["tanh"], "learning_rate": [1e300]}}
    out = tmp_path / "out"
    code = experiment_cli.cli(["--config", str(write(tmp_path, config)), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert (out / "loss_curves.png").stat().st_size > 0 and not (out / "UNFINISHED.json").exists()
    assert pd.read_csv(out / "results.csv")["final_loss"].isna().all()


def test_a_configuration_whose_last_update_diverged_is_no_result_to_rank(tmp_path, capsys):
    """One epoch of one batch at learning rate 3e38: the training loss was measured before the update that made the
    weights NaN; wrong pixels of NaN reconstructions once counted as the ink alone and ranked it best."""
    config = {"metric": "wrong_pixels", "n_runs": 1, "grid": {"learning_rate": [0.001, 3e38], "epochs": [1]}}
    out = tmp_path / "out"
    code = experiment_cli.cli(["--config", str(write(tmp_path, config)), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = pd.read_csv(out / "results.csv")
    assert results["wrong_pixels"].notna().iloc[0] and results.iloc[1][list(experiment.METRICS)].isna().all()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["wrong_pixels_mean"].isna().iloc[1] and summary["runs"].tolist() == [1, 0]
    assert pd.read_csv(out / "histories.csv")["loss"].isna().tolist() == [False, True]


def test_a_stopped_sweep_keeps_the_rows_of_the_runs_it_finished(tmp_path, capsys, monkeypatch):
    """A sweep stopped at its third run (Ctrl-C) once kept no row: results.csv is written after every run."""
    real, calls = experiment.run_one, []

    def stopping(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(experiment, "run_one", stopping)
    out = tmp_path / "out"
    code = experiment_cli.cli(["--config", str(write(tmp_path, TINY)), "--out", str(out)])
    assert code == 130
    results = pd.read_csv(out / "results.csv")
    assert list(results["seed"]) == [0, 1] and list(results["config"]) == ["c00", "c00"]
    assert json.loads((out / "UNFINISHED.json").read_text())["state"] == "interrupted"
    assert not (out / "summary.csv").exists()
