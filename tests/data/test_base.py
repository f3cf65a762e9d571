"""keras_ae.data.base: every in-memory loader scales to [0, 1] or [-1, 1] the same way."""

import numpy as np
import pytest

from keras_ae import data


def test_every_in_memory_loader_rescales_to_minus_one_one_the_same_way(sample):
    from keras_ae.data import font, smileys

    symmetric = data.load_mnist_sample(value_range="-1,1")
    np.testing.assert_allclose(symmetric.x_test, sample.x_test * 2.0 - 1.0, atol=1e-6)
    glyphs = font.load_font5x7(value_range="-1,1").x_train
    assert set(np.unique(glyphs)) == {-1.0, 1.0}
    faces = smileys.load_smileys(value_range="-1,1", train_size=8, test_size=4)
    assert faces.x_train.min() >= -1.0 and faces.x_train.max() <= 1.0 and faces.x_train.min() < -0.5
    for loader in (data.load_mnist_sample, font.load_font5x7):
        with pytest.raises(ValueError, match="value_range='0,255'"):
            loader(value_range="0,255")
