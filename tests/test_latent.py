"""keras_ae.latent on small models, the smileys dataset, and the VAE pictures and factor report of train."""

import json

import numpy as np
import pytest

from keras_ae import latent, models
from keras_ae.cli import train as train_cli
from keras_ae.data import load_dataset, smileys


@pytest.fixture(scope="module")
def dense_ae():
    return models.build_dense(input_shape=(35,), latent_dim=3, hidden=(16,), activation="tanh")


@pytest.fixture(scope="module")
def dense_vae():
    return models.build_vae(input_shape=(8, 8, 1), latent_dim=2, hidden=(16,), seed=0)


def test_encode_gives_z_mean_for_a_vae_and_the_code_otherwise(dense_ae, dense_vae, rng):
    x = rng.random((5, 8, 8, 1)).astype("float32")
    z = latent.encode(dense_vae, x)
    assert z.shape == (5, 2)
    np.testing.assert_allclose(z, dense_vae.encoder.predict(x, verbose=0)[0], rtol=1e-6)
    assert latent.encode(dense_ae, rng.random((4, 35))).shape == (4, 3)
    assert latent.is_variational(dense_vae) and not latent.is_variational(dense_ae)


@pytest.mark.parametrize("which", ["dense_ae", "dense_vae"])
def test_interpolation_endpoints_decode_to_the_reconstructions(which, request, rng):
    bundle = request.getfixturevalue(which)
    shape = (35,) if which == "dense_ae" else (8, 8, 1)
    a, b = rng.random((2, *shape)).astype("float32")
    path = latent.interpolate(bundle, a, b, steps=6)
    assert path.codes.shape[0] == 6 and path.images.shape == (6, *shape)
    recon = bundle.autoencoder.predict(np.stack([a, b]), verbose=0)
    np.testing.assert_allclose(path.images[0], recon[0], atol=1e-5)
    np.testing.assert_allclose(path.images[-1], recon[1], atol=1e-5)
    # Codes move on a straight line at equal steps.
    steps = np.diff(path.codes, axis=0)
    np.testing.assert_allclose(steps, np.repeat(steps[:1], 5, axis=0), atol=1e-5)


def test_sampling_uses_the_prior_for_a_vae_and_fitted_codes_otherwise(dense_ae, dense_vae, rng):
    drawn = latent.sample(dense_vae, 7, seed=1)
    assert drawn.codes.shape == (7, 2) and drawn.images.shape == (7, 8, 8, 1)
    np.testing.assert_array_equal(drawn.codes, latent.sample(dense_vae, 7, seed=1).codes)
    codes = rng.normal(loc=[5.0, -3.0, 0.0], scale=[0.1, 0.1, 2.0], size=(2000, 3))
    fitted = latent.sample(dense_ae, 4000, codes=codes, seed=0)
    assert fitted.images.shape == (4000, 35)
    np.testing.assert_allclose(fitted.codes.mean(axis=0), [5.0, -3.0, 0.0], atol=0.1)
    np.testing.assert_allclose(fitted.codes.std(axis=0), [0.1, 0.1, 2.0], rtol=0.1)
    with pytest.raises(ValueError, match="no prior"):
        latent.sample(dense_ae, 3)


def test_traverse_moves_one_dimension_per_row(dense_ae):
    offsets, result = latent.traverse(dense_ae, dims=[0, 2], span=1.5, steps=4, base=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(offsets, [-1.5, -0.5, 0.5, 1.5])
    assert result.codes.shape == (2, 4, 3) and result.images.shape == (2, 4, 35)
    np.testing.assert_allclose(result.codes[0, :, 0], 1.0 + offsets)
    np.testing.assert_allclose(result.codes[1, :, 2], 3.0 + offsets)
    np.testing.assert_allclose(result.codes[0, :, 1:], [[2.0, 3.0]] * 4)
    with pytest.raises(ValueError, match="dims in"):
        latent.traverse(dense_ae, dims=[3])


def test_factor_correlation_finds_which_dimension_tracks_which_factor(rng):
    factors = rng.random((500, 2))
    codes = np.column_stack([rng.normal(size=500), -3.0 * factors[:, 0] + 1, factors[:, 1] ** 3,
                             np.zeros(500)])
    corr = latent.factor_correlation(codes, factors)
    assert corr.shape == (4, 2)
    assert corr[1, 0] == pytest.approx(1.0) and corr[2, 1] > 0.9 and corr[3].tolist() == [0.0, 0.0]
    report = latent.factor_report(codes, factors, ["a", "b"])
    assert report["per_factor"]["a"]["best_dim"] == 1 and report["per_factor"]["b"]["best_dim"] == 2
    assert report["per_factor"]["a"]["gap"] > 0.8


def test_smileys_are_deterministic_rgb_faces_with_known_factors():
    x, factors = smileys.make_smileys(40, seed=3)
    again, _ = smileys.make_smileys(40, seed=3)
    assert x.shape == (40, 64, 64, 3) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x, again)
    for j, name in enumerate(smileys.FACTOR_NAMES):
        low, high = smileys.FACTOR_RANGES[name]
        assert low <= factors[:, j].min() and factors[:, j].max() <= high
    # The factors show in the pixels: a bigger face covers less background, a red face more red than green.
    face = (np.abs(x - smileys.BACKGROUND).sum(axis=-1) > 0.05).mean(axis=(1, 2))
    assert np.corrcoef(face, factors[:, 3])[0, 1] > 0.95
    centre = x[:, 28:36, 28:36]
    redness = (centre[..., 0] - centre[..., 1]).mean(axis=(1, 2))
    assert np.corrcoef(redness, factors[:, 2])[0, 1] < -0.9
    # A smile dips in the middle: on the centre column (below the eyes, above the chin outline at row 56)
    # the mouth ink of a smile lies lower than that of a frown.
    smile, frown = smileys.draw(np.array([[1.0, 3, 0.15, 24], [-1.0, 3, 0.15, 24]], dtype=np.float32))
    mouth_row = lambda img: 30 + np.argmax(img[30:54, 31:33].mean(axis=(1, 2)) < 0.4)  # noqa: E731
    assert mouth_row(smile) - mouth_row(frown) > 10


def test_smileys_dataset_is_registered():
    data = load_dataset("smileys")
    assert data.x_train.shape == (2000, 64, 64, 3) and data.x_test.shape == (500, 64, 64, 3)
    assert data.info["factors"]["names"] == list(smileys.FACTOR_NAMES)
    assert data.info["factors"]["test"].shape == (500, 4) and set(np.unique(data.y_train)) == {0, 1, 2}


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
