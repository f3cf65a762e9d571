"""`keras-ae-train` / `scripts/train.py`: train one architecture and leave a complete run directory."""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, parse_with_config, quiet_tensorflow, run_main
from keras_ae.errors import UsageError

ARCHS = ("dense", "deep", "conv", "denoise", "vae", "conv-vae")
VARIATIONAL_ARCHS = ("vae", "conv-vae")
STRATEGIES = ("auto", "mirrored", "multi-worker")  # as keras_ae.training.STRATEGIES (not imported: no TF yet)
# Epochs of the lecture code for each architecture.
DEFAULT_EPOCHS = {"dense": 50, "deep": 100, "conv": 10, "denoise": 100, "vae": 30, "conv-vae": 30}


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-train", description=__doc__)
    p.add_argument("--arch", default="conv", help=f"architecture: {', '.join(ARCHS)} (default conv)")
    p.add_argument("--dataset", default="mnist",
                   help="mnist, fashion_mnist, mnist-sample, folder:PATH or tfds:NAME (tensorflow-datasets, "
                        "streamed; e.g. tfds:emnist/letters, tfds:cifar10) (default mnist; offline it falls "
                        "back to the shipped sample)")
    p.add_argument("--image-size", type=int, default=None,
                   help="side of the images (folder:PATH default 28; tfds:NAME default its own)")
    p.add_argument("--channels", type=int, default=None, choices=(1, 3),
                   help="1 grey, 3 RGB (folder:PATH default 1; tfds:NAME default its own)")
    p.add_argument("--stream", action="store_true",
                   help="folder:PATH: decode image files while training instead of loading them all "
                        "(data larger than memory); tfds:NAME always streams")
    p.add_argument("--cache", action=argparse.BooleanOptionalAction, default=None,
                   help="streamed data: keep decoded images in memory after the first epoch (default: "
                        "tfds:NAME when it takes < 1 GiB, never folder:PATH)")
    p.add_argument("--shuffle-buffer", type=int, default=10_000,
                   help="shuffle buffer in images for streamed data (default 10000)")
    p.add_argument("--value-range", default="0,1", choices=("0,1", "-1,1"),
                   help="pixel scaling; -1,1 uses a tanh output and MSE loss")
    p.add_argument("--noise", type=float, default=None,
                   help="noise amount in [0, 1]; on any arch trains it as a denoiser (denoise: 0.5)")
    p.add_argument("--noise-kind", default="gaussian", choices=("gaussian", "salt-pepper"))
    p.add_argument("--epochs", type=int, default=None, help="default: the lecture's for the arch")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--latent-dim", type=int, default=None,
                   help="code size (dense, deep, vae); code channels for conv and denoise")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight of the VAE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-size", type=int, default=None, help="use only the first N training images")
    p.add_argument("--test-size", type=int, default=None, help="use only the first N test images")
    p.add_argument("--out", default=None, help="run directory (default runs/<time>-<arch>)")
    p.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="mixed_float16: float16 compute, float32 weights, outputs and losses (fast on GPUs)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                   help="compile each step with XLA; turns TensorFlow's op determinism off (XLA needs that), so runs "
                        "are no longer bitwise repeatable (default: no XLA, deterministic ops)")
    p.add_argument("--strategy", default="auto", choices=STRATEGIES,
                   help="tf.distribute: auto (several GPUs -> mirrored, TF_CONFIG -> multi-worker), mirrored "
                        "(all GPUs here), multi-worker (the cluster in TF_CONFIG); --batch-size is global")
    p.add_argument("--steps-per-execution", type=int, default=1,
                   help="training steps per call into TensorFlow (try 16-64 for small models on a GPU)")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras progress output")
    return p


