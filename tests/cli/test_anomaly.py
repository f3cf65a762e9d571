"""keras_ae.cli.anomaly: the one-class command end to end on tiny data, and its bad-input messages."""

import json

import numpy as np
import pytest

from keras_ae.cli import anomaly as anomaly_cli
from tests.helpers import fake_pneumonia

TINY = ["--epochs", "1", "--batch-size", "32", "--filters", "4,4,2", "--verbose", "0"]


def run_cli(argv, capsys):
    code = anomaly_cli.cli(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_offline_mnist_falls_back_to_the_sample_and_writes_everything(tmp_path, capsys, offline):
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(["--dataset", "mnist", "--normal", "5", "--train-size", "64",
                                    "--score", "latent+mse+detail", "--out", str(out), *TINY], capsys)
    assert code == 0, stderr
    assert "mnist_sample.npz" in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    assert metrics["splits"]["test"] == {"normal": 100, "anomaly": 100}
    # --train-size 64: the model saw 64 normal images, of more that there were
    assert metrics["splits"]["train_normal"] == 64 and metrics["splits"]["train_normal_available"] > 64
    assert metrics["dataset"]["fallback_from"] == "mnist"
    assert sum(test["confusion_matrix"].values()) == 200
    assert 0.0 <= test["roc_auc"] <= 1.0 and 0.0 <= test["average_precision"] <= 1.0
    cm = test["confusion_matrix"]
    assert test["accuracy"] == pytest.approx((cm["tp"] + cm["tn"]) / 200)
    # the threshold is the one with the best validation accuracy
    assert metrics["validation"]["accuracy"] >= 0.5
    for name in ("histograms.png", "roc.png", "confusion.png", "ranked.png", "autoencoder.keras"):
        assert (out / name).stat().st_size > 0, name
    assert "test ROC-AUC" in stdout
    assert f"flagged: {cm['tp']} of 100 anomalies, {cm['fp']} of 100 normal" in stdout
    assert f"(PCA {metrics['baselines']['pca']['test_roc_auc']:.3f})" in stdout


def test_command_on_fake_pneumonia_uses_the_official_val_split(tmp_path, capsys):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz")
    out = tmp_path / "run"
    code, _, stderr = run_cli(["--dataset", "pneumonia", "--data-path", str(path), "--arch", "vae",
                               "--score", "elbo", "--latent-dim", "2", "--threshold", "percentile",
                               "--out", str(out), *TINY[:4], *TINY[6:]], capsys)  # a VAE takes no --filters
    assert code == 0, stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["splits"]["train_normal"] == 15
    assert metrics["splits"]["val"] == {"normal": 6, "anomaly": 6,
                                        "source": "official validation split, balanced"}
    assert metrics["splits"]["test"] == {"normal": 8, "anomaly": 8}


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "mnist-sample", "--normal", "11"], "--normal 11 is not a label"),
    (["--dataset", "pneumonia", "--data-path", "missing.npz"], "missing.npz does not exist"),
    (["--dataset", "pneumonia", "--data-path", "."], "PneumoniaMNIST file . is a folder, not a file"),
    (["--dataset", "cifar"], "unknown --dataset 'cifar'"),
    (["--dataset", "folder:data"], "--dataset 'folder:data' has no labelled classes for a one-class run"),
    (["--dataset", "smileys"], "--dataset 'smileys' has no labelled classes for a one-class run"),
    (["--epochs", "x"], "error: --epochs must be an integer >= 1, received x"),  # argparse's refusals: the same form
    (["--score", "elbo", "--arch", "conv"], "--score 'elbo' needs a VAE"),
    (["--score", "latent+psnr"], "unknown score 'psnr' in --score 'latent+psnr'"),
    (["--filters", "8,x"],
     "--filters must be a comma-separated list, each an integer >= 1, received 8,x"),
    (["--epochs", "0"], "--epochs must be an integer >= 1, received 0"),
    (["--threshold", "value"], "threshold rule 'value' needs a value (--threshold-value)"),
    (["--train-size", "1"], "--train-size must be an integer >= 2, received 1"),
    (["--threshold", "fpr", "--percentile", "5"], "give --threshold-value for another rule"),
    (["--threshold", "percentile", "--percentile", "5", "--threshold-value", "5"], "give one"),
    (["--threshold", "f1", "--threshold-value", "3"], "threshold rule 'f1' takes no value"),
    (["--threshold", "fpr", "--threshold-value", "2"], "between 0 and 1, received 2.0"),
    (["--dataset", "mnist-sample", "--score", "latent-knn", "--k", "50", "--train-size", "10"],
     "--k 50 is more than the 10 normal training images"),
    (["--dataset", "mnist-sample", "--score", "latent", "--blur", "2"],
     "--blur 2.0 is an option of the pixel-knn score, which --score 'latent' does not use"),
    (["--dataset", "mnist-sample", "--score", "mse", "--k", "7"],
     "--k 7 is an option of the latent-knn, pixel-knn and texture scores, which --score 'mse' does not use"),
    (["--dataset", "mnist-sample", "--cell", "4"],
     "--cell 4 is an option of the texture score, which --score 'pixel-knn' does not use"),
    (["--dataset", "mnist-sample", "--score", "texture", "--cell", "29", "--train-size", "10"],
     "--cell 29 is larger than the images' smaller side (28 pixels)"),
    (["--cell", "0"], "--cell must be an integer >= 1, received 0"),
    (["--dataset", "mnist-sample", "--filters", "70000"],
     "Expected a model of at most 1,073,741,824 weights (4 GiB as float32), received --filters [70000]"),
    (["--dataset", "mnist-sample", "--blur", "20", "--train-size", "10"],
     "--blur 20 is more than half the images' smaller side (14 pixels)"),
    (["--dataset", "mnist-sample", "--shift", "14", "--train-size", "10"],
     "--shift 14 is half the images' smaller side or more (14 pixels)"),
    (["--dataset", "mnist-sample", "--score", "latent+pca", "--rotate", "5"],
     "--rotate 5.0 is an option of the pixel-knn score, which --score 'latent+pca' does not use"),
    (["--dataset", "mnist-sample", "--arch", "dense", "--filters", "64,64"],
     "--filters (64, 64) sets the filters of the conv and denoise autoencoders, which --arch 'dense' does not take"),
    (["--dataset", "mnist-sample", "--arch", "vae", "--filters", "8,8"], "which --arch 'vae' does not take"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    code, _, stderr = run_cli(argv, capsys)
    assert code == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr


def test_pneumonia_offline_says_how_to_give_the_file(capsys, offline):
    code, _, stderr = run_cli(["--dataset", "pneumonia"], capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert "(URL fetch failure: network unreachable); download pneumoniamnist.npz by hand" in stderr
    assert stderr.rstrip().endswith("(or pass its path: --data-path FILE)")


def test_a_class_with_no_test_images_is_one_line_and_exit_2(tmp_path, capsys):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz", normal_test=False)
    code, _, stderr = run_cli(["--dataset", "pneumonia", "--data-path", str(path), *TINY], capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert "test set holds no images of the normal class 0" in stderr


def test_the_threshold_rule_gets_its_value():
    from keras_ae.runs.one_class import OneClassConfig

    assert OneClassConfig(threshold="percentile").rule_value() == 95.0
    assert OneClassConfig(threshold="percentile", percentile=80).rule_value() == 80
    assert OneClassConfig(threshold="value", threshold_value=-1.5).rule_value() == -1.5
    assert OneClassConfig(threshold="fpr").rule_value() is None  # the rule's own default
    OneClassConfig(dataset="mnist-sample", threshold="alpha", threshold_value=0.05).check()
    OneClassConfig(dataset="mnist-sample", threshold="fpr", percentile=95.0).check()  # what older runs recorded


def test_images_that_are_not_numbers_are_refused_before_training(tmp_path, capsys):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz")
    arrays = dict(np.load(path))
    arrays["train_images"] = np.full(arrays["train_images"].shape, np.nan, dtype=np.float32)
    np.savez(path, **arrays)
    out = tmp_path / "run"
    code, _, stderr = run_cli(["--dataset", "pneumonia", "--data-path", str(path), "--out", str(out), *TINY], capsys)
    assert code == 2 and "pixel(s) of the training images are NaN or infinite" in stderr and not out.exists()
