"""keras_ae.training.pipeline: the tf.data pipeline and per-epoch noise."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae import training


def epoch(ds):
    """One pass over a dataset of (input, target) batches, concatenated."""
    inputs, targets = zip(*[(a.numpy(), b.numpy()) for a, b in ds])
    return np.concatenate(inputs), np.concatenate(targets)


# ---- input pipeline ----------------------------------------------------------------------------------------
def test_array_pipeline_gives_every_example_once_per_epoch_in_a_fresh_seeded_order():
    x = np.arange(100, dtype=np.float32).reshape(100, 1)
    training.set_seed(0)
    ds = training.make_dataset(x, batch_size=32, seed=5)
    first, first_target = epoch(ds)
    second, _ = epoch(ds)
    assert sorted(first[:, 0]) == list(range(100)) and sorted(second[:, 0]) == list(range(100))
    np.testing.assert_array_equal(first, first_target)  # plain reconstruction: target is the input
    assert not np.array_equal(first, second)  # reshuffled every epoch
    training.set_seed(0)
    again = training.make_dataset(x, batch_size=32, seed=5)
    np.testing.assert_array_equal(epoch(again)[0], first)  # same seed, same order
    np.testing.assert_array_equal(epoch(again)[0], second)
    assert [len(a) for a, _ in ds] == [32, 32, 32, 4]


def test_noise_is_drawn_afresh_every_epoch_reproducibly_and_only_on_the_input():
    x = np.full((64, 8, 8, 1), 0.5, dtype=np.float32)
    training.set_seed(0)
    ds = training.make_dataset(x, batch_size=16, shuffle=False, seed=3, noise=("gaussian", 0.1))
    noisy1, clean1 = epoch(ds)
    noisy2, _ = epoch(ds)
    np.testing.assert_array_equal(clean1, x)
    assert not np.allclose(noisy1, noisy2)
    # noise_factor 0.1 around 0.5 is never clipped: the draws are N(0, 0.1^2)
    assert abs(float(np.std(noisy1 - x)) - 0.1) < 0.005 and abs(float(np.mean(noisy1 - x))) < 0.005
    # within one epoch every batch gets its own draw
    assert not np.allclose(noisy1[:16], noisy1[16:32])
    training.set_seed(0)
    same = training.make_dataset(x, batch_size=16, shuffle=False, seed=3, noise=("gaussian", 0.1))
    np.testing.assert_array_equal(epoch(same)[0], noisy1)
    np.testing.assert_array_equal(epoch(same)[0], noisy2)
    training.set_seed(0)
    other = training.make_dataset(x, batch_size=16, shuffle=False, seed=4, noise=("gaussian", 0.1))
    assert not np.allclose(epoch(other)[0], noisy1)


def test_salt_and_pepper_in_the_pipeline_hits_the_asked_fraction_with_both_extremes():
    x = np.full((32, 16, 16, 1), 0.5, dtype=np.float32)
    ds = training.make_dataset(x, batch_size=32, shuffle=False, noise=("salt-pepper", 0.2))
    noisy, clean = epoch(ds)
    hit = noisy != 0.5
    assert abs(hit.mean() - 0.2) < 0.02
    assert set(np.unique(noisy[hit])) == {0.0, 1.0}
    np.testing.assert_array_equal(clean, x)


def test_stream_pipeline_batches_single_images_and_caches_on_request():
    images = tf.data.Dataset.from_tensor_slices(np.arange(50, dtype=np.float32).reshape(50, 1, 1, 1))
    ds = training.make_dataset(images, batch_size=16, seed=1, cache=True, shuffle_buffer=50)
    first, target = epoch(ds)
    second, _ = epoch(ds)
    assert sorted(first.ravel()) == list(range(50)) and sorted(second.ravel()) == list(range(50))
    np.testing.assert_array_equal(first, target)
    assert not np.array_equal(first, second)
    with pytest.raises(ValueError, match="target is only supported for in-memory arrays"):
        training.make_dataset(images, target=np.zeros((50, 1)))
