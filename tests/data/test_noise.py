"""keras_ae.data.noise: the lecture's Gaussian noise and salt-and-pepper, bad amounts refused."""

import numpy as np
import pytest

from keras_ae import data


def test_gaussian_noise_is_the_lecture_formula():
    x = np.full((2000, 4), 0.5, dtype=np.float32)
    noisy = data.gaussian_noise(x, 0.5, seed=1)
    assert noisy.min() >= 0 and noisy.max() <= 1
    # clip(0.5 + 0.5 N(0,1)) clips at +-1 sigma: std = 0.5 * sqrt(0.6827 - 2 phi(1) + 0.3173) = 0.5 * 0.7184
    assert abs((noisy - 0.5).std() - 0.5 * 0.7184) < 0.01
    np.testing.assert_array_equal(noisy, data.gaussian_noise(x, 0.5, seed=1))


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9])
def test_salt_and_pepper_hits_the_asked_fraction(fraction):
    x = np.full((100, 35), 0.5, dtype=np.float32)
    noisy = data.salt_and_pepper(x, fraction, seed=0)
    changed = noisy != 0.5
    assert abs(changed.mean() - fraction) < 0.02
    assert set(np.unique(noisy[changed])) <= {0.0, 1.0}
    assert abs((noisy[changed] == 1.0).mean() - 0.5) < 0.05


@pytest.mark.parametrize("kind, amount, message", [
    ("gaussian", -0.1, r"noise \(amount: the Gaussian noise factor\) must be between 0 and 1, received -0.1"),
    ("gaussian", 1.5, r"noise \(amount: the Gaussian noise factor\) must be between 0 and 1, received 1.5"),
    ("salt-pepper", 2.0, r"noise \(amount: the share of salt-and-pepper pixels\) must be between 0 and 1, "
                         "received 2.0"),
    ("speckle", 0.1, r"unknown noise kind 'speckle' \(known: gaussian, salt-pepper\)"),
])
def test_noise_out_of_range_is_refused(kind, amount, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        data.add_noise(np.zeros((1, 4), np.float32), kind, amount)
