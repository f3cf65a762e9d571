"""The tf.data input pipeline: (input, target) batches from arrays or streams, noise drawn afresh each epoch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_ae.data.noise import check_noise


def _noise_fn(kind: str, amount: float, low: float, high: float):
    """A tf.data map function (input, target, seed) -> (noisy input, target).

    The draws are stateless, keyed by a per-batch seed that the pipeline takes from a seeded
    `tf.data.Dataset.random` stream which changes every epoch: fresh noise each epoch, the same
    noise for the same seed, and nothing stateful for tf.data or tf.distribute to trip on.
    """
    check_noise(kind, amount)

    def corrupt(x, target, seed):
        seed = tf.cast(seed, tf.int32)
        if kind == "gaussian":
            noisy = x + amount * tf.random.stateless_normal(tf.shape(x), seed, dtype=x.dtype)
        else:
            hit_seed, salt_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
            hit = tf.random.stateless_uniform(tf.shape(x), hit_seed) < amount
            salt = tf.random.stateless_uniform(tf.shape(x), salt_seed) < 0.5
            noisy = tf.where(hit, tf.where(salt, high, low), x)
        return tf.clip_by_value(noisy, low, high), target

    return corrupt


def _batches_from_arrays(x: np.ndarray, target: np.ndarray | None, batch_size: int, shuffle: bool,
                         seed: int) -> tf.data.Dataset:
    """(input, target) batches of in-memory arrays: shuffle indices, batch them, gather the rows.

    Gathering whole batches by index is far cheaper than slicing one example at a time (the arrays
    already live in memory, so there is nothing to cache); it is also how Keras feeds NumPy arrays.
    """
    arrays = (x,) if target is None else (x, target)
    indices = tf.data.Dataset.range(len(x))
    if shuffle:
        indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    data = tf.data.Dataset.from_tensors(arrays).repeat()

    def gather(index, tensors):
        rows = tuple(tf.gather(t, index) for t in tensors)
        return (rows[0], rows[0]) if target is None else rows

    return tf.data.Dataset.zip((indices, data)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)


def _batches_from_stream(images: tf.data.Dataset, batch_size: int, shuffle: bool, seed: int,
                         cache: bool | str, shuffle_buffer: int) -> tf.data.Dataset:
    """(image, image) batches of a tf.data stream of single images: cache, shuffle, batch."""
    if cache:
        images = images.cache("" if cache is True else str(cache))
    if shuffle:
        images = images.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return images.batch(batch_size).map(lambda x: (x, x))


def make_dataset(
    x: np.ndarray | tf.data.Dataset,
    target: np.ndarray | None = None,
    batch_size: int = 128,
    shuffle: bool = True,
    seed: int = 0,
    noise: tuple[str, float] | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    cache: bool | str = False,
    shuffle_buffer: int = 10_000,
) -> tf.data.Dataset:
    """Input pipeline of (input, target) batches: (cache,) shuffle, batch, noise drawn per epoch, prefetch.

    Args:
        x: images in memory (n, ...) or a `tf.data.Dataset` of single images (streamed from files,
            tensorflow-datasets, ...).
        target: what the model should output; defaults to `x` (plain reconstruction). Arrays only.
        noise: ("gaussian" | "salt-pepper", amount) corrupts the input only, afresh every epoch.
        cache: streams only: True caches decoded images in memory after the first epoch, a path
            caches them in that file; False reads the source every epoch (data larger than memory).
        shuffle_buffer: streams only: shuffle buffer size in images (arrays are fully shuffled).
    """
    if isinstance(x, tf.data.Dataset):
        if target is not None:
            raise ValueError("target is only supported for in-memory arrays, received a tf.data.Dataset")
        ds = _batches_from_stream(x, batch_size, shuffle, seed, cache, shuffle_buffer)
    else:
        ds = _batches_from_arrays(np.asarray(x), None if target is None else np.asarray(target), batch_size,
                                  shuffle, seed)
    if noise is not None and noise[1] > 0:
        corrupt = _noise_fn(noise[0], noise[1], *value_range)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(lambda batch, pair_seed: corrupt(*batch, pair_seed),
                                                  num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    # Multi-worker training shards by batch: each worker reads the pipeline and keeps its share.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)
