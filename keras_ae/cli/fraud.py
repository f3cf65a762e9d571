"""`keras-ae-fraud` / `scripts/fraud.py`: fit a fraud detector on a transactions CSV, score files of any size.

python scripts/fraud.py fit --csv creditcard.csv --out models/fraud
python scripts/fraud.py score --model models/fraud --csv new.csv --out scored.csv
python scripts/fraud.py evaluate --model models/fraud --csv labelled.csv
python scripts/fraud.py demo
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, parse_with_config, quiet_tensorflow, run_main
from keras_ae.errors import UsageError

quiet_tensorflow()

THRESHOLD_RULES = ("percentile", "fpr", "f1", "value")


def _threshold_options(p: ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--threshold-rule",
        default=default,
        choices=THRESHOLD_RULES,
        help="percentile of normal validation errors (default 99.5), fpr (target false-positive "
        "rate, default 0.005), f1 (max F1 on labelled validation rows) or value"
        + ("" if default else "; default: the one stored with the model"),
    )
    p.add_argument(
        "--threshold-value",
        type=float,
        default=None,
        help="the rule's parameter: the percentile, the rate, or the threshold itself",
    )


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-fraud", description="Credit-card fraud detection with autoencoders.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    fit = sub.add_parser("fit", help="fit on the normal rows of a labelled CSV and report hold-out metrics")
    fit.add_argument("--csv", required=True, help="transactions CSV (Kaggle schema by default)")
    fit.add_argument("--out", required=True, help="model directory to write")
    fit.add_argument(
        "--label-column", default="Class", help="0/1 label column, or 'none' for unlabelled data"
    )
    fit.add_argument("--drop", nargs="*", default=[], help="columns to ignore (ids, dates...)")
    fit.add_argument("--time-column", default="Time")
    fit.add_argument(
        "--time",
        default="drop",
        choices=("drop", "hour", "keep"),
        help="drop the time column, turn it into the hour of day, or keep it (default drop)",
    )
    fit.add_argument("--amount-column", default="Amount")
    fit.add_argument("--no-log-amount", action="store_true", help="do not take log1p of the amount")
    fit.add_argument("--test-size", type=float, default=0.3, help="stratified hold-out share (default 0.3)")
    _threshold_options(fit, "percentile")
    fit.add_argument(
        "--trim",
        type=float,
        default=0.0,
        help="share of highest-error training rows to drop before refitting (hidden frauds)",
    )
    fit.add_argument("--n-models", type=int, default=3, help="autoencoders in the ensemble")
    fit.add_argument("--epochs", type=int, default=100, help="at most this many (early stopping)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--sep", default=",", help="CSV delimiter")
    fit.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    fit.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="Keras training output")

    score = sub.add_parser("score", help="add reconstruction_error, flag and top_features to every row")
    score.add_argument("--model", required=True, help="model directory written by fit")
    score.add_argument("--csv", required=True)
    score.add_argument("--out", required=True, help="CSV to write (appears only when complete)")
    score.add_argument("--chunksize", type=int, default=50_000, help="rows read at a time")
    score.add_argument("--top", type=int, default=3, help="columns named in top_features")
    score.add_argument("--sep", default=",")
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    _threshold_options(score, None)

    ev = sub.add_parser("evaluate", help="metrics of a model on a labelled CSV")
    ev.add_argument("--model", required=True)
    ev.add_argument("--csv", required=True)
    ev.add_argument("--out", default=None, help="also write the metrics as JSON")
    ev.add_argument("--chunksize", type=int, default=50_000)
    ev.add_argument("--sep", default=",")
    ev.add_argument("--quiet", action="store_true")
    _threshold_options(ev, None)

    demo = sub.add_parser("demo", help="fit, score and evaluate on synthetic Kaggle-schema transactions")
    demo.add_argument("--out", default="runs/fraud-demo", help="directory for the data, model and outputs")
    demo.add_argument("--rows", type=int, default=30_000)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--epochs", type=int, default=40)
    return p


def _check_threshold(args) -> None:
    from keras_ae.fraud.detector import _check_rule

    if args.threshold_rule is not None:
        _check_rule(args.threshold_rule, args.threshold_value)
    elif args.threshold_value is not None:
        raise UsageError("--threshold-value needs --threshold-rule")


def read_training_csv(args):
    """The whole training CSV, checked: (frame of features, labels or None)."""
    import pandas as pd

    from keras_ae.fraud import schema

    path = pathlib.Path(args.csv)
    header = schema.read_header(path, args.sep)
    label = None if args.label_column.lower() == "none" else args.label_column
    required = ([label] if label else []) + list(args.drop)
    schema.check_columns(header, required, str(path), allowed=header)
    try:
        frame = pd.read_csv(path, sep=args.sep, skip_blank_lines=False)
    except pd.errors.ParserError as err:
        raise UsageError(f"{path}: malformed CSV: {str(err).strip().splitlines()[-1]}") from None
    if len(frame) == 0:
        raise UsageError(f"{path}: no data rows (the file holds only a header)")
    columns = [c for c in header if c != label and c not in args.drop]
    if not columns:
        raise UsageError(f"{path}: no feature column left after the label and --drop")
    values = pd.DataFrame(schema.numeric_block(frame, columns, str(path)), columns=columns)
    labels = schema.labels_block(frame, label, str(path)) if label else None
    if labels is not None:
        schema.require_both_classes(labels, label, str(path), "fit (hold-out metrics)")
        if int(labels.sum()) < 2:
            raise UsageError(
                f"{path}, column {label!r}: only one fraud; a stratified hold-out needs at least 2"
            )
    return values, labels, label


def cmd_fit(args) -> int:
    import numpy as np
    from sklearn.model_selection import train_test_split

    from keras_ae import anomaly, plots
    from keras_ae.fraud import FraudDetector
    from keras_ae.fraud.detector import describe
    from keras_ae.io import write_json

    if not 0 < args.test_size < 1:
        raise UsageError(f"--test-size must be between 0 and 1, received {args.test_size}")
    if not 0 <= args.trim < 0.5:
        raise UsageError(f"--trim must be in [0, 0.5), received {args.trim}")
    for name in ("n_models", "epochs"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0, received {getattr(args, name)}")
    _check_threshold(args)
    values, labels, label = read_training_csv(args)
    detector = FraudDetector(
        n_models=args.n_models,
        epochs=args.epochs,
        threshold_rule=args.threshold_rule,
        threshold_value=args.threshold_value,
        trim_fraction=args.trim,
        label_column=label or "Class",
        time_column=args.time_column,
        amount_column=args.amount_column,
        time_mode=args.time,
        log_amount=not args.no_log_amount,
        drop=tuple(args.drop),
        seed=args.seed,
        verbose=args.verbose,
    )
    out = pathlib.Path(args.out)
    if labels is None:
        print(f"fitting on {len(values):,} unlabelled rows (no hold-out metrics)")
        detector.fit(values)
        detector.save(out)
        print(f"model: {describe(detector)} -> {out}")
        return 0

    idx_train, idx_test = train_test_split(
        np.arange(len(values)), test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    print(
        f"fitting on the normal rows of {len(idx_train):,} training rows ({int(labels[idx_train].sum())} "
        f"frauds kept for validation); hold-out: {len(idx_test):,} rows, {int(labels[idx_test].sum())} frauds"
    )
    detector.fit(values.iloc[idx_train], labels[idx_train])
    scores = detector.score_samples(values.iloc[idx_test])
    metrics = anomaly.detection_metrics(scores, labels[idx_test], detector.threshold_)
    metrics["threshold_rule"] = detector.threshold_info()
    metrics["hold_out_rows"] = int(len(idx_test))
    detector.save(out, metrics=metrics)
    plots.error_histogram(
        scores,
        labels[idx_test],
        detector.threshold_,
        out / "error_histogram.png",
        title="Hold-out reconstruction error by class",
    )
    plots.roc_curves([("autoencoder", scores, labels[idx_test])], out / "roc.png", title="Hold-out ROC curve")
    plots.precision_recall_curve(
        scores, labels[idx_test], out / "precision_recall.png", title="Hold-out precision-recall curve"
    )
    write_json(out / "metrics.json", metrics)
    print(f"model: {describe(detector)} -> {out}")
    print_metrics(metrics)
    return 0


def print_metrics(m: dict) -> None:
    c = m["confusion_matrix"]
    print(f"ROC-AUC {m['roc_auc']:.4f}  average precision {m['average_precision']:.4f}")
    print(
        f"at threshold {m['threshold']:.4g}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
        f"F1 {m['f1']:.3f}"
    )
    print(f"confusion matrix: TN {c['tn']:,}  FP {c['fp']:,}  FN {c['fn']:,}  TP {c['tp']:,}")


def load_for(args):
    """The model of --model, checked against the CSV's header, with the threshold rule of the options."""
    from keras_ae.fraud import FraudDetector, schema

    header = schema.read_header(args.csv, args.sep)
    detector = FraudDetector.load(args.model, columns=header, source=str(args.csv))
    _check_threshold(args)
    if args.threshold_rule is not None:
        detector.set_threshold(args.threshold_rule, args.threshold_value)
    return detector


