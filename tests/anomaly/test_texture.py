"""The texture image score: log band-pass energy per cell, distance to the nearest normal training images."""

import numpy as np
import pytest

from keras_ae.anomaly import image_scores, texture
from keras_ae.anomaly.one_class import ImageScorer
from keras_ae.errors import UsageError


class _Identity:  # stands in for an autoencoder bundle: the texture score reads only the raw images
    encoder = decoder = autoencoder = None


def _noise(n: int, size: int = 16, seed: int = 0, smooth: float = 0.0) -> np.ndarray:
    """Random grey images; `smooth` > 0 blurs them (less fine detail)."""
    from scipy.ndimage import gaussian_filter

    x = np.random.default_rng(seed).random((n, size, size, 1))
    return (gaussian_filter(x, (0, smooth, smooth, 0)) if smooth else x).astype("float32")


def test_the_vector_has_one_log_energy_per_band_cell_and_channel():
    x = _noise(3, size=10)
    assert texture.band_energies(x, cell=2).shape == (3, 4 * 5 * 5)
    assert texture.band_energies(x[..., 0], cell=3).shape == (3, 4 * 4 * 4)  # 10 = 3 + 3 + 3 + 1: a smaller last cell
    rgb = np.repeat(x, 3, axis=-1)
    assert texture.band_energies(rgb, cell=5).shape == (3, 4 * 2 * 2 * 3)


def test_a_smaller_last_cell_is_the_mean_of_its_own_pixels():
    x = _noise(2, size=7, seed=3)
    energies = texture.band_energies(x, cell=3, octaves=(1.0,)).reshape(2, 3, 3)
    z = (x - x.mean(axis=(1, 2, 3), keepdims=True)) / (x.std(axis=(1, 2, 3), keepdims=True) + 1e-6)
    from scipy.ndimage import gaussian_filter

    band = ((z - gaussian_filter(z.astype(np.float64), (0, 1, 1, 0), mode="reflect")) ** 2)[..., 0]
    assert np.allclose(energies[:, 2, 2], np.log(band[:, 6:, 6:].mean(axis=(1, 2)) + texture.FLOOR), atol=1e-5)
    assert np.allclose(energies[:, 0, 1], np.log(band[:, :3, 3:6].mean(axis=(1, 2)) + texture.FLOOR), atol=1e-5)


def test_contrast_and_brightness_do_not_change_the_vector():
    x = _noise(4, seed=1)
    assert np.allclose(texture.band_energies(x), texture.band_energies(0.2 + 0.5 * x), atol=1e-4)


def test_a_flat_image_gives_finite_energies():
    energies = texture.band_energies(np.zeros((2, 8, 8, 1), "float32"))
    assert np.all(np.isfinite(energies))


def test_hazy_and_noisy_images_score_above_new_images_of_the_normal_kind():
    train, new = _noise(40, smooth=1.0, seed=0), _noise(10, smooth=1.0, seed=1)
    hazy, noisy = _noise(10, smooth=2.5, seed=2), _noise(10, smooth=0.0, seed=3)
    scorer = ImageScorer(_Identity(), "texture", contrast="none").fit(train)
    normal, haze, noise = (scorer.score_samples(x) for x in (new, hazy, noisy))
    assert normal.max() < haze.min() and normal.max() < noise.min()


def test_detail_moved_to_another_place_scores_high():
    """A patch of fine detail on a smooth image: where it lies is part of the description."""
    rng = np.random.default_rng(4)
    smooth = _noise(31, smooth=3.0, seed=5)
    train = smooth[:30].copy()
    train[:, 2:6, 2:6] += 0.3 * rng.random((30, 4, 4, 1))  # the detail always at the top left
    moved = smooth[30:].copy()
    moved[:, 10:14, 10:14] += 0.3 * rng.random((1, 4, 4, 1))  # the same kind of detail at the bottom right
    same = smooth[30:].copy()
    same[:, 2:6, 2:6] += 0.3 * rng.random((1, 4, 4, 1))
    scorer = ImageScorer(_Identity(), "texture", contrast="none", k=3).fit(train)
    assert scorer.score_samples(moved)[0] > 2 * scorer.score_samples(same)[0]


