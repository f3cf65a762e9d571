"""Registries end to end: a toy architecture and score run through train, one-class and sweeps."""

import json

import numpy as np
import pytest

from keras_ae.anomaly.image_scores import IMAGE_SCORES, register_score
from keras_ae.models.registry import ARCHITECTURES, register_architecture


def build_toy(input_shape=(28, 28, 1), latent_dim=3, hidden=(), activation="relu",
              kernel_initializer="glorot_uniform", seed=None):
    """A flatten -> Dense(latent) -> Dense(pixels) -> reshape autoencoder: the smallest thing a builder returns."""
    import keras

    from keras_ae.models.base import Autoencoder

    size = int(np.prod(input_shape))
    inputs = keras.Input(shape=input_shape)
    code = keras.layers.Dense(latent_dim, activation=activation)(keras.layers.Flatten()(inputs))
    encoder = keras.Model(inputs, code, name="encoder")
    z = keras.Input(shape=(latent_dim,))
    out = keras.layers.Reshape(input_shape)(keras.layers.Dense(size, activation="sigmoid")(z))
    decoder = keras.Model(z, out, name="decoder")
    return Autoencoder(encoder, decoder, keras.Model(inputs, decoder(encoder(inputs)), name="toy"))


@pytest.fixture
def toy():
    register_architecture("toy", build_toy, epochs=1, anomaly_epochs=1, batch_size=32, layers_arg="hidden",
                          help="a test architecture")
    register_score("brightness", lambda inputs, state: np.abs(inputs.raw.mean(axis=(1, 2, 3)) - state),
                   "distance of the mean brightness from the training images'",
                   fit=lambda inputs, options: float(inputs.raw.mean()))
    yield
    ARCHITECTURES.unregister("toy")
    IMAGE_SCORES.unregister("brightness")


def test_toy_architecture_trains_through_the_train_run(toy, tmp_path):
    from keras_ae.cli import train as train_cli

    out = tmp_path / "train"
    code = train_cli.cli(["--arch", "toy", "--dataset", "mnist-sample", "--train-size", "64", "--test-size", "16",
                          "--latent-dim", "4", "--out", str(out), "--verbose", "0"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "toy" and metrics["epochs"] == 1  # the registry's default epochs
    assert metrics["parameters"] == (784 * 4 + 4) + (4 * 784 + 784)  # --latent-dim reached the builder


def test_toy_architecture_and_score_run_one_class(toy, tmp_path):
    from keras_ae.runs.one_class import OneClassConfig, run_one_class

    result = run_one_class(OneClassConfig(dataset="mnist-sample", arch="toy", score="brightness+mse",
                                          train_size=50, out=str(tmp_path / "oc"), verbose=0))
    assert result.metrics["score_meaning"].startswith("average of scaled scores: distance of the mean brightness")
    assert 0.0 <= result.metrics["test"]["roc_auc"] <= 1.0
    assert result.metrics["epochs"] == 1


def test_toy_architecture_runs_a_sweep(toy, tmp_path):
    from keras_ae.lectures import experiment
    from keras_ae.lectures.sweep import run_sweep

    sweep = experiment.parse_sweep({"dataset": "mnist-sample", "arch": "toy", "train_size": 64, "test_size": 16,
                                    "grid": {"latent_dim": [2, 5], "epochs": [1]}})
    out = run_sweep(sweep, tmp_path / "sweep")
    import pandas as pd

    results = pd.read_csv(out / "results.csv")
    assert list(results["latent_dim"]) == [2, 5] and (results["test_mse"] > 0).all()
