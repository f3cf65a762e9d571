"""keras_ae.data.smileys: deterministic RGB faces with known factors, registered as a dataset."""

import numpy as np

from keras_ae.data import load_dataset, smileys


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
    # training faces are the first of 2,000 pairs differing in one factor (weak supervision for a VAE)
    assert data.x_pairs.shape == (2000, 2, 64, 64, 3)
    np.testing.assert_array_equal(data.x_train, data.x_pairs[:, 0])
    single = smileys.load_smileys(train_size=8, test_size=4, pairs=False)
    assert single.x_pairs is None and single.x_train.shape == (8, 64, 64, 3)
