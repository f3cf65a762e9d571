"""`keras-ae-anomaly` / `scripts/anomaly.py`: one-class anomaly detection on images.

Trains an autoencoder on the normal class only, scores balanced validation and test sets, picks the
threshold on validation and reports on test (ROC-AUC, average precision, accuracy, confusion matrix),
leaving metrics.json, the models and the pictures in the run directory.
"""

from __future__ import annotations

import datetime
import pathlib
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, parse_with_config, quiet_tensorflow, run_main
from keras_ae.errors import UsageError

quiet_tensorflow()

DATASETS = ("mnist", "fashion_mnist", "pneumonia", "mnist-sample")
ARCHS = ("dense", "deep", "conv", "denoise", "vae", "conv-vae")
THRESHOLDS = ("accuracy", "f1", "youden", "percentile")
DEFAULT_NORMAL = {"pneumonia": 0}  # everything else: 5
DEFAULT_EPOCHS = {"dense": 50, "deep": 50, "conv": 30, "denoise": 30, "vae": 30, "conv-vae": 30}
CLASS_NAMES = {"pneumonia": ("normal", "pneumonia")}


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-anomaly", description=__doc__)
    p.add_argument("--dataset", default="mnist", help=f"{', '.join(DATASETS)} (default mnist; offline MNIST "
                   "falls back to the shipped sample)")
    p.add_argument("--data-path", default=None,
                   help="pneumonia: an existing pneumoniamnist.npz (default: Keras cache, downloaded once)")
    p.add_argument("--normal", type=int, default=None,
                   help="label of the normal class (default 5; pneumonia 0)")
    p.add_argument("--arch", default="conv", help=f"architecture: {', '.join(ARCHS)} (default conv)")
    p.add_argument("--filters", default="32,32,16",
                   help="conv/denoise filters per level, comma-separated (slide model: 16,8,8)")
    p.add_argument("--latent-dim", type=int, default=None, help="code size of dense, deep and VAE models")
    p.add_argument("--score", default="latent+detail",
                   help="anomaly score: mse, bce, ssim, elbo (VAE), latent, latent-knn, detail, or several "
                        "joined with '+' (default latent+detail)")
    p.add_argument("--contrast", default="standardize", choices=("standardize", "none"),
                   help="per-image contrast normalisation before the autoencoder (default standardize)")
    p.add_argument("--k", type=int, default=5, help="neighbours of the latent-knn score")
    p.add_argument("--threshold", default="accuracy", choices=THRESHOLDS,
                   help="rule on the validation set (default accuracy: the highest validation accuracy)")
    p.add_argument("--percentile", type=float, default=95.0,
                   help="percentile of the normal validation scores for --threshold percentile")
    p.add_argument("--epochs", type=int, default=None, help="default: 30 (dense, deep: 50)")
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


