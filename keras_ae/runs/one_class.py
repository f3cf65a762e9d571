"""A one-class run: train an autoencoder on the normal class only, score balanced validation and test sets,
pick the threshold on validation and report on test (ROC-AUC, AP, accuracy, confusion matrix).

``run_one_class(OneClassConfig(dataset="pneumonia"))`` writes the models, history.csv, the pictures and
metrics.json; `keras-ae-anomaly` is this function behind argparse.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, ClassVar

from keras_ae.errors import UsageError
from keras_ae.options import (
    FRACTION_OPEN,
    LEARNING_RATE,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPTIONAL_POSITIVE_INT,
    POSITIVE_INT,
    SEED,
    Each,
    Spec,
    check_fields,
    check_verbose,
)
from keras_ae.runs.common import load_with_fallback, options_of, require_finite, run_directory, unfinished_marker


@dataclasses.dataclass
class OneClassConfig:
    """Everything a one-class run takes; None means the dataset's or architecture's default."""

    dataset: str = "mnist"
    data_path: str | None = None
    normal: int | None = None
    arch: str = "conv"
    filters: tuple[int, ...] = (32, 32, 16)
    latent_dim: int | None = None
    score: str | None = None  # None: the dataset's default score (DatasetEntry.default_score)
    contrast: str = "standardize"
    k: int = 5  # neighbours of the latent-knn, pixel-knn and texture scores
    blur: float = 1.0  # Gaussian blur (pixels) of the pixel-knn score; 0: none
    shift: int = 1  # pixels the pixel-knn score shifts an image each way to find its closest view; 0: none
    rotate: float = 10.0  # degrees the pixel-knn score rotates an image each way; 0: none
    pca_variance: float = 0.9  # variance kept by the pca score
    cell: int = 2  # side in pixels of the cells the texture score measures detail energy in
    threshold: str = "quartile-gap"
    percentile: float | None = None  # the percentile rule's value; None: 95
    threshold_value: float | None = None  # the value of any rule that takes one (percentile, fpr, alpha, value)
    epochs: int | None = None
    batch_size: int = 64
    lr: float = 1e-3
    val_fraction: float = 0.1
    train_size: int | None = None
    seed: int = 0
    out: str | None = None
    verbose: int | str = 1  # or "auto" (Keras's choice)

    # What every numeric field accepts: the argparse type of its option in `keras-ae-anomaly` and the check here.
    SPECS: ClassVar[dict[str, Spec | Each]] = {
        "normal": Spec(int, 0, optional=True),  # a class label; None: the dataset's default
        "filters": Each(POSITIVE_INT),
        "latent_dim": OPTIONAL_POSITIVE_INT,
        "k": POSITIVE_INT,
        "blur": NON_NEGATIVE,
        "shift": NON_NEGATIVE_INT,
        "rotate": Spec(float, 0, 180),
        "pca_variance": FRACTION_OPEN,
        "cell": POSITIVE_INT,
        # open: `anomaly.thresholds.threshold_percentile` refuses 0 and 100 (found only after training otherwise)
        "percentile": Spec(float, 0, 100, low_open=True, high_open=True, optional=True),
        "threshold_value": Spec(float, optional=True),
        "epochs": OPTIONAL_POSITIVE_INT,
        "batch_size": POSITIVE_INT,
        "lr": LEARNING_RATE,
        "val_fraction": FRACTION_OPEN,
        "train_size": Spec(int, 2, optional=True),  # the code density needs two codes at least
        "seed": SEED,
    }

    def check(self) -> None:
        """UsageError naming the first field out of range (the rule of its `SPECS` entry), before any work."""
        from keras_ae.anomaly.image_scores import needs_vae, unused_options
        from keras_ae.anomaly.scores import CONTRAST_NORMS
        from keras_ae.anomaly.thresholds import THRESHOLD_RULES, check_rule
        from keras_ae.data.registry import DATASETS, dataset_entry, one_class_names, prefixed
        from keras_ae.models.registry import ARCHITECTURES

        check_fields(self)
        check_verbose(self.verbose)
        try:
            entry = dataset_entry(self.dataset)
        except UsageError as err:
            if prefixed(self.dataset) is not None:  # a family without labelled classes (folder:PATH) says so
                raise ValueError(str(err)) from None
            raise ValueError(f"unknown dataset={self.dataset!r} (known: {', '.join(one_class_names())})") from None
        if not entry.labelled:
            raise ValueError(f"dataset={self.dataset!r} has no labelled classes for a one-class run "
                             f"(one of: {', '.join(one_class_names())})")
        arch = ARCHITECTURES.get(self.arch)
        score = entry.default_score if self.score is None else self.score
        unused = unused_options(score, dataclasses.asdict(self))
        for option, owners in unused.items():  # only values away from the default: earlier runs' options still load
            names = " and ".join([", ".join(owners[:-1]), owners[-1]] if len(owners) > 1 else owners)
            raise ValueError(f"{option}={getattr(self, option)!r} is an option of the {names} score"
                             f"{'s' if len(owners) > 1 else ''}, which score={score!r} does not use")
        default = next(f.default for f in dataclasses.fields(self) if f.name == "filters")
        if tuple(self.filters) != default and (arch.layers_arg != "filters" or arch.variational):
            raise ValueError(f"filters={tuple(self.filters)!r} sets the filters of the conv and denoise autoencoders, "
                             f"which arch={self.arch!r} does not take")
        vae_parts = needs_vae(score)
        if vae_parts and not arch.variational:
            raise ValueError(f"score={score!r} needs a VAE ({vae_parts[0]}), received arch={self.arch!r}")
        THRESHOLD_RULES.get(self.threshold)
        # 95 was the default every earlier run recorded, whatever its rule: options copied from one still load
        if self.percentile not in (None, 95.0) and self.threshold != "percentile":
            raise ValueError(f"percentile is the value of threshold='percentile', received "
                             f"threshold={self.threshold!r} (give threshold_value for another rule)")
        if self.percentile not in (None, 95.0) and self.threshold_value is not None:
            raise ValueError(f"percentile={self.percentile!r} and threshold_value={self.threshold_value!r} both give "
                             "the rule's value; give one")
        check_rule(self.threshold, self.rule_value())
        if self.contrast not in CONTRAST_NORMS:
            raise ValueError(f"unknown contrast {self.contrast!r} (known: {', '.join(CONTRAST_NORMS)})")
        if self.data_path is not None and not entry.takes_path:
            readers = ", ".join(repr(n) for n, e in DATASETS.items() if e.takes_path)
            raise ValueError(f"data_path is for datasets read from a file ({readers}), received "
                             f"dataset={self.dataset!r}")

    def rule_value(self) -> float | None:
        """The value the threshold rule gets: `threshold_value`, else the percentile for the percentile rule (95
        when not given), else None (the rule's own default)."""
        if self.threshold_value is not None:
            return self.threshold_value
        if self.threshold == "percentile":
            return 95.0 if self.percentile is None else self.percentile
        return None

    def resolved(self) -> OneClassConfig:
        from keras_ae.data.registry import dataset_entry
        from keras_ae.models.registry import ARCHITECTURES

        entry = dataset_entry(self.dataset)
        normal = entry.default_normal if self.normal is None else self.normal
        epochs = self.epochs or ARCHITECTURES.get(self.arch).anomaly_epochs
        score = entry.default_score if self.score is None else self.score
        return dataclasses.replace(self, normal=normal, epochs=epochs, score=score)


@dataclasses.dataclass
class OneClassResult:
    run_dir: pathlib.Path
    metrics: dict[str, Any]
    bundle: Any
    scorer: Any


def build_model(config: OneClassConfig, input_shape: tuple[int, ...]):
    """The architecture for one-class scoring: `filters` where the builder takes layer widths as filters,
    a 16-wide code for a VAE unless `latent_dim` says otherwise."""
    from keras_ae.models.registry import ARCHITECTURES

    arch = ARCHITECTURES.get(config.arch)
    layers = config.filters if arch.layers_arg == "filters" and not arch.variational else None
    latent = config.latent_dim or (16 if arch.variational else None)
    extra = {"seed": config.seed} if arch.variational else {}
    from keras_ae.models.base import ModelTooLarge

    try:
        return arch.build_fn()(input_shape=input_shape, **arch.options(latent_dim=latent, layers=layers, **extra))
    except ModelTooLarge as err:  # --filters or --latent-dim too large for memory: said before any work
        raise UsageError(str(err)) from None


def run_one_class(config: OneClassConfig) -> OneClassResult:
    """Train on the normal class of `config.dataset`, score, threshold on validation, report on test."""
    config.check()
    config = config.resolved()
    from keras_ae import training

    with training.global_state(seed=config.seed):
        return _run(config)


def checked_splits(config: OneClassConfig, data: Any) -> tuple[Any, Any, dict]:
    """The splits of `config.normal` (a resolved config), the normal images the score is fitted on and the score's
    options (those of its parts, by name), checked against those images: a UsageError before any training."""
    from keras_ae.anomaly import image_scores, one_class

    splits = one_class.one_class_splits(data.x_train, data.y_train, data.x_test, data.y_test, config.normal,
                                        data.x_val, data.y_val, val_fraction=config.val_fraction, seed=config.seed)
    x_fit = splits.x_train[: config.train_size]
    require_finite(config.dataset, training=x_fit, validation=splits.x_val, test=splits.x_test)
    if len(x_fit) < 2:
        raise UsageError(f"dataset {config.dataset}: {len(x_fit)} normal training image(s) of class {config.normal}; "
                         "at least 2 are needed")
    if float(x_fit.max()) == float(x_fit.min()):
        raise UsageError(f"dataset {config.dataset}: the {len(x_fit)} normal training images of class {config.normal} "
                         f"are all one flat image (every pixel {float(x_fit.min()):g}); there is nothing to learn")
    return splits, x_fit, image_scores.check_options(config.score, dataclasses.asdict(config), x_fit.shape)


def used_splits(info: dict, fitted: int) -> dict:
    """The splits as the run used them: `train_normal` counts the images the model was fitted on (after
    `--train-size`), `train_normal_available` the normal training images there were, where more."""
    available = info["train_normal"]
    more = {"train_normal_available": available} if fitted < available else {}
    return {**info, "train_normal": int(fitted), **more}


def _run(config: OneClassConfig, data: Any = None) -> OneClassResult:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from keras_ae import anomaly, artifacts, training
    from keras_ae.anomaly import baselines, image_scores, one_class
    from keras_ae.runs import one_class_pictures

    run_dir = run_directory(config.out, f"anomaly-{config.dataset}")  # an --out that is a file: refused first
    data = data if data is not None else load_with_fallback(config.dataset, path=config.data_path)
    splits, x_fit, options = checked_splits(config, data)
    bundle = build_model(config, x_fit.shape[1:])
    training.compile_model(bundle.autoencoder, loss="binary_crossentropy", learning_rate=config.lr)
    with unfinished_marker(run_dir, 'one-class'):
        print(f"run directory: {run_dir}")

        prepare = lambda x: anomaly.normalize_contrast(x, config.contrast)  # noqa: E731
        result = training.fit(bundle, prepare(x_fit), prepare(splits.x_val[splits.y_val == 0]), epochs=config.epochs,
                              batch_size=config.batch_size, seed=config.seed, verbose=config.verbose,
                              train_loss_after_epoch=False)
        scorer = one_class.ImageScorer(bundle, config.score, contrast=config.contrast, **options).fit(x_fit)
        val_scores, test_scores = scorer.score_samples(splits.x_val), scorer.score_samples(splits.x_test)
        threshold = anomaly.choose_threshold(config.threshold, val_scores, splits.y_val, value=config.rule_value())
        test = anomaly.detection_metrics(test_scores, splits.y_test, threshold)
        val = anomaly.detection_metrics(val_scores, splits.y_val, threshold)
        pca_val, pca_test = baselines.pca_reconstruction_scores(x_fit, splits.x_val, splits.x_test, seed=config.seed)
        baseline = {"pca": {"method": "PCA reconstruction error (90% of the variance), fitted on the same images",
                            "validation_roc_auc": float(roc_auc_score(splits.y_val, pca_val)),
                            "test_roc_auc": float(roc_auc_score(splits.y_test, pca_test)),
                            "test_average_precision": float(average_precision_score(splits.y_test, pca_test))}}

        artifacts.save_models(bundle, run_dir)
        artifacts.save_history(result.history, run_dir / "history.csv")
        pictures = one_class_pictures.write(config, scorer, splits, val_scores, test_scores, threshold, test, run_dir)
        metrics = {
            "test": test, "validation": val, "baselines": baseline, "score": config.score,
            "score_meaning": image_scores.describe_score(config.score, options), "threshold_rule": config.threshold,
            "contrast": config.contrast, "arch": config.arch, "parameters": int(bundle.autoencoder.count_params()),
            "epochs": result.epochs, "seconds": round(result.seconds, 3), "device": training.device_name(),
            "dataset": {**data.info, **({"source": config.data_path} if config.data_path else {})},
            "splits": used_splits(splits.info, len(x_fit)), "seed": config.seed, "options": options_of(config),
            "pictures": pictures,
        }
        artifacts.write_json(run_dir / "metrics.json", metrics)  # last: its presence marks a finished run
        return OneClassResult(run_dir, metrics, bundle, scorer)
