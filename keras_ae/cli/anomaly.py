"""`keras-ae-anomaly` / `scripts/anomaly.py`: one-class anomaly detection on images.

Trains an autoencoder on the normal class only, scores balanced validation and test sets, picks the
threshold on validation and reports on test (ROC-AUC, average precision, accuracy, confusion matrix),
leaving metrics.json, the models and the pictures in the run directory.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keras_ae.anomaly.image_scores import IMAGE_SCORES
from keras_ae.anomaly.scores import CONTRAST_NORMS
from keras_ae.anomaly.thresholds import THRESHOLD_RULES
from keras_ae.cli.common import ArgumentParser, checked_config, parse_with_config, run_main
from keras_ae.data.registry import DATASETS, one_class_names
from keras_ae.errors import UsageError
from keras_ae.models.registry import ARCHITECTURES


def build_parser() -> ArgumentParser:
    normals = ", ".join(f"{n} {DATASETS[n].default_normal}" for n in one_class_names())
    epochs = ", ".join(f"{name} {arch.anomaly_epochs}" for name, arch in ARCHITECTURES.items())
    p = ArgumentParser(prog="keras-ae-anomaly", description=__doc__)
    p.add_argument("--dataset", default="mnist", help=f"{', '.join(one_class_names())} (default mnist; offline "
                   "MNIST falls back to the shipped sample)")
    p.add_argument("--data-path", default=None,
                   help="pneumonia: an existing pneumoniamnist.npz (default: Keras cache, downloaded once)")
    p.add_argument("--normal", type=normal_label, default=None,
                   help=f"label of the normal class (default: {normals}), or 'all': every class in turn, with a "
                        "per-class table beside PCA")
    p.add_argument("--arch", default="conv", help=f"architecture: {', '.join(ARCHITECTURES)} (default conv)")
    p.add_argument("--filters", default="32,32,16",
                   help="conv/denoise filters per level, comma-separated (slide model: 16,8,8)")
    p.add_argument("--latent-dim", type=int, default=None, help="code size of dense, deep and VAE models")
    scores = ", ".join(f"{n} {DATASETS[n].default_score}" for n in one_class_names())
    p.add_argument("--score", default=None,
                   help="anomaly score: " + IMAGE_SCORES.help() + "; or several joined with '+' (default: the "
                        f"dataset's, {scores})")
    p.add_argument("--contrast", default="standardize", choices=CONTRAST_NORMS,
                   help="per-image contrast normalisation before the autoencoder (default standardize)")
    p.add_argument("--k", type=int, default=5, help="neighbours of the latent-knn score")
    p.add_argument("--threshold", default="quartile-gap", choices=THRESHOLD_RULES.names(),
                   help="rule on the validation set: " + THRESHOLD_RULES.help() + " (default quartile-gap)")
    p.add_argument("--percentile", type=float, default=95.0,
                   help="percentile of the normal validation scores for --threshold percentile")
    p.add_argument("--epochs", type=int, default=None, help=f"default: {epochs}")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of normal training images held out for validation (no official val split)")
    p.add_argument("--train-size", type=int, default=None, help="use only the first N normal training images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="run directory (default runs/<time>-anomaly-<dataset>)")
    p.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras progress output")
    return p


def normal_label(text: str) -> int | str:
    """An integer class label, or "all"."""
    if str(text).strip().lower() == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer label or 'all', received {text!r}") from None


def config_from(args):
    from keras_ae.runs.one_class import OneClassConfig

    options = {k: v for k, v in vars(args).items() if k != "config"}
    options["normal"] = None if args.normal == "all" else args.normal
    try:
        options["filters"] = tuple(int(f) for f in str(args.filters).split(","))
    except ValueError:
        raise UsageError(f"--filters must be comma-separated integers, received {args.filters!r}") from None
    return OneClassConfig(**options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    every_class = parse_with_config(parser, argv).normal == "all"
    config = checked_config(parser, argv, config_from)
    if every_class:
        from keras_ae.runs.one_class_all import run_all_classes

        result = run_all_classes(config)
        m = result.metrics
        print(f"mean test ROC-AUC {m['mean_roc_auc']:.4f} (PCA {m['mean_pca_roc_auc']:.4f})  mean AP "
              f"{m['mean_average_precision']:.4f} (PCA {m['mean_pca_average_precision']:.4f})  largest shortfall "
              f"to PCA: normal {m['largest_shortfall_to_pca']['normal']} "
              f"{m['largest_shortfall_to_pca']['roc_auc_minus_pca']:+.4f}  -> {result.run_dir}/summary.csv")
        return 0
    from keras_ae.runs.one_class import run_one_class

    result = run_one_class(config)
    test = result.metrics["test"]
    print(f"test ROC-AUC {test['roc_auc']:.3f}  AP {test['average_precision']:.3f}  accuracy "
          f"{test['accuracy']:.3f}  confusion {test['confusion_matrix']}  -> {result.run_dir}/metrics.json")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())
