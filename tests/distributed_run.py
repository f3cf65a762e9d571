"""Helper run in a subprocess by tests/test_training.py: one device vs MirroredStrategy on two logical CPUs.

TensorFlow fixes its logical devices when it first initialises them, so this must be a fresh process.
Usage: python tests/distributed_run.py ARCH[,ARCH...]; prints one JSON line with, per architecture and
setting, the per-epoch history of the one-device run and of the two-replica run from the same weights.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from keras_ae import models, training  # noqa: E402

# Plain SGD makes the loss depend on the gradient's scale (Adam would hide a factor of 2 error).
SGD_RATE = {"conv": 0.5, "dense": 0.5, "vae": 1e-3, "conv-vae": 1e-3}


def build(arch: str, x: np.ndarray):
    extra = {"seed": 0} if arch in models.VARIATIONAL else {}
    return models.build(arch, input_shape=x.shape[1:], **extra)


def run(arch: str, strategy, weights, x, optimizer: str, shuffle: bool, noise):
    training.set_seed(0)
    with strategy.scope():
        bundle = build(arch, x)
        bundle.autoencoder.set_weights(weights)
        opt = keras.optimizers.SGD(SGD_RATE[arch]) if optimizer == "sgd" else None
        training.compile_model(bundle.autoencoder, optimizer=opt)
    result = training.fit(bundle, x[:256], x[256:], epochs=2, batch_size=64, seed=0, verbose=0,
                          train_loss_after_epoch=False, shuffle=shuffle, noise=noise)
    return result.history


def update_size(arch: str, strategy, weights, x) -> float:
    """Size of the weight change of one SGD step on one global batch (a wrong gradient scale shows here)."""
    training.set_seed(0)
    with strategy.scope():
        bundle = build(arch, x)
        bundle.autoencoder.set_weights(weights)
        training.compile_model(bundle.autoencoder, optimizer=keras.optimizers.SGD(SGD_RATE[arch]))
    training.fit(bundle, x[:64], x[256:], epochs=1, batch_size=64, verbose=0, train_loss_after_epoch=False,
                 shuffle=False)
    after = bundle.autoencoder.get_weights()
    return float(np.sqrt(sum(np.sum((a - w) ** 2) for a, w in zip(after, weights))))


SETTINGS = {"sgd": ("sgd", False, None), "adam-shuffled-noisy": ("adam", True, ("gaussian", 0.3))}


def main(archs: list[str]) -> None:
    x = np.random.default_rng(0).random((320, 28, 28, 1), dtype=np.float32)
    x = (x > 0.7).astype(np.float32) * 0.9 + 0.05  # sparse bright pixels, like digits
    one = tf.distribute.get_strategy()
    mirrored = training.get_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    out = {"replicas": mirrored.num_replicas_in_sync}
    for arch in archs:
        training.set_seed(0)
        start = build(arch, x).autoencoder.get_weights()
        for name, (optimizer, shuffle, noise) in SETTINGS.items():
            out[f"{arch}/{name}"] = {
                "one_device": run(arch, one, start, x, optimizer, shuffle, noise),
                "mirrored": run(arch, mirrored, start, x, optimizer, shuffle, noise),
            }
        out[f"{arch}/update"] = {"one_device": update_size(arch, one, start, x),
                                 "mirrored": update_size(arch, mirrored, start, x)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1].split(","))
