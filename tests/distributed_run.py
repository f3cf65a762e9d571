"""Helper run in a subprocess by tests/test_training.py: one device vs MirroredStrategy on two logical CPUs.

TensorFlow fixes its logical devices when it first initialises them, so this must be a fresh process.
Prints one JSON line: per architecture, the per-epoch losses of each run.
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


def run(arch: str, strategy, weights, x, epochs: int, optimizer: str):
    training.set_seed(0)
    with strategy.scope():
        bundle = build(arch, x)
        if weights is not None:
            bundle.autoencoder.set_weights(weights)
        opt = keras.optimizers.SGD(learning_rate=0.5) if optimizer == "sgd" else None
        training.compile_model(bundle.autoencoder, optimizer=opt)
    result = training.fit(bundle, x[:256], x[256:], epochs=epochs, batch_size=64, seed=0, verbose=0,
                          train_loss_after_epoch=False)
    return bundle.autoencoder.get_weights(), result.history


def main(archs, optimizer):
    x = np.random.default_rng(0).random((320, 28, 28, 1), dtype=np.float32)
    x = (x > 0.7).astype(np.float32) * 0.9 + 0.05  # sparse bright pixels, like digits
    mirrored = training.get_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    out = {"replicas": mirrored.num_replicas_in_sync}
    for arch in archs:
        start = initial_weights(arch, x)
        _, one = run(arch, tf.distribute.get_strategy(), start, x, 3, optimizer)
        _, two = run(arch, mirrored, start, x, 3, optimizer)
        out[arch] = {"one_device": one, "mirrored": two}
    print(json.dumps(out))


def build(arch, x):
    extra = {"seed": 0} if arch in models.VARIATIONAL else {}
    return models.build(arch, input_shape=x.shape[1:], **extra)


def initial_weights(arch, x):
    training.set_seed(0)
    return build(arch, x).autoencoder.get_weights()


if __name__ == "__main__":
    main(sys.argv[1].split(","), sys.argv[2] if len(sys.argv) > 2 else "sgd")