def test_the_scale_of_a_combined_score_leaves_each_training_image_out():
    x = _noise(12, seed=6)
    scorer = ImageScorer(_Identity(), "texture+pca", contrast="none", k=1).fit(x)
    vectors = texture.band_energies(x).astype(np.float64)
    d = np.sqrt(((vectors[:, None] - vectors[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert np.allclose(scorer.reference_["texture"], d.min(axis=1), rtol=1e-4)


def test_cell_reaches_the_score_and_is_checked():
    assert image_scores.score_options("texture") == {"k": 5, "cell": 2}
    x = _noise(8, seed=7)
    two = ImageScorer(_Identity(), "texture", contrast="none", k=2).fit(x)
    four = ImageScorer(_Identity(), "texture", contrast="none", k=2, cell=4).fit(x)
    assert two.states_["texture"].reference.shape[1] == 4 * four.states_["texture"].reference.shape[1]
    with pytest.raises(UsageError, match=r"cell=17 is larger than the images' smaller side \(16 pixels\)") as err:
        image_scores.check_options("texture", {"cell": 17}, (8, 16, 20))
    assert err.value.param == "cell"
    for bad in (0, 2.5, True):
        with pytest.raises(UsageError, match=r"must be a whole number of pixels"):
            image_scores.check_options("texture", {"cell": bad}, (8, 16, 16))
    with pytest.raises(UsageError, match=r"k=8 is as many as the normal training images"):
        image_scores.check_options("texture", {"k": 8}, (8, 16, 16))


def test_chest_x_rays_default_to_texture():
    from keras_ae.data.registry import DATASETS, dataset_entry

    assert DATASETS["pneumonia"].default_score == "texture"
    assert dataset_entry("medmnist:pneumoniamnist").default_score == "texture"
    assert dataset_entry("medmnist:breastmnist").default_score == "latent+detail"


def test_images_taken_a_block_at_a_time_give_the_same_vectors(monkeypatch):
    x = _noise(7, size=12, seed=8)
    whole = texture.band_energies(x)
    monkeypatch.setattr(texture, "BLOCK", 2 * 12 * 12)  # two images per block, the last block one image
    assert np.array_equal(texture.band_energies(x), whole)
    assert texture.band_energies(x[:0]).shape == (0, whole.shape[1])


def test_each_band_is_the_difference_of_two_successive_blurs():
    from scipy.ndimage import gaussian_filter

    x = _noise(2, size=12, seed=9)
    energies = texture.band_energies(x, cell=12, octaves=(0.5, 1.0))  # one cell: each band's mean energy
    z = (x - x.mean(axis=(1, 2, 3), keepdims=True)) / (x.std(axis=(1, 2, 3), keepdims=True) + 1e-6)
    g05, g1 = (gaussian_filter(z.astype(np.float64), (0, s, s, 0), mode="reflect") for s in (0.5, 1.0))
    expected = [np.log(((a - b) ** 2).mean(axis=(1, 2, 3)) + texture.FLOOR) for a, b in ((z, g05), (g05, g1))]
    assert np.allclose(energies, np.stack(expected, axis=1), atol=1e-5)


def test_channels_share_one_standardisation_and_8_bit_images_read_as_their_floats():
    rgb = np.concatenate([_noise(3, seed=10), 0.1 * _noise(3, seed=11)], axis=-1)  # a faint second channel
    energies = texture.band_energies(rgb, cell=16).reshape(3, 4, 2)  # (image, band, channel)
    assert np.all(energies[:, :, 1] < energies[:, :, 0] - 3)  # standardised per channel, they would be alike
    grey = (255 * _noise(3, seed=12)).round()
    assert np.allclose(texture.band_energies(grey.astype(np.uint8)), texture.band_energies(grey / 255), atol=1e-4)


def test_band_energies_checks_its_cell_and_the_image_size():
    x = _noise(2, size=8)
    for bad in (0, -1, None, True, 2.5):
        with pytest.raises(UsageError, match=r"must be a whole number of pixels, at least 1"):
            texture.band_energies(x, cell=bad)
    with pytest.raises(UsageError, match=r"cell=9 is larger than the images' smaller side \(8 pixels\)"):
        texture.band_energies(x, cell=9)
    with pytest.raises(UsageError, match=r"needs images of at least 2 x 2 pixels, received 1 x 1"):
        ImageScorer(_Identity(), "texture", contrast="none", k=1, cell=1).fit(_noise(4, size=1))
    with pytest.raises(ValueError, match=r"octaves to be blurs of a positive number of pixels"):
        texture.band_energies(x, octaves=())


def test_images_the_scorer_cannot_measure_are_refused_not_scored():
    """A NaN score would pass every threshold as normal; another image size would be measured against nothing."""
    train = _noise(10, seed=13)
    scorer = ImageScorer(_Identity(), "texture", contrast="none", k=2).fit(train)
    bad = _noise(3, seed=14)
    bad[1, 4, 4] = np.nan
    with pytest.raises(ValueError, match=r"x holds NaN or infinite pixels in 1 image: such an image cannot be scored"):
        scorer.score_samples(bad)
    with pytest.raises(ValueError, match=r"x holds images of shape \(15, 15, 1\), but the scorer was fitted on images "
                                         r"of shape \(16, 16, 1\)"):
        scorer.score_samples(_noise(2, size=15))
    assert scorer.score_samples(train[:2, ..., 0]).shape == (2,)  # grey without its channel axis is the same shape
    with pytest.raises(ValueError, match=r"x_train holds NaN or infinite pixels in 1 image"):
        ImageScorer(_Identity(), "texture", contrast="none", k=2).fit(np.concatenate([train, bad[1:2]]))
    with pytest.raises(ValueError, match=r"unknown contrast normalisation 'bogus'"):
        ImageScorer(_Identity(), "texture", contrast="bogus").fit(train)
    for k in (0, 2.5, True, None):
        with pytest.raises(UsageError, match=r"must be a whole number, at least 1"):
            ImageScorer(_Identity(), "texture", contrast="none", k=k).fit(train)
