"""keras_ae.lectures.experiment: sweep grids and the example configs."""

import json

import pytest

from keras_ae.lectures import experiment


def test_grid_is_the_product_of_its_lists_with_defaults_for_missing_keys():
    sweep = experiment.parse_sweep({"grid": {"activation": ["relu", "tanh"], "initializer": ["he", "uniform"],
                                             "learning_rate": [0.1, {"initial": 0.1, "decay_rate": 0.5,
                                                                     "decay_epochs": 10}]}})
    assert len(sweep.configs) == 8
    assert {c.loss for c in sweep.configs} == {"bce"} and sweep.settings["n_runs"] == 1
    assert "lr 0.1x0.5/10ep" in sweep.configs[1].label()
    schedule = experiment.learning_rate_for(sweep.configs[1], steps_per_epoch=4)
    assert float(schedule(40)) == pytest.approx(0.05)  # halved after 10 epochs of 4 steps


def test_example_configs_parse():
    from tests.conftest import REPO

    for name in ("font_sweep.json", "smileys_sweep.json"):
        sweep = experiment.parse_sweep(json.loads((REPO / "configs" / name).read_text()), source=name)
        assert len(sweep.configs) >= 2


def test_a_sweep_never_writes_inside_its_image_folder(tmp_path):
    """run_sweep (the Python call the command makes) refuses an output inside the folder it reads, before any
    training, creating nothing."""
    from keras_ae.errors import UsageError
    from keras_ae.lectures.sweep import run_sweep
    from tests.helpers import listing, write_images

    write_images(tmp_path / "imgs", 4, size=(12, 12))
    sweep = experiment.parse_sweep({"name": "t", "dataset": f"folder:{tmp_path / 'imgs'}", "arch": "dense",
                                    "grid": {"epochs": [1]}})
    with pytest.raises(UsageError, match="lies inside the input"):
        run_sweep(sweep, tmp_path / "imgs" / "run")
    assert "run" not in listing(tmp_path / "imgs")


def test_an_empty_layer_list_builds_no_hidden_layer():
    """"layers": [[]] (labelled "none") trained the default 25-10 model."""
    sweep = experiment.parse_sweep({"arch": "font", "grid": {"layers": [[], [25, 10]], "latent_dim": [2]}})
    plain, default = (experiment.build_model("font", c, (35,), seed=0).autoencoder for c in sweep.configs)
    assert sweep.configs[0].label().startswith("none z2")
    assert plain.count_params() == 35 * 2 + 2 + 2 * 35 + 35 < default.count_params()


def test_decay_counts_the_real_steps_of_an_epoch_when_passes_share_a_keras_epoch(monkeypatch):
    """100 images, 10 passes per Keras epoch, batches of 64: 16 steps hold 10 epochs, 1.6 steps each (the rounded
    1 made a 10-epoch decay take 10 steps: the rate fell 1.6 times too fast)."""
    import numpy as np

    seen = []
    real = experiment.learning_rate_for
    monkeypatch.setattr(experiment, "learning_rate_for",
                        lambda config, steps: seen.append(steps) or real(config, steps))
    sweep = experiment.parse_sweep({"arch": "dense", "batch_size": 64, "passes_per_epoch": 10,
                                    "grid": {"epochs": [10], "layers": [[4]], "latent_dim": [2], "learning_rate": [
                                        {"initial": 1.0, "decay_rate": 0.5, "decay_epochs": 10}]}})
    x = np.random.default_rng(0).random((100, 6, 6, 1)).astype("float32")
    experiment.run_one(sweep.settings, sweep.configs[0], x, x[:10], seed=0)
    assert seen == [pytest.approx(1.6)]
    assert float(real(sweep.configs[0], seen[0])(16)) == pytest.approx(0.5)  # 10 epochs: halved once
