"""One-class anomaly detection: threshold rules and metrics on hand-made arrays, the model-level scores,
the PneumoniaMNIST loader on a fake npz, and the anomaly command end to end on tiny data."""

import json

import keras
import numpy as np
import pytest

from keras_ae import anomaly, one_class
from keras_ae.cli import anomaly as anomaly_cli
from keras_ae.data import mnist as mnist_module
from keras_ae.data import pneumonia
from keras_ae.data.registry import load_dataset
from keras_ae.errors import UsageError
from tests.conftest import SHARED_DATA

# --- thresholds and metrics on arrays with known answers ---------------------------------------

SCORES = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
LABELS = np.array([0, 0, 0, 1, 0, 1, 1, 1])


def test_labelled_threshold_rules():
    # Flag above 3.5: one false positive (5) -> accuracy 7/8, F1 8/9, J = 1 - 1/4; above 5.5: one miss (4).
    assert anomaly.threshold_max_accuracy(SCORES, LABELS) == pytest.approx(3.5)
    assert anomaly.threshold_max_f1(SCORES, LABELS) == pytest.approx(3.5)
    assert anomaly.threshold_youden(SCORES, LABELS) == pytest.approx(3.5)
    separable = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert anomaly.threshold_max_accuracy(separable, [0, 0, 0, 1, 1]) == pytest.approx(0.55)


def test_unlabelled_threshold_rules():
    normal = np.arange(101, dtype=float)
    assert anomaly.threshold_percentile(normal, 90) == pytest.approx(90.0)
    assert anomaly.choose_threshold("percentile", SCORES, LABELS, value=50) == pytest.approx(2.5)
    # 10 of 100 normals may lie above the threshold
    assert (normal > anomaly.threshold_fpr(normal, 0.1)).sum() == 10


def test_detection_metrics_known_values():
    m = anomaly.detection_metrics(SCORES, LABELS, threshold=3.5)
    assert m["confusion_matrix"] == {"tn": 3, "fp": 1, "fn": 0, "tp": 4}
    assert m["accuracy"] == pytest.approx(7 / 8)
    assert m["precision"] == pytest.approx(0.8) and m["recall"] == 1.0
    assert m["roc_auc"] == pytest.approx(15 / 16)  # 15 of the 16 (anomaly, normal) pairs ordered right
    # scikit-learn's documented example: AP of [0.1, 0.4, 0.35, 0.8] with labels [0, 0, 1, 1] is 0.8333
    ap = anomaly.detection_metrics([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5)["average_precision"]
    assert ap == pytest.approx(0.8333, abs=1e-4)


def test_labelled_rule_needs_both_classes():
    with pytest.raises(ValueError, match="one class"):
        anomaly.threshold_max_f1([1.0, 2.0], [0, 0])


# --- model-level scores -------------------------------------------------------------------------

def halving_model(shape=(6, 6, 1)):
    inputs = keras.Input(shape=shape)
    return keras.Model(inputs, keras.layers.Rescaling(0.5)(inputs))


def test_model_reconstruction_errors_are_batched_and_exact(rng):
    x = rng.random((7, 6, 6, 1)).astype("float32")
    errors = anomaly.reconstruction_errors(halving_model(), x, "mse", batch_size=3)
    np.testing.assert_allclose(errors, np.mean((x / 2).reshape(7, -1) ** 2, axis=1), rtol=1e-5)
    same = anomaly.reconstruction_errors(x, x / 2, "mae")
    np.testing.assert_allclose(same, np.mean(x.reshape(7, -1) / 2, axis=1), rtol=1e-5)


def test_ssim_error_is_zero_for_a_perfect_copy_and_grows_with_damage(rng):
    x = rng.random((3, 16, 16, 1))
    assert np.allclose(anomaly.reconstruction_errors(x, x, "ssim"), 0.0)
    slight = anomaly.reconstruction_errors(x, np.clip(x + 0.05 * rng.standard_normal(x.shape), 0, 1), "ssim")
    heavy = anomaly.reconstruction_errors(x, np.clip(x + 0.4 * rng.standard_normal(x.shape), 0, 1), "ssim")
    assert np.all(slight > 0) and np.all(heavy > slight)
    with pytest.raises(ValueError, match="unknown error metric"):
        anomaly.reconstruction_errors(x, x, "psnr")


def test_normalize_contrast_removes_brightness_and_contrast(rng):
    x = rng.random((4, 8, 8, 1)).astype("float32") * 0.2 + 0.4
    out = anomaly.normalize_contrast(x)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.5, atol=1e-3)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 0.125, atol=1e-3)
    np.testing.assert_allclose(anomaly.normalize_contrast(0.1 + 0.5 * x), out, atol=1e-3)
    assert np.array_equal(anomaly.normalize_contrast(x, "none"), x)


