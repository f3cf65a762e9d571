"""keras_ae.runs.train_pictures: the VAE pictures and factor report of a training run."""

import json

import numpy as np

from keras_ae.cli import train as train_cli
from keras_ae.data import smileys


def test_conv_vae_on_smileys_writes_traversal_and_factor_correlations(tmp_path, capsys, monkeypatch):
    from keras_ae import figures

    drawn, real = {}, figures.loss_curves

    def spy(history, path, **options):
        drawn.update(options, epochs=len(history["loss"]))
        return real(history, path, **options)

    monkeypatch.setattr(figures, "loss_curves", spy)
    out = tmp_path / "run"
    code = train_cli.cli(["--arch", "conv-vae", "--dataset", "smileys", "--latent-dim", "3", "--epochs", "1",
                          "--ae-epochs", "2",
                          "--train-size", "64", "--test-size", "48", "--batch-size", "32", "--verbose", "0",
                          "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("reconstruction.png", "loss.png", "latent_traversal.png", "samples.png", "interpolation.png",
                 "factor_correlation.png"):
        assert name in metrics["pictures"] and (out / name).stat().st_size > 1000, name
    factors = metrics["latent_factors"]
    assert np.array(factors["abs_correlation"]).shape == (3, 4)
    assert set(factors["per_factor"]) == set(smileys.FACTOR_NAMES)
    assert metrics["dataset"]["factor_names"] == list(smileys.FACTOR_NAMES)
    assert "factors" not in metrics["dataset"], "factor arrays must not be dumped into metrics.json"
    # the sizes the run used, the generated set's beside them: no figure reads as what the run trained on
    assert (metrics["dataset"]["train_size"], metrics["dataset"]["test_size"]) == (64, 48)
    assert (metrics["dataset"]["train_size_available"], metrics["dataset"]["test_size_available"]) == (2000, 500)
    assert (metrics["train_images"], metrics["test_images"]) == (64, 48)
    assert metrics["weak_supervision"].startswith("64 training pairs that differ in 1 factor")  # --train-size: pairs
    # loss.png marks the two stages with the epochs each ran
    assert drawn["stages"] == (("autoencoder (beta 0)", 2), ("VAE", 1)) and drawn["epochs"] == 3


def test_no_pairs_trains_the_vae_on_single_faces(tmp_path, capsys):
    out = tmp_path / "run"
    code = train_cli.cli(["--dataset", "smileys", "--no-pairs", "--epochs", "1", "--train-size", "32",
                          "--test-size", "16", "--verbose", "0", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["weak_supervision"] is None and metrics["options"]["pairs"] is False


def test_pairs_are_drawn_only_for_a_vae():
    from keras_ae.runs.train import TrainConfig, load_data

    def loaded(arch, pairs=True):
        return load_data(TrainConfig(arch=arch, dataset="smileys", pairs=pairs).resolved())

    vae, conv, single = loaded("conv-vae"), loaded("conv"), loaded("conv-vae", pairs=False)
    assert vae.x_pairs is not None and conv.x_pairs is None and single.x_pairs is None
    np.testing.assert_array_equal(conv.x_train, vae.x_train)  # the same training faces either way
    np.testing.assert_array_equal(single.x_train, vae.x_train)


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


def test_smileys_preset_fills_what_the_user_left_out():
    from keras_ae.runs.train import TrainConfig, build_model

    preset = smileys.TRAIN_DEFAULTS
    config = TrainConfig(dataset="smileys").resolved()
    assert (config.arch, config.latent_dim, config.epochs, config.batch_size, config.beta, config.kl_warmup) == (
        preset["arch"], preset["latent_dim"], preset["epochs"], preset["batch_size"], preset["beta"],
        preset["kl_warmup"])
    mine = TrainConfig(dataset="smileys", latent_dim=6, beta=0.5, kl_warmup=0, epochs=3).resolved()
    assert (mine.latent_dim, mine.beta, mine.kl_warmup, mine.epochs) == (6, 0.5, 0, 3)
    for arch in ("conv", "conv-vae"):  # naming an architecture asks for its own defaults, not the preset
        other = TrainConfig(dataset="smileys", arch=arch).resolved()
        assert (other.arch, other.latent_dim, other.beta, other.kl_warmup, other.model_options, other.epochs) == (
            arch, None, 1.0, 0, None, 10 if arch == "conv" else 30)
    assert TrainConfig().resolved().arch == "conv"
    bundle = build_model(config, (64, 64, 3))
    assert float(bundle.autoencoder.beta.numpy()) == preset["beta"]  # beta reaches the conv VAE's builder
    assert bundle.encoder.get_layer("encoder_conv_3").kernel_size == (4, 4)
    assert bundle.encoder.get_layer("encoder_conv_3").use_bias is False  # batch normalisation follows it
    assert bundle.encoder.get_layer("encoder_conv_3_act").get_config()["activation"] == "leaky_relu"
    assert bundle.decoder.get_layer("decoder_broadcast_conv_0_bn").__class__.__name__ == "BatchNormalization"
    assert bundle.decoder.get_layer("decoder_broadcast").output.shape[1:3] == (8, 8)  # the spatial broadcast decoder


def test_smileys_default_run_reports_factors_usage_and_prior_samples(tmp_path, capsys):
    out = tmp_path / "run"
    code = train_cli.cli(["--dataset", "smileys", "--ae-epochs", "1", "--epochs", "2", "--kl-warmup", "1",
                          "--train-size", "64", "--test-size", "40", "--verbose", "0", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "conv-vae" and metrics["options"]["kl_warmup"] == 1
    assert metrics["epochs"] == 3 and metrics["options"]["ae_epochs"] == 1  # the autoencoder start + 2
    stages = "two stages: 1 epoch(s) as a plain autoencoder (beta 0, single images; --ae-epochs), then 2 as a VAE"
    assert stages + " on pairs" in printed.out and "KL warm-up" not in printed.out  # warm-up 1 < 2 epochs
    assert metrics["weak_supervision"].startswith("64 training pairs")
    tracked = metrics["latent_factors"]["one_to_one"]["factors_tracked"]
    assert f"one-to-one: {tracked} of 4 factors" in printed.out
    assert f"latent dimensions used: {metrics['latent_usage']['active_dims']} of 8" in printed.out
    matching = metrics["latent_factors"]["one_to_one"]
    assert len({v["dim"] for v in matching["dims"].values()}) == 4  # a dimension of its own per factor
    usage = metrics["latent_usage"]
    assert len(usage["kl_per_dim"]) == 8 and usage["active_dims"] == sum(usage["active"])
    prior = metrics["prior_samples"]
    assert prior["samples"] == 500 and prior["reconstructions"] == 40
    assert prior["sample_distance"] > 0 and prior["reconstruction_distance"] > 0
    assert abs(prior["ratio"] - prior["sample_distance"] / prior["reconstruction_distance"]) < 1e-3
    labels = metrics["latent_factors"]["traversal_labels"]  # each row names the factor its dimension tracks
    assert len(labels) == 4 and {int(d) for d in labels} <= set(range(8))
    assert sorted(label.split()[0] for label in labels.values()) == sorted(smileys.FACTOR_NAMES)
