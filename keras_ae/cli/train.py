"""`keras-ae-train` / `scripts/train.py`: train one architecture and leave a complete run directory."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, checked_config, run_main
from keras_ae.data.noise import NOISE_KINDS
from keras_ae.data.registry import dataset_names
from keras_ae.models.registry import ARCHITECTURES
from keras_ae.options import VERBOSE
from keras_ae.runs.train import TrainConfig
from keras_ae.runs.train_config import DEFAULT_SHUFFLE_BUFFER
from keras_ae.training.strategy import STRATEGIES

SPECS = TrainConfig.SPECS  # each option's type is the check of its TrainConfig field


def escaped(text: str) -> str:
    """A help text with its '%' kept: argparse formats help strings with %."""
    return text.replace("%", "%%")


def json_object(text: str) -> dict:
    """A JSON object given on the command line (a config file gives it as an object)."""
    import json

    from keras_ae.io import keys_once

    once = keys_once(lambda key: argparse.ArgumentTypeError(f"gives the key {key!r} twice, received {text!r}"))
    try:
        value = json.loads(text, object_pairs_hook=once)
    except (ValueError, RecursionError):
        raise argparse.ArgumentTypeError(f"must be a JSON object, received {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, received {text!r}")
    return value


def build_parser() -> ArgumentParser:
    epochs = ", ".join(f"{name} {arch.epochs}" for name, arch in ARCHITECTURES.items())
    p = ArgumentParser(prog="keras-ae-train", description=__doc__)
    p.add_argument("--arch", default=None,
                   help="architecture: " + escaped(ARCHITECTURES.help()) + " (default conv; conv-vae with its "
                        "preset for smileys)")
    p.add_argument("--dataset", default="mnist",
                   help=escaped(", ".join(dataset_names())) + " (tfds:NAME: tensorflow-datasets, streamed; e.g. "
                        "tfds:emnist/letters, tfds:cifar10) (default mnist; offline it falls back to the shipped "
                        "sample)")
    p.add_argument("--data-path", default=None,
                   help="pneumonia, medmnist:NAME: an existing .npz of the set (default: Keras cache, downloaded once)")
    p.add_argument("--image-size", type=SPECS["image_size"], default=None,
                   help="side of the images (folder:PATH default 28; tfds:NAME default its own)")
    p.add_argument("--channels", type=SPECS["channels"], default=None, choices=(1, 3),
                   help="1 grey, 3 RGB (folder:PATH default 1; tfds:NAME default its own)")
    p.add_argument("--stream", action="store_true",
                   help="folder:PATH: decode image files while training instead of loading them all "
                        "(data larger than memory); tfds:NAME always streams")
    p.add_argument("--cache", action=argparse.BooleanOptionalAction, default=None,
                   help="streamed data: keep decoded images in memory after the first epoch (default: "
                        "tfds:NAME when it takes < 1 GiB, never folder:PATH)")
    p.add_argument("--shuffle-buffer", type=SPECS["shuffle_buffer"], default=DEFAULT_SHUFFLE_BUFFER,
                   help=f"shuffle buffer in images for streamed data (default {DEFAULT_SHUFFLE_BUFFER})")
    p.add_argument("--value-range", default="0,1", choices=("0,1", "-1,1"), metavar="{0,1|-1,1}",
                   help="pixel scaling; -1,1 uses a tanh output and MSE loss (not for a VAE, whose loss is "
                        "binary cross-entropy on [0, 1])")
    p.add_argument("--noise", type=SPECS["noise"], default=None,
                   help="noise amount in [0, 1]; on any arch trains it as a denoiser (denoise: 0.5)")
    p.add_argument("--noise-kind", default="gaussian", choices=NOISE_KINDS,
                   help="gaussian: add noise x N(0, 1), clipped to the value range; salt-pepper: each value, with "
                        "probability noise, set to the low or high end of the range (half each)")
    p.add_argument("--epochs", type=SPECS["epochs"], default=None,
                   help=f"default: the lecture's ({epochs}); smileys 20, after 10 --ae-epochs")
    p.add_argument("--batch-size", type=SPECS["batch_size"], default=None,
                   help="default: the architecture's (128); smileys 16")
    p.add_argument("--latent-dim", type=SPECS["latent_dim"], default=None,
                   help="code size (dense, deep, vae); code channels for conv and denoise")
    p.add_argument("--lr", type=SPECS["lr"], default=None, help="Adam learning rate (default 0.001)")
    p.add_argument("--beta", type=SPECS["beta"], default=None, help="KL weight of the VAE (default 1; smileys 32)")
    p.add_argument("--kl-warmup", type=SPECS["kl_warmup"], default=None,
                   help="VAE: epochs over which beta rises linearly from 0 (default 0; smileys 5)")
    p.add_argument("--capacity", type=SPECS["capacity"], default=None,
                   help="VAE: nats of KL the code is steered to, the KL term becoming beta * |KL - C| with C raised "
                        "from 0 (Burgess et al. 2018; default 0: off; smileys 0)")
    p.add_argument("--capacity-epochs", type=SPECS["capacity_epochs"], default=None,
                   help="epochs over which the capacity rises to --capacity (default: all)")
    p.add_argument("--ae-epochs", type=SPECS["ae_epochs"], default=None,
                   help="VAE: epochs trained first as a plain autoencoder (beta 0, single images), so factors that "
                        "change few pixels are found before the KL term can silence them "
                        "(default 0; smileys 10, before its 20 --epochs)")
    p.add_argument("--model-options", type=json_object, default=None, metavar="JSON",
                   help="further arguments of the architecture's builder as a JSON object, e.g. "
                        "'{\"filters\": [32, 16]}' for conv (see docs/training.md)")
    p.add_argument("--pairs", action=argparse.BooleanOptionalAction, default=True,
                   help="a VAE trains on the dataset's pairs of images that share some factors, where it has them "
                        "(smileys: weak supervision; the default); --no-pairs trains on single images")
    p.add_argument("--seed", type=SPECS["seed"], default=0, help="random seed, in [0, 2**32)")
    p.add_argument("--train-size", type=SPECS["train_size"], default=None, help="use only the first N training images")
    p.add_argument("--test-size", type=SPECS["test_size"], default=None, help="use only the first N test images")
    p.add_argument("--out", default=None, help="run directory (default runs/<time>-<arch>)")
    p.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="mixed_float16: float16 compute, float32 weights, outputs and losses (fast on GPUs)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                   help="compile each step with XLA; turns TensorFlow's op determinism off (XLA needs that), so runs "
                        "are no longer bitwise repeatable (default: no XLA, deterministic ops)")
    p.add_argument("--strategy", default="auto", choices=STRATEGIES.names(),
                   help="tf.distribute: " + escaped(STRATEGIES.help()) + "; --batch-size is global")
    p.add_argument("--steps-per-execution", type=SPECS["steps_per_execution"], default=1,
                   help="training steps per call into TensorFlow (try 16-64 for small models on a GPU)")
    p.add_argument("--verbose", type=VERBOSE, default=1, choices=(0, 1, 2), help="Keras progress output (default 1)")
    return p


def config_from(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{k: v for k, v in vars(args).items() if k != "config"})


def main(argv: Sequence[str] | None = None) -> int:
    config = checked_config(build_parser(), argv, config_from)
    from keras_ae.runs.train import run_train

    result = run_train(config)
    m = result.metrics
    for name, best in (m.get("latent_factors") or {}).get("per_factor", {}).items():
        print(f"factor {name}: best z[{best['best_dim']}] |r| = {best['abs_r']:.2f} (gap {best['gap']:.2f})")
    if "latent_factors" in m:
        matched = m["latent_factors"]["one_to_one"]
        print(f"one-to-one: {matched['factors_tracked']} of {len(matched['dims'])} factors with |r| >= "
              f"{matched['threshold']} on a dimension of their own")
    if "latent_usage" in m:
        usage, prior = m["latent_usage"], m.get("prior_samples")  # no prior samples for streamed data
        print(f"latent dimensions used: {usage['active_dims']} of {len(usage['active'])}" + (
            "" if prior is None else f"; prior samples / test reconstructions, distance to the nearest training "
            f"image: {prior['sample_distance']:.2f} / {prior['reconstruction_distance']:.2f} (ratio {prior['ratio']})"))
    noisy = f" (inputs: {m['test_inputs']})" if m["test_inputs"] != "clean" else ""
    print(f"test BCE {m['test_bce']:.4f}  test MSE {m['test_mse']:.4f}{noisy}  -> {result.run_dir}/metrics.json")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())