def test_latent_density_ranks_far_codes_higher(rng):
    codes = rng.standard_normal((500, 3))
    for method in ("mahalanobis", "knn"):
        density = anomaly.LatentDensity(method, k=3).fit(codes)
        near, far = density.score_samples(np.array([[0.0, 0.0, 0.0], [6.0, -6.0, 6.0]]))
        assert far > 5 * near, method
    grid = np.array([[0.0], [1.0], [3.0]])
    knn = anomaly.LatentDensity("knn", k=1).fit(grid)
    np.testing.assert_allclose(knn.score_samples([[1.5]]), [0.5 / grid.std()], rtol=1e-6)
    with pytest.raises(RuntimeError, match="not fitted"):
        anomaly.LatentDensity().score_samples(codes)


def test_vae_negative_elbo_is_reconstruction_plus_kl(rng):
    from keras_ae.models import build_vae

    bundle = build_vae((4, 4, 1), latent_dim=2, hidden=(8,), seed=0)
    x = rng.random((5, 4, 4, 1)).astype("float32")
    score = anomaly.vae_negative_elbo(bundle, x, samples=2, seed=3)
    z_mean, z_log_var = (np.asarray(v, dtype=np.float64) for v in bundle.encoder.predict(x, verbose=0))
    kl = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    draws = np.random.default_rng(3)
    bce = 0.0
    for _ in range(2):
        z = z_mean + np.exp(0.5 * z_log_var) * draws.standard_normal(z_mean.shape)
        r = np.clip(bundle.decoder.predict(z.astype("float32"), verbose=0).reshape(5, -1), 1e-7, 1 - 1e-7)
        t = x.reshape(5, -1)
        bce = bce + -np.sum(t * np.log(r) + (1 - t) * np.log(1 - r), axis=1) / 2
    np.testing.assert_allclose(score, bce + kl, rtol=1e-4)
    assert np.all(score > kl)


def test_combine_scores_puts_scores_on_one_scale():
    reference = {"a": np.array([0.0, 1.0, 2.0, 3.0, 4.0]), "b": np.array([0.0, 100.0, 200.0, 300.0, 400.0])}
    combined = anomaly.combine_scores({"a": np.array([2.0, 6.0]), "b": np.array([200.0, 200.0])}, reference)
    np.testing.assert_allclose(combined, [0.0, 1.0])  # (6 - 2) / IQR 2 = 2 for "a", 0 for "b", averaged


def test_detail_energy_is_lower_for_blurred_images_and_typicality_is_two_sided(rng):
    from scipy.ndimage import gaussian_filter

    sharp = rng.random((4, 28, 28, 1))
    hazy = gaussian_filter(sharp, (0, 2, 2, 0))
    assert np.all(anomaly.detail_energy(hazy) < anomaly.detail_energy(sharp) - 1.0)
    # contrast and brightness do not change it
    np.testing.assert_allclose(anomaly.detail_energy(0.2 + 0.3 * sharp), anomaly.detail_energy(sharp),
                               atol=1e-4)
    reference = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # median 3, IQR 2
    np.testing.assert_allclose(anomaly.typicality_distance([3.0, 7.0, -1.0], reference), [0.0, 2.0, 2.0])


