"""Lecture benchmark: each architecture trained on the shipped MNIST sample, beside the slide code.

For every architecture and seed, two trainings on the same data, epochs and batch size:
  * ours: the keras_ae builder trained with keras_ae.training.fit (tf.data, fresh noise per epoch);
  * slide: the lecture's own Keras code, written out below (model.fit on numpy arrays, one fixed
    noisy copy of the training set for the denoiser).
Test BCE is the mean per-pixel binary cross-entropy of the reconstructions of the 1,000 test images
(against the clean images; denoisers get test inputs corrupted with noise_factor 0.5, seed 1).

    python benchmarks/lecture.py                # 10 epochs, seeds 0 1 2 -> benchmarks/results/lecture.json
    python benchmarks/lecture.py --epochs 2 --seeds 0 --archs conv   # a quick look
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import harness  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from keras_ae import models, training  # noqa: E402
from keras_ae.data import gaussian_noise, load_mnist_sample  # noqa: E402

ARCHS = ("dense", "deep", "conv", "denoise", "vae")
NOISE = 0.5


# ---- the slide code, as the lectures write it -------------------------------------------------------------
def slide_dense():
    inp = keras.Input(shape=(784,))
    encoded = layers.Dense(32, activation="relu")(inp)
    decoded = layers.Dense(784, activation="sigmoid")(encoded)
    return keras.Model(inp, decoded)


def slide_deep():
    inp = keras.Input(shape=(784,))
    x = layers.Dense(128, activation="relu")(inp)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dense(128, activation="relu")(x)
    return keras.Model(inp, layers.Dense(784, activation="sigmoid")(x))


def slide_conv():
    inp = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    encoded = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(encoded)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(16, (3, 3), activation="relu")(x)
    x = layers.UpSampling2D((2, 2))(x)
    return keras.Model(inp, layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x))


def slide_denoise():
    inp = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    encoded = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(encoded)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.UpSampling2D((2, 2))(x)
    return keras.Model(inp, layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x))


class SlideVAE(keras.Model):
    """The keras-io VAE pattern with the lecture's dense 784-512-2 layout."""

    def __init__(self):
        super().__init__()
        inp = keras.Input(shape=(784,))
        h = layers.Dense(512, activation="relu")(inp)
        self.encoder = keras.Model(inp, [layers.Dense(2)(h), layers.Dense(2)(h)])
        z = keras.Input(shape=(2,))
        self.decoder = keras.Model(z, layers.Dense(784, activation="sigmoid")(layers.Dense(512, activation="relu")(z)))
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, x):
        return self.decoder(self.encoder(x)[0])

    def train_step(self, x):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(x)
            z = z_mean + tf.exp(0.5 * z_log_var) * tf.random.normal(tf.shape(z_mean))
            recon = self.decoder(z)
            rec = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(x[..., None], recon[..., None]), -1))
            kl = tf.reduce_mean(-0.5 * tf.reduce_sum(1 + z_log_var - z_mean**2 - tf.exp(z_log_var), -1))
            loss = rec + kl
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


SLIDES = {"dense": slide_dense, "deep": slide_deep, "conv": slide_conv, "denoise": slide_denoise}


def run_slide(arch, x_train, x_test_in, x_test, epochs, batch_size, seed):
    keras.utils.set_random_seed(seed)
    flat = arch in ("dense", "deep", "vae")
    prep = (lambda a: a.reshape(len(a), -1)) if flat else (lambda a: a)
    if arch == "vae":
        model = SlideVAE()
        model.compile(optimizer="adam")
        fit_args = (prep(x_train),)
    else:
        model = SLIDES[arch]()
        model.compile(optimizer="adam", loss="binary_crossentropy")
        inputs = gaussian_noise(x_train, NOISE, seed=seed) if arch == "denoise" else x_train
        fit_args = (prep(inputs), prep(x_train))
    with harness.Timer() as t:
        model.fit(*fit_args, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    scores = training.evaluate_reconstruction(model, prep(x_test_in), prep(x_test))
    return {"test_bce": scores["bce"], "test_mse": scores["mse"], "seconds_per_epoch": t.seconds / epochs,
            "parameters": int(model.count_params())}


def run_ours(arch, x_train, x_test_in, x_test, epochs, batch_size, seed):
    training.set_seed(seed, deterministic=False)
    kwargs = {"input_shape": x_train.shape[1:]}
    if arch == "vae":
        kwargs["seed"] = seed
    bundle = models.build(arch, **kwargs)
    training.compile_model(bundle.autoencoder)
    noise = ("gaussian", NOISE) if arch == "denoise" else None
    result = training.fit(bundle, x_train, x_test_in if noise is None else x_test, epochs=epochs,
                          batch_size=batch_size, noise=noise, seed=seed, verbose=0, train_loss_after_epoch=False)
    scores = training.evaluate_reconstruction(bundle.autoencoder, x_test_in, x_test)
    return {"test_bce": scores["bce"], "test_mse": scores["mse"], "seconds_per_epoch": result.seconds / epochs,
            "parameters": int(bundle.autoencoder.count_params())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS)
    parser.add_argument("--out", default="benchmarks/results/lecture.json")
    args = parser.parse_args(argv)
    run = harness.Run(__file__, argv)

    data = load_mnist_sample()
    rows = []
    for arch in args.archs:
        x_test_in = gaussian_noise(data.x_test, NOISE, seed=1) if arch == "denoise" else data.x_test
        for seed in args.seeds:
            # alternate which side runs first so a busy machine does not favour one of them
            sides = ("ours", "slide") if seed % 2 == 0 else ("slide", "ours")
            for side in sides:
                fn = run_ours if side == "ours" else run_slide
                result = fn(arch, data.x_train, x_test_in, data.x_test, args.epochs, args.batch_size, seed)
                rows.append({"arch": arch, "side": side, "seed": seed, **result})
                print(f"{arch:8s} {side:6s} seed {seed}: test BCE {result['test_bce']:.4f}  "
                      f"{result['seconds_per_epoch']:.2f} s/epoch", flush=True)
    summary = {}
    for arch in args.archs:
        entry = {}
        for side in ("ours", "slide"):
            picked = [r for r in rows if r["arch"] == arch and r["side"] == side]
            entry[side] = {
                "test_bce_mean": float(np.mean([r["test_bce"] for r in picked])),
                "test_bce_std": float(np.std([r["test_bce"] for r in picked])),
                "seconds_per_epoch_median": float(np.median([r["seconds_per_epoch"] for r in picked])),
                "parameters": picked[0]["parameters"],
            }
        entry["ours_no_worse"] = entry["ours"]["test_bce_mean"] <= entry["slide"]["test_bce_mean"]
        summary[arch] = entry
    harness.write_result(args.out, {
        "dataset": "mnist-sample (4,000 train / 1,000 test real MNIST digits)",
        "epochs": args.epochs, "batch_size": args.batch_size, "seeds": args.seeds,
        "device": training.device_name(), "summary": summary, "runs": rows,
    }, run.record())
    for arch, entry in summary.items():
        print(f"{arch:8s} ours {entry['ours']['test_bce_mean']:.4f}  slide {entry['slide']['test_bce_mean']:.4f}  "
              f"no worse: {entry['ours_no_worse']}")


if __name__ == "__main__":
    main()
