"""keras_ae.anomaly.one_class: balanced one-class splits and the ImageScorer."""

import numpy as np
import pytest

from keras_ae import anomaly
from keras_ae.anomaly import one_class
from keras_ae.errors import UsageError
from tests.helpers import halving_model


def models_bundle_halving():
    from keras_ae.models import Autoencoder

    net = halving_model()
    return Autoencoder(net, net, net)


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