def test_image_scorer_combines_parts_on_the_training_scale(rng):
    x = rng.random((40, 6, 6, 1)).astype("float32")
    bundle = models_bundle_halving()
    single = one_class.ImageScorer(bundle, "mse", contrast="none").fit(x)
    both = one_class.ImageScorer(bundle, "mse+detail", contrast="none").fit(x)
    np.testing.assert_allclose(single.score_samples(x[:3]), np.mean((x[:3] / 2).reshape(3, -1) ** 2, axis=1),
                               rtol=1e-5)
    ref = {"mse": single.score_samples(x),
           "detail": anomaly.typicality_distance(anomaly.detail_energy(x), anomaly.detail_energy(x))}
    np.testing.assert_allclose(both.score_samples(x), anomaly.combine_scores(ref, ref), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown score 'psnr'"):
        one_class.ImageScorer(bundle, "mse+psnr").fit(x)


def models_bundle_halving():
    from keras_ae.models import Autoencoder

    net = halving_model()
    return Autoencoder(net, net, net)


# --- one-class splits -----------------------------------------------------------------------------

def test_one_class_splits_are_balanced_and_train_on_normals_only(rng):
    x = np.arange(200, dtype=float).reshape(200, 1, 1, 1)
    y = np.repeat(np.arange(10), 20)
    s = one_class.one_class_splits(x, y, x[:100], y[:100] % 5, normal=3, val_fraction=0.25, seed=0)
    train_ids = s.x_train.ravel().astype(int)
    assert set(y[train_ids]) == {3} and len(train_ids) == 15
    assert (s.y_val == 0).sum() == (s.y_val == 1).sum() == 5
    held = s.x_val[s.y_val == 0].ravel().astype(int)
    assert set(y[held]) == {3} and not set(held) & set(train_ids)
    assert (s.y_test == 0).sum() == (s.y_test == 1).sum() == 20
    with pytest.raises(UsageError, match="not a label"):
        one_class.one_class_splits(x, y, x, y, normal=11)
    with pytest.raises(UsageError, match="test set holds no images of the normal class 3"):
        one_class.one_class_splits(x, y, x, np.where(y == 3, 4, y), normal=3)


# --- PneumoniaMNIST loader on a fake file --------------------------------------------------------

def fake_pneumonia(path, sizes=(30, 12, 16), seed=0, drop=None, normal_test=True):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
        if split == "test" and not normal_test:
            labels[:] = 1
        arrays[f"{split}_labels"] = labels
    arrays.pop(drop, None)
    np.savez_compressed(path, **arrays)
    return path


def test_loader_reads_every_split_of_the_official_format(tmp_path):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz")
    data = pneumonia.load_pneumonia(path=path)
    assert data.x_train.shape == (30, 28, 28, 1) and data.x_test.shape == (16, 28, 28, 1)
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert data.y_train.shape == (30,) and set(data.y_train) == {0, 1}
    splits = pneumonia.load_pneumonia_splits(path=path)
    assert splits["val"][0].shape == (12, 28, 28, 1)
    with np.load(path) as raw:
        np.testing.assert_allclose(splits["test"][0][..., 0], raw["test_images"] / 255.0, rtol=1e-6)


def test_loader_reports_a_missing_file_or_key(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        pneumonia.load_pneumonia(path=tmp_path / "nope.npz")
    broken = fake_pneumonia(tmp_path / "broken.npz", drop="val_labels")
    with pytest.raises(UsageError, match="lacks the key val_labels"):
        pneumonia.load_pneumonia(path=broken)


def test_loader_offline_says_where_to_put_the_file(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure: network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    with pytest.raises(mnist_module.DownloadError) as err:
        pneumonia.load_pneumonia(cache_dir=tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path / "datasets" / "pneumoniamnist.npz") in message


def test_loader_downloads_from_the_official_url_with_its_md5(tmp_path, monkeypatch):
    seen = {}
    fake = fake_pneumonia(tmp_path / "cached.npz")

    def get_file(fname, origin, file_hash=None, cache_dir=None, cache_subdir=None):
        seen.update(fname=fname, origin=origin, file_hash=file_hash)
        return str(fake)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    assert load_dataset("pneumonia").x_train.shape == (30, 28, 28, 1)
    assert seen == {"fname": "pneumoniamnist.npz", "origin": pneumonia.PNEUMONIA_URL,
                    "file_hash": "28209eda62fecd6e6a2d98b1501bb15f"}


@pytest.mark.skipif(not (SHARED_DATA / "pneumoniamnist.npz").exists(), reason="no ../shared/data copy")
def test_real_pneumoniamnist_has_the_published_splits():
    splits = pneumonia.load_pneumonia_splits(path=SHARED_DATA / "pneumoniamnist.npz")
    counts = {name: np.bincount(y).tolist() for name, (_, y) in splits.items()}
    assert counts == {"train": [1214, 3494], "val": [135, 389], "test": [234, 390]}


# --- the command end to end ----------------------------------------------------------------------

TINY = ["--epochs", "1", "--batch-size", "32", "--filters", "4,4,2", "--verbose", "0"]


def run_cli(argv, capsys):
    code = anomaly_cli.cli(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_offline_mnist_falls_back_to_the_sample_and_writes_everything(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure: network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(["--dataset", "mnist", "--normal", "5", "--train-size", "64",
                                    "--score", "latent+mse+detail", "--out", str(out), *TINY], capsys)
    assert code == 0, stderr
    assert "mnist_sample.npz" in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    assert metrics["splits"]["test"] == {"normal": 100, "anomaly": 100}
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


def test_command_on_fake_pneumonia_uses_the_official_val_split(tmp_path, capsys):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz")
    out = tmp_path / "run"
    code, _, stderr = run_cli(["--dataset", "pneumonia", "--data-path", str(path), "--arch", "vae",
                               "--score", "elbo", "--latent-dim", "2", "--threshold", "percentile",
                               "--out", str(out), *TINY], capsys)
    assert code == 0, stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["splits"]["train_normal"] == 15
    assert metrics["splits"]["val"] == {"normal": 6, "anomaly": 6,
                                        "source": "official validation split, balanced"}
    assert metrics["splits"]["test"] == {"normal": 8, "anomaly": 8}


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "mnist-sample", "--normal", "11"], "--normal 11 is not a label"),
    (["--dataset", "pneumonia", "--data-path", "missing.npz"], "missing.npz does not exist"),
    (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["--score", "elbo", "--arch", "conv"], "--score 'elbo' needs a VAE"),
    (["--score", "latent+psnr"], "unknown score 'psnr' in --score 'latent+psnr'"),
    (["--filters", "8,x"], "--filters must be comma-separated integers"),
    (["--epochs", "0"], "--epochs must be > 0"),
    (["--dataset", "mnist-sample", "--score", "latent-knn", "--k", "50", "--train-size", "10"],
     "--k 50 is more than the 10 normal training images"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    code, _, stderr = run_cli(argv, capsys)
    assert code == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr


def test_a_class_with_no_test_images_is_one_line_and_exit_2(tmp_path, capsys):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz", normal_test=False)
    code, _, stderr = run_cli(["--dataset", "pneumonia", "--data-path", str(path), *TINY], capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert "test set holds no images of the normal class 0" in stderr