def cmd_score(args) -> int:
    from keras_ae.fraud.detector import describe
    from keras_ae.fraud.scoring import score_csv

    if args.top <= 0:
        raise UsageError(f"--top must be > 0, received {args.top}")
    detector = load_for(args)
    print(f"model: {describe(detector)}")
    summary = score_csv(
        detector,
        args.csv,
        args.out,
        sep=args.sep,
        chunksize=args.chunksize,
        top=args.top,
        progress=not args.quiet,
    )
    print(
        f"scored {summary['rows']:,} rows ({summary['rows_per_second']:,.0f} rows/s): {summary['flagged']:,} "
        f"flagged -> {args.out}"
    )
    return 0


def cmd_evaluate(args) -> int:
    from keras_ae import anomaly
    from keras_ae.fraud import schema
    from keras_ae.fraud.detector import describe
    from keras_ae.fraud.scoring import score_labelled_csv
    from keras_ae.io import write_json

    if args.chunksize <= 0:
        raise UsageError(f"--chunksize must be > 0, received {args.chunksize}")
    detector = load_for(args)
    print(f"model: {describe(detector)}")
    scores, labels = score_labelled_csv(
        detector, args.csv, sep=args.sep, chunksize=args.chunksize, progress=not args.quiet
    )
    schema.require_both_classes(labels, detector.label_column, args.csv, "evaluate (ROC-AUC, precision)")
    metrics = anomaly.detection_metrics(scores, labels, detector.threshold_)
    metrics["threshold_rule"] = detector.threshold_info()
    metrics["rows"] = int(len(labels))
    print_metrics(metrics)
    if args.out:
        write_json(args.out, metrics)
    return 0