def check_args(args) -> None:
    """Every option a user can get wrong, checked before any work, each with its value named."""
    if args.arch not in ARCHS:
        raise UsageError(f"unknown --arch {args.arch!r} (known: {', '.join(ARCHS)})")
    if args.epochs is not None and args.epochs <= 0:
        raise UsageError(f"--epochs must be > 0, received {args.epochs}")
    for name in ("batch_size", "image_size", "latent_dim", "train_size", "test_size", "steps_per_execution",
                 "shuffle_buffer"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0, received {value}")
    if args.lr <= 0:
        raise UsageError(f"--lr must be > 0, received {args.lr}")
    if args.beta < 0:
        raise UsageError(f"--beta must be >= 0, received {args.beta}")
    if args.noise is not None and not 0.0 <= args.noise <= 1.0:
        raise UsageError(f"--noise must be between 0 and 1, received {args.noise}")
    if args.stream and not args.dataset.startswith(("folder:", "tfds:")):
        raise UsageError(f"--stream reads folder:PATH or tfds:NAME, received --dataset {args.dataset}")


def streams(args) -> bool:
    return args.stream or args.dataset.startswith("tfds:")


def load_data(args):
    """The dataset asked for; MNIST falls back to the shipped sample when it cannot be downloaded.

    Streamed data (tfds:NAME, folder:PATH with --stream) comes back as a `StreamDataset`.
    """
    from keras_ae.data import DownloadError, load_dataset, load_mnist_sample

    size = (args.image_size, args.image_size) if args.image_size else None
    try:
        if streams(args):
            from keras_ae.data.stream import TEST_LIMIT, load_stream

            return load_stream(args.dataset, value_range=args.value_range, image_size=size,
                               channels=args.channels, seed=args.seed, test_limit=args.test_size or TEST_LIMIT,
                               train_limit=args.train_size)
        return load_dataset(args.dataset, value_range=args.value_range, image_size=size,
                            channels=args.channels or 1, seed=args.seed)
    except DownloadError as err:
        if args.dataset != "mnist":
            raise UsageError(f"--dataset {args.dataset}: {err}") from None
        print("MNIST cannot be downloaded here; using the shipped sample data/mnist_sample.npz "
              "(5,000 real digits)", file=sys.stderr)
        data = load_mnist_sample(value_range=args.value_range)
        data.info["fallback_from"] = "mnist"
        return data


def make_strategy(args):
    from keras_ae import training

    try:
        return training.get_strategy(args.strategy)
    except ValueError as err:
        raise UsageError(f"--strategy {args.strategy}: {err}") from None


def build_model(args, input_shape):
    from keras_ae import models

    kwargs = {"input_shape": input_shape}
    if args.value_range == "-1,1":
        kwargs["output_activation"] = "tanh"
    if args.arch in models.VARIATIONAL:
        kwargs.update(beta=args.beta, seed=args.seed)
    if args.latent_dim is not None:
        if args.arch in ("conv", "denoise"):
            filters = (16, 8, 8) if args.arch == "conv" else (32, 32)
            kwargs["filters"] = (*filters[:-1], args.latent_dim)
        else:
            kwargs["latent_dim"] = args.latent_dim
    try:
        return models.build(args.arch, **kwargs)
    except ValueError as err:
        raise UsageError(f"--arch {args.arch}: {err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_with_config(build_parser(), argv)
    check_args(args)
    args.epochs = args.epochs or DEFAULT_EPOCHS[args.arch]
    if args.noise is None and args.arch == "denoise":
        args.noise = 0.5
    noise = (args.noise_kind, args.noise) if args.noise else None

    quiet_tensorflow()
    import keras
    import tensorflow as tf

    from keras_ae import artifacts, training
    from keras_ae.data import add_noise

    training.configure_gpus()  # before TensorFlow touches a GPU
    # Keras refuses XLA while TensorFlow's op determinism is on, so --jit gives up bitwise-repeatable runs.
    training.set_seed(args.seed, deterministic=not args.jit)
    strategy = make_strategy(args)  # first: MultiWorkerMirroredStrategy must exist before other TF work
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16" if args.mixed_precision else "float32")
    data = load_data(args)
    factors = data.info.pop("factors", None)  # known generative factors (smileys): arrays, not metadata
    if factors is not None:
        data.info["factor_names"] = factors["names"]
    stream = streams(args)
    if stream:
        x_train, train_images = data.train, data.train_size
    else:
        x_train = data.x_train[: args.train_size]
        train_images = len(x_train)
    x_test, y_test = data.x_test[: args.test_size], data.y_test[: args.test_size] if data.y_test is not None \
        else None
    value_range = (-1.0, 1.0) if args.value_range == "-1,1" else (0.0, 1.0)

    with strategy.scope():  # variables (weights, optimizer slots) live where the strategy puts them
        bundle = build_model(args, data.image_shape)
        loss = "mse" if args.value_range == "-1,1" else "binary_crossentropy"
        training.compile_model(bundle.autoencoder, loss=loss, learning_rate=args.lr,
                               jit_compile="auto" if args.jit is None else args.jit,
                               steps_per_execution=args.steps_per_execution)
    run_dir = pathlib.Path(args.out or f"runs/{datetime.datetime.now():%Y%m%d-%H%M%S}-{args.arch}")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"run directory: {run_dir}")

    try:
        result = training.fit(bundle, x_train, x_test, epochs=args.epochs, batch_size=args.batch_size,
                              noise=noise, seed=args.seed, verbose=args.verbose, value_range=value_range,
                              cache=stream and (data.cacheable if args.cache is None else args.cache),
                              shuffle_buffer=args.shuffle_buffer)
    except tf.errors.InvalidArgumentError as err:
        if not stream:
            raise
        raise UsageError(f"--dataset {args.dataset}: cannot decode an image while streaming: "
                         f"{err.message.splitlines()[0]}") from None
    x_test_in = add_noise(x_test, noise[0], noise[1], seed=args.seed + 1, low=value_range[0],
                          high=value_range[1]) if noise else x_test
    scores = training.evaluate_reconstruction(bundle.autoencoder, x_test_in, x_test, value_range=value_range)

    artifacts.save_models(bundle, run_dir)
    artifacts.save_history(result.history, run_dir / "history.csv")
    pictures = write_pictures(args, bundle, result.history, x_test_in, x_test, y_test, run_dir, value_range)
    latent_factors = None
    if factors is not None and args.arch in VARIATIONAL_ARCHS:
        latent_factors = factor_report(bundle, x_test, factors["test"][: len(x_test)], factors["names"],
                                       run_dir, pictures)
    metrics = {
        "arch": args.arch,
        "test_bce": scores["bce"],
        "test_mse": scores["mse"],
        "final_loss": result.history["loss"][-1],
        "final_val_loss": result.history.get("val_loss", [None])[-1],
        "parameters": int(bundle.autoencoder.count_params()),
        "epochs": result.epochs,
        "seconds": round(result.seconds, 3),
        "seconds_per_epoch": round(result.seconds / result.epochs, 3),
        "device": training.device_name(),
        "strategy": type(strategy).__name__,
        "replicas": int(strategy.num_replicas_in_sync),
        "mixed_precision": bool(args.mixed_precision),
        "jit_compile": bool(bundle.autoencoder.jit_compile),
        "deterministic": not args.jit,
        "images_per_second": round(train_images * result.epochs / result.seconds, 1),
        "dataset": data.info,
        "train_images": int(train_images),
        "test_images": int(len(x_test)),
        "seed": args.seed,
        "noise": {"kind": args.noise_kind, "amount": args.noise} if noise else None,
        "options": {k: v for k, v in vars(args).items() if k != "config"},
        "pictures": pictures,
    }
    if latent_factors is not None:
        metrics["latent_factors"] = latent_factors
    artifacts.write_json(run_dir / "metrics.json", metrics)  # last: its presence marks a finished run
    print(f"test BCE {scores['bce']:.4f}  test MSE {scores['mse']:.4f}  -> {run_dir}/metrics.json")
    keras.mixed_precision.set_global_policy(previous_policy)  # callers in the same process keep theirs
    return 0


def write_pictures(args, bundle, history, x_in, x_clean, labels, run_dir, value_range) -> list[str]:
    """loss.png, reconstruction.png and, for a VAE, latent.png, latent_traversal.png, samples.png and
    manifold.png (2-D codes)."""
    import numpy as np

    from keras_ae import latent, models, plots

    names = []
    plots.loss_curves(history, run_dir / "loss.png", title=f"{args.arch} on {args.dataset}")
    names.append("loss.png")
    n = min(10, len(x_clean))
    recon = bundle.autoencoder.predict(x_in[:n], verbose=0)
    rows, labels_ = ([x_in[:n], x_clean[:n], recon], ["noisy", "clean", "denoised"]) if args.noise \
        else ([x_clean[:n], recon], ["original", "reconstruction"])
    plots.image_rows(rows, labels_, run_dir / "reconstruction.png", value_range=value_range)
    names.append("reconstruction.png")
    if args.arch in models.VARIATIONAL:
        z_mean = bundle.encoder.predict(x_clean, verbose=0)[0]
        plots.latent_scatter(z_mean, labels, run_dir / "latent.png", title="VAE latent space (z_mean)")
        names.append("latent.png")
        # At most 10 rows: the most used dimensions (largest spread of z_mean over the test images).
        dims = [int(d) for d in np.argsort(z_mean.std(axis=0))[::-1][:10]]
        # Around the mean test code: with a weak KL term the codes need not sit at the prior's mean.
        offsets, traversal = latent.traverse(bundle, dims=sorted(dims), span=2.5, steps=9,
                                             base=z_mean.mean(axis=0))
        plots.traversal_grid(traversal.images, run_dir / "latent_traversal.png",
                             [f"z[{d}]" for d in sorted(dims)], offsets, value_range=value_range,
                             title="Latent traversal: one dimension moved by -2.5..+2.5 from the mean code")
        names.append("latent_traversal.png")
        drawn = latent.sample(bundle, 36, seed=args.seed)
        plots.image_grid(drawn.images.reshape(6, 6, *drawn.images.shape[1:]), run_dir / "samples.png",
                         title="Samples decoded from the prior N(0, I)", value_range=value_range)
        names.append("samples.png")
        if z_mean.shape[1] == 2:
            grid = np.linspace(-2.0, 2.0, 15)
            points = np.array([[x, y] for y in grid[::-1] for x in grid], dtype=np.float32)
            decoded = bundle.decoder.predict(points, verbose=0)
            images = decoded.reshape(15, 15, *decoded.shape[1:])
            plots.image_grid(images, run_dir / "manifold.png", title="Decoded 2-D latent grid",
                             extent=(-2, 2, -2, 2), value_range=value_range)
            names.append("manifold.png")
    return names


def factor_report(bundle, x, factors, names, run_dir, pictures) -> dict:
    """|correlation| of each latent dimension (z_mean) with each known factor; factor_correlation.png."""
    from keras_ae import latent, plots

    report = latent.factor_report(latent.encode(bundle, x), factors, names)
    corr = report["abs_correlation"]
    plots.correlation_heatmap(corr, [f"z[{i}]" for i in range(len(corr))], names,
                              run_dir / "factor_correlation.png",
                              title="|correlation| of z_mean with the true factors (test images)")
    pictures.append("factor_correlation.png")
    for name, best in report["per_factor"].items():
        print(f"factor {name}: best z[{best['best_dim']}] |r| = {best['abs_r']:.2f} (gap {best['gap']:.2f})")
    return report


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
