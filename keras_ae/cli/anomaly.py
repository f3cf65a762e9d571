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
from keras_ae.data.registry import DATASETS, DatasetEntry, dataset_entry, one_class_names
from keras_ae.models.registry import ARCHITECTURES
from keras_ae.options import VERBOSE
from keras_ae.runs.one_class import OneClassConfig

SPECS = OneClassConfig.SPECS  # each option's type is the check of its OneClassConfig field


def escaped(text: str) -> str:
    """A help text with its '%' kept: argparse formats help strings with % ("90% of the variance")."""
    return text.replace("%", "%%")


def build_parser() -> ArgumentParser:
    normals = ", ".join(f"{n} {DATASETS[n].default_normal}" for n in one_class_names() if n in DATASETS)
    epochs = ", ".join(f"{name} {arch.anomaly_epochs}" for name, arch in ARCHITECTURES.items())
    p = ArgumentParser(prog="keras-ae-anomaly", description=__doc__)
    p.add_argument("--dataset", default="mnist", help=f"{', '.join(one_class_names())} (default mnist; offline "
                   "MNIST falls back to the shipped sample)")
    p.add_argument("--data-path", default=None,
                   help="pneumonia, medmnist:NAME: an existing .npz of the set (default: Keras cache, downloaded once)")
    p.add_argument("--normal", type=normal_label, default=None,
                   help=f"label of the normal class (default: {normals}), or 'all': every class in turn, with a "
                        "per-class table beside PCA")
    p.add_argument("--arch", default="conv", help=f"architecture: {', '.join(ARCHITECTURES)} (default conv)")
    p.add_argument("--filters", type=SPECS["filters"], default="32,32,16",
                   help="conv/denoise filters per level, comma-separated (default 32,32,16; slide model: 16,8,8)")
    p.add_argument("--latent-dim", type=SPECS["latent_dim"], default=None,
                   help="code size of dense, deep and VAE models (default: the architecture's; a VAE 16)")
    scores = ", ".join(f"{n} {DATASETS[n].default_score}" for n in one_class_names() if n in DATASETS) + \
        f", medmnist:pneumoniamnist {dataset_entry('medmnist:pneumoniamnist').default_score}, any other " \
        f"{DatasetEntry.default_score}"
    p.add_argument("--score", default=None,
                   help="anomaly score: " + escaped(IMAGE_SCORES.help()) + "; or several joined with '+' (default: the "
                        f"dataset's, {scores})")
    p.add_argument("--contrast", default="standardize", choices=CONTRAST_NORMS,
                   help="per-image contrast normalisation before the autoencoder (default standardize)")
    p.add_argument("--k", type=SPECS["k"], default=5,
                   help="neighbours of the latent-knn, pixel-knn and texture scores (default 5)")
    p.add_argument("--blur", type=SPECS["blur"], default=1.0,
                   help="Gaussian blur in pixels of the pixel-knn score (default 1; 0: none; at most half the "
                        "images' smaller side)")
    p.add_argument("--shift", type=SPECS["shift"], default=1,
                   help="whole pixels the pixel-knn score shifts an image each way, keeping its closest view "
                        "(default 1; 0: none; below half the images' smaller side)")
    p.add_argument("--rotate", type=SPECS["rotate"], default=10.0,
                   help="degrees the pixel-knn score rotates an image each way, keeping its closest view (default 10; "
                        "0: none; at most 180)")
    p.add_argument("--pca-variance", type=SPECS["pca_variance"], default=0.9,
                   help="share of the training images' variance the pca score keeps (default 0.9)")
    p.add_argument("--cell", type=SPECS["cell"], default=2,
                   help="the texture score measures detail in square cells of this many pixels a side (default 2; "
                        "at most the images' smaller side)")
    p.add_argument("--threshold", default="quartile-gap", choices=THRESHOLD_RULES.names(),
                   help="rule on the validation set: " + escaped(THRESHOLD_RULES.help()) + " (default quartile-gap)")
    p.add_argument("--percentile", type=SPECS["percentile"], default=None,
                   help="percentile in (0, 100) of the normal validation scores for --threshold percentile "
                        "(default 95)")
    p.add_argument("--threshold-value", type=SPECS["threshold_value"], default=None,
                   help="the value of a rule that takes one: percentile, fpr (rate), alpha (level), value (the "
                        "threshold itself)")
    p.add_argument("--epochs", type=SPECS["epochs"], default=None, help=f"default: {epochs}")
    p.add_argument("--batch-size", type=SPECS["batch_size"], default=64, help="images per batch (default 64)")
    p.add_argument("--lr", type=SPECS["lr"], default=1e-3, help="Adam learning rate (default 0.001)")
    p.add_argument("--val-fraction", type=SPECS["val_fraction"], default=0.1,
                   help="share of normal training images held out for validation where the dataset has no "
                        "validation split (default 0.1)")
    p.add_argument("--train-size", type=SPECS["train_size"], default=None,
                   help="use only the first N normal training images")
    p.add_argument("--seed", type=SPECS["seed"], default=0, help="random seed, in [0, 2**32)")
    p.add_argument("--out", default=None, help="run directory (default runs/<time>-anomaly-<dataset>)")
    p.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    p.add_argument("--verbose", type=VERBOSE, default=1, choices=(0, 1, 2), help="Keras progress output")
    return p


def normal_label(text: str) -> int | str:
    """An integer class label (`OneClassConfig.SPECS["normal"]`), or "all"."""
    if str(text).strip().lower() == "all":
        return "all"
    try:
        return SPECS["normal"](text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'all' or {SPECS['normal'].describe()}, received {text}") \
            from None


def config_from(args) -> OneClassConfig:
    options = {k: v for k, v in vars(args).items() if k != "config"}
    options["normal"] = None if args.normal == "all" else args.normal
    options["filters"] = tuple(args.filters)
    return OneClassConfig(**options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    every_class = parse_with_config(parser, argv).normal == "all"
    config = checked_config(parser, argv, config_from)
    if every_class:
        from keras_ae.runs.one_class_all import run_all_classes

        result = run_all_classes(config)
        m = result.metrics
        worst, below = m["largest_shortfall_to_pca"], m["classes_below_pca"]
        versus_pca = (f"below PCA: {', '.join(map(str, below))} (largest shortfall: normal {worst['normal']} "
                      f"{worst['roc_auc_minus_pca']:+.4f})" if below else
                      f"no class below PCA (closest: normal {worst['normal']} {worst['roc_auc_minus_pca']:+.4f})")
        print(f"mean test ROC-AUC {m['mean_roc_auc']:.4f} (PCA {m['mean_pca_roc_auc']:.4f})  mean AP "
              f"{m['mean_average_precision']:.4f} (PCA {m['mean_pca_average_precision']:.4f})  {versus_pca}  "
              f"-> {result.run_dir}/summary.csv")
        return 0
    from keras_ae.runs.one_class import run_one_class

    result = run_one_class(config)
    test = result.metrics["test"]
    cm = test["confusion_matrix"]
    pca = result.metrics["baselines"]["pca"]
    print(f"test ROC-AUC {test['roc_auc']:.3f} (PCA {pca['test_roc_auc']:.3f})  AP {test['average_precision']:.3f} "
          f"(PCA {pca['test_average_precision']:.3f})  accuracy "
          f"{test['accuracy']:.3f}  flagged: {cm['tp']} of {cm['tp'] + cm['fn']} anomalies, {cm['fp']} of "
          f"{cm['fp'] + cm['tn']} normal  -> {result.run_dir}/metrics.json")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())