def cmd_demo(args) -> int:
    from keras_ae.fraud import synthetic_transactions
    from keras_ae.io import atomic_path

    if args.rows < 2000:
        raise UsageError(f"--rows must be at least 2000, received {args.rows}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"train": out / "transactions.csv", "new": out / "new_transactions.csv"}
    # A higher fraud rate than the real 0.172% so a small demo still has frauds to measure.
    for seed, path in ((args.seed, files["train"]), (args.seed + 1, files["new"])):
        with atomic_path(path) as tmp:
            synthetic_transactions(args.rows, fraud_rate=0.005, seed=seed).to_csv(tmp, index=False)
    print(
        f"synthetic Kaggle-schema transactions: {files['train']} and {files['new']} ({args.rows:,} rows each)"
    )
    common = ["--sep", ","]
    steps = [
        [
            "fit",
            "--csv",
            str(files["train"]),
            "--out",
            str(out / "model"),
            "--epochs",
            str(args.epochs),
            "--seed",
            str(args.seed),
            "--time",
            "hour",
            *common,
        ],
        [
            "score",
            "--model",
            str(out / "model"),
            "--csv",
            str(files["new"]),
            "--out",
            str(out / "scored.csv"),
            *common,
        ],
        [
            "evaluate",
            "--model",
            str(out / "model"),
            "--csv",
            str(files["new"]),
            "--out",
            str(out / "new_metrics.json"),
            *common,
        ],
    ]
    for step in steps:
        print(f"\n$ keras-ae-fraud {' '.join(step)}")
        code = main(step)
        if code:
            return code
    return 0


COMMANDS = {"fit": cmd_fit, "score": cmd_score, "evaluate": cmd_evaluate, "demo": cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_with_config(parser, argv) if argv[:1] == ["fit"] else parser.parse_args(argv)
    return COMMANDS[args.command](args)


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