def check_args(args) -> None:
    """Every option a user can get wrong, checked before any work, each with its value named."""
    from keras_ae.models import VARIATIONAL

    if args.dataset not in DATASETS:
        raise UsageError(f"unknown --dataset {args.dataset!r} (known: {', '.join(DATASETS)})")
    if args.arch not in ARCHS:
        raise UsageError(f"unknown --arch {args.arch!r} (known: {', '.join(ARCHS)})")
    from keras_ae.one_class import check_score

    try:
        parts = check_score(args.score)
    except UsageError as err:
        raise UsageError(f"--score: {err}") from None
    if "elbo" in parts and args.arch not in VARIATIONAL:
        raise UsageError(f"--score elbo needs a VAE (--arch vae or conv-vae), received --arch {args.arch}")
    for name in ("epochs", "batch_size", "latent_dim", "train_size", "k"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0, received {value}")
    if args.lr <= 0:
        raise UsageError(f"--lr must be > 0, received {args.lr}")
    if not 0 < args.percentile < 100:
        raise UsageError(f"--percentile must be between 0 and 100, received {args.percentile}")
    if not 0 < args.val_fraction < 1:
        raise UsageError(f"--val-fraction must be between 0 and 1, received {args.val_fraction}")
    try:
        args.filters = tuple(int(f) for f in str(args.filters).split(","))
    except ValueError:
        raise UsageError(f"--filters must be comma-separated integers, received {args.filters!r}") from None
    if not args.filters or min(args.filters) <= 0:
        raise UsageError(f"--filters must be positive integers, received {args.filters}")
    if args.data_path is not None and args.dataset != "pneumonia":
        raise UsageError(f"--data-path is for --dataset pneumonia, received --dataset {args.dataset}")


def load_splits(args):
    """(x_train, y_train, x_val | None, y_val | None, x_test, y_test, info) of the dataset asked for."""
    from keras_ae.data import DownloadError, load_dataset, load_mnist_sample, load_pneumonia_splits

    try:
        if args.dataset == "pneumonia":
            splits = load_pneumonia_splits(path=args.data_path)
            info = {"name": "pneumonia", "source": str(args.data_path or "Keras cache (official npz)")}
            return (*splits["train"], *splits["val"], *splits["test"], info)
        data = load_dataset(args.dataset)
    except DownloadError as err:
        if args.dataset != "mnist":
            raise UsageError(f"--dataset {args.dataset}: {err}") from None
        print("MNIST cannot be downloaded here; using the shipped sample data/mnist_sample.npz "
              "(400 train / 100 test images per digit)", file=sys.stderr)
        data = load_mnist_sample()
        data.info["fallback_from"] = "mnist"
    return data.x_train, data.y_train, None, None, data.x_test, data.y_test, data.info


def build_model(args, input_shape):
    from keras_ae import models

    kwargs = {"input_shape": input_shape}
    if args.arch in models.VARIATIONAL:
        kwargs.update(seed=args.seed, latent_dim=args.latent_dim or 16)
    elif args.arch in ("conv", "denoise"):
        kwargs["filters"] = args.filters
    elif args.latent_dim is not None:
        kwargs["latent_dim"] = args.latent_dim
    try:
        return models.build(args.arch, **kwargs)
    except ValueError as err:
        raise UsageError(f"--arch {args.arch}: {err}") from None


def pick_threshold(args, scores, labels) -> float:
    from keras_ae import anomaly

    if args.threshold == "percentile":
        return anomaly.choose_threshold("percentile", scores, labels, value=args.percentile)
    return anomaly.choose_threshold(args.threshold, scores, labels)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_with_config(build_parser(), argv)
    check_args(args)
    args.normal = DEFAULT_NORMAL.get(args.dataset, 5) if args.normal is None else args.normal
    args.epochs = args.epochs or DEFAULT_EPOCHS[args.arch]

    from keras_ae import anomaly, artifacts, one_class, training

    x_train, y_train, x_val, y_val, x_test, y_test, info = load_splits(args)
    splits = one_class.one_class_splits(x_train, y_train, x_test, y_test, args.normal, x_val, y_val,
                                        val_fraction=args.val_fraction, seed=args.seed)
    x_fit = splits.x_train[: args.train_size]
    if "latent-knn" in args.score.split("+") and args.k > len(x_fit):
        raise UsageError(f"--k {args.k} is more than the {len(x_fit)} normal training images")
    training.set_seed(args.seed)
    bundle = build_model(args, x_fit.shape[1:])
    training.compile_model(bundle.autoencoder, loss="binary_crossentropy", learning_rate=args.lr)
    run_dir = pathlib.Path(args.out or f"runs/{datetime.datetime.now():%Y%m%d-%H%M%S}-anomaly-{args.dataset}")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"run directory: {run_dir}")

    prepare = (lambda x: anomaly.normalize_contrast(x, args.contrast))  # noqa: E731
    val_normal = splits.x_val[splits.y_val == 0]
    result = training.fit(bundle, prepare(x_fit), prepare(val_normal), epochs=args.epochs,
                          batch_size=args.batch_size, seed=args.seed, verbose=args.verbose,
                          train_loss_after_epoch=False)
    try:
        scorer = one_class.ImageScorer(bundle, args.score, contrast=args.contrast, k=args.k).fit(x_fit)
    except ValueError as err:  # e.g. --k larger than the number of training images
        raise UsageError(f"--score {args.score}: {err}") from None
    val_scores = scorer.score_samples(splits.x_val)
    test_scores = scorer.score_samples(splits.x_test)
    threshold = pick_threshold(args, val_scores, splits.y_val)
    test = anomaly.detection_metrics(test_scores, splits.y_test, threshold)
    val = anomaly.detection_metrics(val_scores, splits.y_val, threshold)

    artifacts.save_models(bundle, run_dir)
    artifacts.save_history(result.history, run_dir / "history.csv")
    names = CLASS_NAMES.get(args.dataset, (f"normal ({args.normal})", "anomaly"))
    pictures = write_pictures(scorer, splits, val_scores, test_scores, threshold, test, names, args, run_dir)
    metrics = {
        "test": test,
        "validation": val,
        "score": args.score,
        "score_meaning": one_class.describe_score(args.score),
        "threshold_rule": args.threshold,
        "contrast": args.contrast,
        "arch": args.arch,
        "parameters": int(bundle.autoencoder.count_params()),
        "epochs": result.epochs,
        "seconds": round(result.seconds, 3),
        "device": training.device_name(),
        "dataset": info,
        "splits": splits.info,
        "seed": args.seed,
        "options": {k: v for k, v in vars(args).items() if k != "config"},
        "pictures": pictures,
    }
    artifacts.write_json(run_dir / "metrics.json", metrics)  # last: its presence marks a finished run
    print(f"test ROC-AUC {test['roc_auc']:.3f}  AP {test['average_precision']:.3f}  accuracy "
          f"{test['accuracy']:.3f}  confusion {test['confusion_matrix']}  -> {run_dir}/metrics.json")
    return 0


def write_pictures(scorer, splits, val_scores, test_scores, threshold, test, names, args,
                   run_dir) -> list[str]:
    """histograms.png, roc.png, confusion.png and ranked.png (most / least anomalous test images)."""
    import numpy as np

    from keras_ae import plots

    title = f"{args.score} score, {args.arch} on {args.dataset} (normal = {args.normal})"
    plots.score_histograms([("validation", val_scores, splits.y_val, threshold),
                            ("test", test_scores, splits.y_test, threshold)],
                           run_dir / "histograms.png", class_names=names, title=title)
    plots.roc_curves([(f"test, {args.score}", test_scores, splits.y_test)], run_dir / "roc.png",
                     title=f"ROC, {args.dataset} (normal = {args.normal})")
    plots.confusion_matrix(test["confusion_matrix"], run_dir / "confusion.png", class_names=names,
                           title=f"Test set, threshold {threshold:.4g}")
    order = np.argsort(test_scores)
    groups = []
    for label, idx in (("most anomalous", order[::-1][:10]), ("least anomalous", order[:10])):
        shown, recon = scorer.reconstruct(splits.x_test[idx])
        groups.append((label, shown, recon, test_scores[idx], splits.y_test[idx]))
    plots.ranked_images(groups, run_dir / "ranked.png", class_names=names)
    return ["histograms.png", "roc.png", "confusion.png", "ranked.png"]


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
