"""Helper run in subprocesses by tests/test_training.py: one worker of a MultiWorkerMirroredStrategy cluster.

The cluster comes from TF_CONFIG (set by the test: two workers on localhost ports). Prints one JSON line
with this worker's per-epoch history and a checksum of its final weights.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_ae import models, training  # noqa: E402


def data() -> np.ndarray:
    x = np.random.default_rng(0).random((192, 28, 28, 1), dtype=np.float32)
    return (x > 0.7).astype(np.float32) * 0.9 + 0.05


def train(strategy) -> dict:
    x = data()
    training.set_seed(0)
    with strategy.scope():
        bundle = models.build("conv")
        training.compile_model(bundle.autoencoder, optimizer=keras.optimizers.SGD(0.5))
    result = training.fit(bundle, x[:128], x[128:], epochs=2, batch_size=64, verbose=0,
                          train_loss_after_epoch=False, shuffle=False)
    weights = bundle.autoencoder.get_weights()
    return {"history": result.history, "weight_sum": float(sum(np.abs(w).sum() for w in weights)),
            "replicas": int(strategy.num_replicas_in_sync)}


if __name__ == "__main__":
    strategy = training.get_strategy("multi-worker")  # first: before any other TensorFlow work
    print(json.dumps(train(strategy)))
