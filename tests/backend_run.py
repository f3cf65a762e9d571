"""Run by tests/models/test_backends.py in a subprocess with KERAS_BACKEND set: train every builder a few steps from
the same initial weights on the same data, and predict with models saved on the other backend.

    KERAS_BACKEND=tensorflow python tests/backend_run.py DIR init    # build, save initial and trained models
    KERAS_BACKEND=jax python tests/backend_run.py DIR compare        # train from the same start, load TF's models
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_ae import build  # noqa: E402
from keras_ae.models import vae  # noqa: E402, F401  (registers VAE and Sampling for loading)

ARCHS = ("dense", "deep", "conv", "denoise", "vae")
STEPS, BATCH = 3, 16


def data(arch: str) -> np.ndarray:
    x = np.random.default_rng(0).random((STEPS * BATCH, 28, 28, 1)).astype("float32")
    return x.reshape(len(x), -1) if arch in ("dense", "deep") else x


def train(model, arch: str) -> list[float]:
    """Losses of STEPS plain SGD steps (batch order fixed), one epoch of STEPS batches each time."""
    # the VAE's loss sums over pixels (hundreds of nats): a smaller step keeps plain SGD stable
    rate = 1e-5 if arch == "vae" else 0.05
    model.compile(optimizer=keras.optimizers.SGD(rate), **({} if arch == "vae" else {"loss": "binary_crossentropy"}))
    x = data(arch)
    losses = []
    for step in range(STEPS):
        batch = x[step * BATCH:(step + 1) * BATCH]
        logs = model.train_on_batch(batch, None if arch == "vae" else batch, return_dict=True)
        losses.append(float(logs["loss"]))
    return losses


def main(folder: str, mode: str) -> None:
    out, backend = pathlib.Path(folder), keras.backend.backend()
    report = {"backend": backend, "losses": {}, "predictions_match": {}}
    for arch in ARCHS:
        if mode == "init":
            keras.utils.set_random_seed(0)
            model = build(arch, input_shape=(784,) if arch in ("dense", "deep") else (28, 28, 1)).autoencoder
            model.save(out / f"{arch}_init.keras")
        else:
            model = keras.saving.load_model(out / f"{arch}_init.keras")
        report["losses"][arch] = train(model, arch)
        x = data(arch)[:8]
        if mode == "init":
            model.save(out / f"{arch}_trained.keras")
            np.save(out / f"{arch}_predictions.npy", model.predict(x, verbose=0))
        else:  # a model saved on the other backend predicts the same here
            other = keras.saving.load_model(out / f"{arch}_trained.keras")
            report["predictions_match"][arch] = float(np.max(np.abs(
                other.predict(x, verbose=0) - np.load(out / f"{arch}_predictions.npy"))))
    (out / f"{mode}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
