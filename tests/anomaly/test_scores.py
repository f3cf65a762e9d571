"""keras_ae.anomaly.scores: reconstruction errors, SSIM, latent density, -ELBO, detail energy, scaling."""

import numpy as np
import pytest

from keras_ae import anomaly
from tests.helpers import halving_model


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
