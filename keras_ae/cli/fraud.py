"""`keras-ae-fraud` / `scripts/fraud.py`: fit a fraud detector on a transactions CSV, score files of any size.

python scripts/fraud.py fit --input creditcard.csv --out models/fraud
python scripts/fraud.py score --model models/fraud --input new.csv --out scored.csv   # or .parquet, --engine spark
python scripts/fraud.py evaluate --model models/fraud --input labelled.csv
python scripts/fraud.py demo
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from keras_ae import options
from keras_ae.anomaly.thresholds import THRESHOLD_RULES
from keras_ae.cli.common import (
    ArgumentParser,
    flag_errors,
    needed,
    parse_with_config,
    quiet_tensorflow,
    run_main,
)
from keras_ae.fraud.params import DEFAULT_CHUNKSIZE, UNSCORABLE
from keras_ae.runs.fraud import FraudFitConfig

FIT = FraudFitConfig.SPECS


def _threshold_options(p: ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--threshold-rule",
        default=default,
        choices=THRESHOLD_RULES.names(),
        help="rule on the validation scores: " + THRESHOLD_RULES.help() + " (fraud defaults: percentile 99.5, "
        "fpr 0.005, alpha 0.005)" + (f"; default: {default}" if default else
                                      "; default: the one stored with the model"),
    )
    p.add_argument(
        "--threshold-value",
        type=options.NUMBER,
        default=None,
        help="the rule's parameter: alpha, the percentile, the rate, or the threshold itself",
    )


DEMO_ROWS = options.Spec(int, 2000, 10_000_000)  # the tables are made in memory


def _unscorable_option(p: ArgumentParser) -> None:
    p.add_argument("--unscorable", default="refuse", choices=UNSCORABLE,
                   help="a row with a missing, NaN, infinite, non-numeric or out-of-range cell: refuse the input "
                        "naming row and column (default), or flag it (score inf, flag 1, the reason in an "
                        "unscorable_reason column)")


SEP_HELP = "CSV delimiter: one ASCII character, \\t a tab (default ,)"


def _separator(text: str) -> str:
    """--sep: one ASCII character; a typed \\t is a tab."""
    from argparse import ArgumentTypeError

    from keras_ae.fraud.schema import csv_separator

    try:
        return csv_separator(text)
    except ValueError as err:
        raise ArgumentTypeError(str(err)) from None


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-fraud", description="Credit-card fraud detection with autoencoders.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    fit = sub.add_parser("fit", help="fit on the normal rows of a table (all rows when it has no label column); "
                                        "hold-out metrics when it has labels")
    needed(fit.add_argument("--input", "--csv", dest="input", default=None,
                     help="transactions: CSV (also .gz, .bz2, .zip, .xz, .zst), a Parquet file or a directory of "
                          "Parquet files (Kaggle schema by default)"))
    needed(fit.add_argument("--out", default=None, help="model directory to write (new, or a model written by fit)"))
    fit.add_argument(
        "--label-column", default="Class",
        help="0/1 label column (default Class; when a table has no Class column every row is taken as normal), "
             "or 'none' for unlabelled data (every row normal, every column a feature)"
    )
    fit.add_argument("--drop", nargs="*", default=[], help="columns to ignore (ids, dates...)")
    fit.add_argument("--time-column", default="Time",
                     help="seconds-since-start column that --time reads (default Time)")
    fit.add_argument(
        "--time",
        dest="time_mode",
        default="drop",
        choices=("drop", "hour", "keep"),
        help="drop the time column, turn it into the hour of day, or keep it (default drop)",
    )
    fit.add_argument("--amount-column", default="Amount",
                     help="amount column, log1p-scaled unless --no-log-amount (default Amount)")
    fit.add_argument("--no-log-amount", dest="log_amount", action="store_false",
                     help="do not take log1p of the amount")
    fit.add_argument("--test-size", type=FIT["test_size"], default=0.3, help="stratified hold-out share (default 0.3)")
    _threshold_options(fit, "alpha")
    fit.add_argument(
        "--trim",
        dest="trim_fraction",
        type=FIT["trim_fraction"],
        default=0.0,
        help="share of highest-error training rows to drop before refitting (hidden frauds)",
    )
    fit.add_argument("--method", default="ae+knn", choices=("ae+knn", "ae", "knn"),
                     help="score: reconstruction error and distance to the nearest normal rows (default), or one")
    fit.add_argument("--neighbors", dest="n_neighbors", type=FIT["n_neighbors"], default=1,
                     help="neighbours of the distance part (default 1)")
    fit.add_argument("--ae-weight", type=FIT["ae_weight"], default=0.25,
                     help="weight of the reconstruction part against 1 for the distance part (default 0.25)")
    fit.add_argument("--n-models", type=FIT["n_models"], default=3,
                     help="autoencoders in the ensemble (1 to 100; default 3)")
    fit.add_argument("--epochs", type=FIT["epochs"], default=100,
                     help="at most this many (early stopping; default 100)")
    fit.add_argument("--seed", type=FIT["seed"], default=0, help="an integer in [0, 2**32) (default 0)")
    fit.add_argument("--sep", default=",", type=_separator, help=SEP_HELP)
    fit.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    fit.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                     help="0 quiet, 1 one progress line (epoch, loss, time left; default), 2 Keras's output")

    score = sub.add_parser("score", help="add score, reconstruction_error, flag, top_features and p_value to every row")
    score.add_argument("--model", required=True, help="model directory written by fit")
    score.add_argument("--input", "--csv", dest="input", required=True,
                       help="CSV (also compressed), Parquet file or directory of Parquet files; with --engine spark "
                            "any path Spark reads (hdfs://, s3a://)")
    score.add_argument("--out", required=True,
                       help="output, appears only when complete: .csv (.gz, ...; .txt and other text names are CSV "
                            "too; .tsv with --sep '\\t'; names of other formats such as .xlsx or .json are refused), "
                            ".parquet, or a directory name without extension for a Parquet dataset (always a Parquet "
                            "directory with --engine spark)")
    score.add_argument("--engine", default="local", choices=("local", "spark"),
                       help="local: this process, in chunks (default); spark: Apache Spark, mapInPandas over the "
                            "partitions (pip install 'keras-ae[spark]', Java 17)")
    score.add_argument("--master", default=None,
                       help="Spark master URL for --engine spark (default: the one spark-submit was given, else "
                            "local[*])")
    score.add_argument("--chunksize", type=options.POSITIVE_INT, default=None,
                       help=f"rows read at a time (default {DEFAULT_CHUNKSIZE}; one process: Spark makes its own "
                            "partitions)")
    score.add_argument("--top", type=options.POSITIVE_INT, default=3, help="columns named in top_features")
    score.add_argument("--sep", default=",", type=_separator,
                       help=SEP_HELP)
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    _unscorable_option(score)
    _threshold_options(score, None)

    ev = sub.add_parser("evaluate", help="metrics of a model on a labelled table")
    ev.add_argument("--model", required=True, help="model directory written by fit")
    ev.add_argument("--input", "--csv", dest="input", required=True, help="CSV (also compressed) or Parquet")
    ev.add_argument("--out", default=None, help="also write the metrics as JSON (a new file, or metrics written "
                    "by evaluate)")
    ev.add_argument("--chunksize", type=options.POSITIVE_INT, default=DEFAULT_CHUNKSIZE,
                    help=f"rows read at a time (default {DEFAULT_CHUNKSIZE})")
    ev.add_argument("--sep", default=",", type=_separator, help=SEP_HELP)
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    _unscorable_option(ev)
    _threshold_options(ev, None)

    demo = sub.add_parser("demo", help="fit, score and evaluate on synthetic Kaggle-schema transactions")
    demo.add_argument("--out", default="runs/fraud-demo",
                      help="directory for the data, model and outputs (default runs/fraud-demo)")
    demo.add_argument("--rows", type=DEMO_ROWS, default=30_000,
                      help="rows of each table (default 30000, from 2000 to 10000000)")
    demo.add_argument("--seed", type=FIT["seed"], default=0,
                      help="seed of the synthetic tables (the new table uses seed + 1) and of the fit (default 0)")
    demo.add_argument("--epochs", type=FIT["epochs"], default=40, help="most epochs of the fit (default 40)")
    return p


def cmd_fit(args, parser) -> int:
    from keras_ae.runs.fraud import fit_fraud

    config = FraudFitConfig(**{k: v for k, v in vars(args).items() if k not in ("config", "command")})
    with flag_errors(parser):
        config.check()
        table = config.check_files((args.config,) if args.config else ())  # header, columns, output: before TF
    quiet_tensorflow()
    from keras_ae.fraud.detector import describe

    result = fit_fraud(config, table)  # the header read once, passed along
    _say_level_warning(result.detector)
    print(f"model: {describe(result.detector)} -> {result.out}")
    if result.metrics:
        print_metrics(result.metrics)
    return 0


def print_metrics(m: dict) -> None:
    c = m["confusion_matrix"]
    print(f"ROC-AUC {m['roc_auc']:.4f}  average precision {m['average_precision']:.4f}")
    print(
        f"at threshold {m['threshold']:.4g}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
        f"F1 {m['f1']:.3f}"
    )
    print(f"confusion matrix: TN {c['tn']:,}  FP {c['fp']:,}  FN {c['fn']:,}  TP {c['tp']:,}")
    if m.get("unscorable_rows_flagged"):
        print(f"{m['unscorable_rows_flagged']:,} row(s) could not be scored and were flagged (--unscorable flag)")
    if m.get("far_outside_rows_flagged"):
        print(f"{m['far_outside_rows_flagged']:,} row(s) hold an amount far outside the normal training amounts and "
              "were flagged")


def _say_level_warning(detector) -> None:
    """One line on stderr when the "alpha" threshold cannot keep the level asked for (it is in the model too)."""
    _warn(detector.threshold_info().get("warning"))


def _warn(warning: str | None) -> None:
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def _announce(detector, warning) -> None:
    from keras_ae.fraud.detector import describe

    _warn(warning)
    print(f"model: {describe(detector)}")


def _common(args) -> dict:
    return {"model": args.model, "input": args.input, "chunksize": args.chunksize, "sep": args.sep,
            "progress": not args.quiet, "unscorable": args.unscorable, "threshold_rule": args.threshold_rule,
            "threshold_value": args.threshold_value}


def cmd_score(args) -> int:
    from keras_ae.runs.fraud_score import FraudScoreConfig, score_fraud

    config = FraudScoreConfig(out=args.out, engine=args.engine, master=args.master, top=args.top, **_common(args))
    result = score_fraud(config, on_model=_announce)
    summary = result.summary
    notes = [f"{summary['unscorable']:,} of them unscorable" if summary["unscorable"] else "",
             f"{summary['far_outside']:,} for an amount far outside the normal training amounts"
             if summary.get("far_outside") else ""]
    unscorable = f" ({'; '.join(n for n in notes if n)})" if any(notes) else ""
    where = f" on Spark ({summary['master']}, " if config.engine == "spark" else " ("
    print(f"scored {summary['rows']:,} rows{where}{summary['rows_per_second']:,.0f} rows/s): {summary['flagged']:,} "
          f"flagged{unscorable} -> {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    from keras_ae.runs.fraud_score import FraudEvaluateConfig, evaluate_fraud

    result = evaluate_fraud(FraudEvaluateConfig(out=args.out, **_common(args)), on_model=_announce)
    print_metrics(result.metrics)
    return 0


def cmd_demo(args) -> int:
    from keras_ae.cli.fraud_demo import run_demo

    return run_demo(args, main)


COMMANDS = {"score": cmd_score, "evaluate": cmd_evaluate, "demo": cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    from keras_ae.fraud.threshold import ThresholdWarning

    warnings.simplefilter("ignore", ThresholdWarning)  # said in one line by the command instead
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_with_config(parser, argv) if argv[:1] == ["fit"] else parser.parse_args(argv)
    if args.command == "fit":
        return cmd_fit(args, parser)
    return COMMANDS[args.command](args)


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())
