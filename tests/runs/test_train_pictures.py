"""keras_ae.runs.train_pictures: the VAE pictures and factor report of a training run."""

import json

import numpy as np

from keras_ae.cli import train as train_cli
from keras_ae.data import smileys


def test_conv_vae_on_smileys_writes_traversal_and_factor_correlations(tmp_path, capsys):
    out = tmp_path / "run"
    code = train_cli.cli(["--arch", "conv-vae", "--dataset", "smileys", "--latent-dim", "3", "--epochs", "1",
                          "--train-size", "64", "--test-size", "48", "--batch-size", "32", "--verbose", "0",
                          "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("reconstruction.png", "loss.png", "latent_traversal.png", "samples.png",
                 "factor_correlation.png"):
        assert name in metrics["pictures"] and (out / name).stat().st_size > 1000, name
    factors = metrics["latent_factors"]
    assert np.array(factors["abs_correlation"]).shape == (3, 4)
    assert set(factors["per_factor"]) == set(smileys.FACTOR_NAMES)
    assert metrics["dataset"]["factor_names"] == list(smileys.FACTOR_NAMES)
    assert "factors" not in metrics["dataset"], "factor arrays must not be dumped into metrics.json"


def test_dense_vae_on_a_folder_of_64x64_rgb_images(tmp_path, capsys):
    from PIL import Image

    images, factors = smileys.make_smileys(12, seed=5)
    for i, (image, cls) in enumerate(zip(images, smileys.mouth_class(factors), strict=True)):
        folder = tmp_path / "faces" / f"mouth{cls}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    code = train_cli.cli(["--arch", "vae", "--dataset", f"folder:{tmp_path / 'faces'}", "--image-size", "64",
                          "--channels", "3", "--latent-dim", "2", "--epochs", "1", "--verbose", "0",
                          "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"reconstruction.png", "latent_traversal.png", "manifold.png"} <= set(metrics["pictures"])
    assert "latent_factors" not in metrics  # a folder has no known factors
