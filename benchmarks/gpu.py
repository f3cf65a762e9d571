"""GPU check on Keras's JAX backend, in one call: images per second of every builder and the VAE, ours against the
slide code on the same device, the same on the CPUs, and the fraud detector's fit on 300,000 rows.

Made for a machine with JAX (CUDA) and no TensorFlow (only the Keras wheel travels); it runs on CPU too, which is
how it is tested. Per builder, batch size (128 ... 4096) and precision (float32, mixed_bfloat16):
  * ours: `keras_ae.training.fit` (arrays through `ArrayBatches`, the model compiled by `compile_model` with
    `steps_per_execution`, so one call into JAX runs many steps);
  * slide: the lecture's ``model.fit(x, x, batch_size=...)`` on NumPy arrays, one step per call.
Images/s = images / the second epoch's wall time (the first compiles). The CPU rows run the conv autoencoder in a
child process with JAX_PLATFORMS=cpu. Targets on the H200: one 60,000-image epoch of the conv autoencoder under
1 s; ours at least 1.5x the slide code on the same device; the 300,000-row fraud fit under 30 s.

    KERAS_BACKEND=jax python benchmarks/gpu.py                      # benchmarks/results/gpu.json (under 6 minutes)
    KERAS_BACKEND=jax python benchmarks/gpu.py --quick --out /tmp/gpu.json     # a smoke run on a CPU

On a GPU machine with JAX but without TensorFlow and without network, bring Keras as a wheel and the package as
source (no dependencies are installed there):

    pip download --no-deps --only-binary=:all: --python-version 3.12 -d wheels \
        keras namex optree ml_dtypes h5py absl-py rich
    # there:  pip install --no-deps --target /tmp/site wheels/*.whl && PYTHONPATH=/tmp/site:. \
    #         KERAS_BACKEND=jax python benchmarks/gpu.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402

ARCHS = ("dense", "deep", "conv", "denoise", "vae")
BATCHES = (128, 512, 1024, 4096)
PRECISIONS = ("float32", "mixed_bfloat16")
STEPS_PER_EXECUTION = 32
TARGETS = {"conv_epoch_seconds": 1.0, "ours_over_slide": 1.5, "fraud_fit_seconds": 30.0}


def images(n: int):
    """`n` MNIST-shaped images: the shipped sample, tiled (the values matter little for speed)."""
    import numpy as np

    from keras_ae.data import load_mnist_sample

    x = load_mnist_sample().x_train
    return np.ascontiguousarray(np.resize(x, (n, *x.shape[1:])))


class EpochClock:
    """Wall seconds of each epoch, as a Keras callback (made lazily: keras is imported after the backend is set)."""

    def __new__(cls):
        import keras

        class _Clock(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds: list[float] = []

            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self.start)

        return _Clock()


def one(arch: str, batch: int, precision: str, x, way: str, epochs: int = 2) -> dict:
    """Images/s of one configuration (the last epoch's time; the first compiles)."""
    import keras

    from keras_ae import models, training

    keras.mixed_precision.set_global_policy(precision)
    try:
        keras.utils.set_random_seed(0)
        shape = (784,) if arch in ("dense", "deep") else x.shape[1:]
        data = x.reshape(len(x), -1) if arch in ("dense", "deep") else x
        bundle = models.build(arch, input_shape=shape)
        clock = EpochClock()
        if way == "ours":
            training.compile_model(bundle.autoencoder, steps_per_execution=STEPS_PER_EXECUTION)
            training.fit(bundle, data, data[:batch], epochs=epochs, batch_size=batch, verbose=0, callbacks=[clock],
                         train_loss_after_epoch=False, noise=("gaussian", 0.5) if arch == "denoise" else None)
        else:  # the slide code: compile and fit on arrays, the denoiser on one fixed noisy copy
            net = bundle.autoencoder
            net.compile(optimizer="adam", loss=None if arch == "vae" else "binary_crossentropy")
            target = None if arch == "vae" else data
            net.fit(data, target, epochs=epochs, batch_size=batch, verbose=0, callbacks=[clock], shuffle=True)
        seconds = clock.seconds[-1]
        return {"images_per_second": round(len(x) / seconds, 1), "epoch_seconds": round(seconds, 4),
                "first_epoch_seconds": round(clock.seconds[0], 3)}
    finally:
        keras.mixed_precision.set_global_policy("float32")


def fraud_fit(rows: int) -> dict:
    import warnings

    from keras_ae.fraud import FraudDetector, synthetic_transactions
    from keras_ae.fraud.threshold import ThresholdWarning

    frame = synthetic_transactions(rows, seed=0)
    with harness.Timer() as timer, warnings.catch_warnings():
        warnings.simplefilter("ignore", ThresholdWarning)  # small smoke runs hold out few rows
        det = FraudDetector(verbose=0).fit(frame)
    return {"rows": rows, "fit_seconds": round(timer.seconds, 2), "epochs": det.epochs_run_,
            "batch_size": det.batch_size_}


def cpu_rows(n: int, batches, script: str) -> dict:
    """The conv autoencoder on the CPUs, in a child process that JAX starts on its CPU platform."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, script, "--cpu-child", "--images", str(n),
                          "--batches", *map(str, batches)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: 2,048 images, two batch sizes, 3,000 rows")
    p.add_argument("--images", type=int, default=60_000)
    p.add_argument("--batches", type=int, nargs="*", default=list(BATCHES))
    p.add_argument("--archs", nargs="*", default=list(ARCHS))
    p.add_argument("--fraud-rows", type=int, default=300_000)
    p.add_argument("--cpu-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(harness.RESULTS / "gpu.json"))
    args = p.parse_args(argv)
    if args.quick:
        args.images, args.batches, args.fraud_rows = 2048, [128, 512], 3000
    import keras

    if args.cpu_child:
        x = images(args.images)
        print(json.dumps({str(b): {way: one("conv", b, "float32", x, way) for way in ("ours", "slide")}
                          for b in args.batches}))
        return 0
    run = harness.Run(__file__, sys.argv[1:] if argv is None else argv)
    from keras_ae import training

    device = training.device_name()
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, {device}", flush=True)
    x = images(args.images)
    results: dict = {}
    for arch in args.archs:
        for precision in PRECISIONS:
            for batch in args.batches:
                row = {way: one(arch, batch, precision, x, way) for way in ("ours", "slide")}
                row["ours_over_slide"] = round(row["ours"]["images_per_second"] / row["slide"]["images_per_second"],
                                               3)
                results.setdefault(arch, {}).setdefault(precision, {})[str(batch)] = row
                print(f"{arch:>8} {precision:>15} batch {batch:>5}: ours {row['ours']['images_per_second']:>10,.0f}"
                      f"  slide {row['slide']['images_per_second']:>10,.0f} images/s  ({row['ours_over_slide']}x)",
                      flush=True)
    cpu = cpu_rows(args.images, args.batches[:2], __file__)
    fraud = fraud_fit(args.fraud_rows)
    print(f"fraud fit on {fraud['rows']:,} rows: {fraud['fit_seconds']} s", flush=True)
    conv = results.get("conv", {}).get("float32", {})
    best_conv = min((r["ours"]["epoch_seconds"] * 60_000 / args.images for r in conv.values()), default=None)
    ratios = [r["ours_over_slide"] for arch in results.values() for prec in arch.values() for r in prec.values()]
    report = {"device": device, "backend": keras.backend.backend(), "keras": keras.__version__,
              "images": args.images, "steps_per_execution": STEPS_PER_EXECUTION, "results": results, "cpu_conv": cpu,
              "fraud_fit": fraud, "quick": args.quick,
              "targets": {"conv_60000_image_epoch_seconds": best_conv,
                          "conv_epoch_under_1_second": best_conv is not None
                          and best_conv < TARGETS["conv_epoch_seconds"],
                          "median_ours_over_slide": sorted(ratios)[len(ratios) // 2] if ratios else None,
                          "fraud_fit_under_30_seconds": fraud["fit_seconds"] < TARGETS["fraud_fit_seconds"]}}
    harness.write_result(args.out, report, run.record())
    print(json.dumps(report["targets"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
