"""`keras-ae-fraud demo`: synthetic Kaggle-schema transactions through fit, score and evaluate, in one run
directory (a new or an earlier demo directory; removed again when an input is bad)."""

from __future__ import annotations

from collections.abc import Callable


def run_demo(args, main: Callable) -> int:
    """Write the two synthetic tables, then run the three sub-commands through `main` (the fraud command's)."""
    from keras_ae.fraud import synthetic_transactions
    from keras_ae.io import _note_written, atomic_path
    from keras_ae.run_dirs import DEMO_OUTPUTS
    from keras_ae.run_marker import unfinished_marker

    with unfinished_marker(args.out, "fraud demo") as out:  # a new or earlier demo directory; removed on bad input
        files = {"train": out / "transactions.csv", "new": out / "new_transactions.csv"}
        # A higher fraud rate than the real 0.172% so a small demo still has frauds to measure.
        for seed, path in ((args.seed, files["train"]), (args.seed + 1, files["new"])):
            with atomic_path(path) as tmp:
                synthetic_transactions(args.rows, fraud_rate=0.005, seed=seed).to_csv(tmp, index=False)
        print(f"synthetic Kaggle-schema transactions: {files['train']} and {files['new']} ({args.rows:,} rows each)",
              flush=True)
        common, model, new = ["--sep", ","], str(out / "model"), str(files["new"])
        steps = [
            ["fit", "--input", str(files["train"]), "--out", model, "--epochs", str(args.epochs), "--seed",
             str(args.seed), "--time", "hour", *common],
            ["score", "--model", model, "--input", new, "--out", str(out / "scored.csv"), *common],
            ["evaluate", "--model", model, "--input", new, "--out", str(out / "new_metrics.json"), *common],
        ]
        for step, made in zip(steps, ("model", "scored", "metrics"), strict=True):
            # listed as this run's as its step starts (a rerun may replace it; a scored table or model of yours
            # under its name, which no step of this run wrote, is refused)
            _note_written(out / DEMO_OUTPUTS[made])
            print(f"\n$ keras-ae-fraud {' '.join(step)}", flush=True)
            main(step)
    return 0
