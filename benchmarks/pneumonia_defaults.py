"""PneumoniaMNIST one-class detection with the command's defaults (what `scripts/anomaly.py --dataset pneumonia`
does), beside PCA on the same split; also the test accuracy of every threshold rule on the same scores, and the
validation and test ROC-AUC of the candidate scores of `one_class_all.py` from the same trained autoencoder (the
validation columns choose the default score, by the one-standard-error rule of `one_class.choose_score`).

    python benchmarks/pneumonia_defaults.py [--data-path PATH]   # default: shared/data/pneumoniamnist.npz
                                                                  # beside the repository folder

Writes benchmarks/results/pneumonia_defaults.json (the run itself goes to benchmarks/out/).
"""

from __future__ import annotations

import argparse
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402
from one_class_all import CANDIDATES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-path", default=str(harness.SHARED / "data" / "pneumoniamnist.npz"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import numpy as np

    from keras_ae import anomaly
    from keras_ae.anomaly import one_class
    from keras_ae.data.registry import load_dataset
    from keras_ae.runs.one_class import OneClassConfig, run_one_class

    out = harness.OUT / "pneumonia_defaults"
    if out.exists():
        shutil.rmtree(out)
    run = harness.Run(__file__)
    with harness.Timer() as t:
        result = run_one_class(OneClassConfig(dataset="pneumonia", data_path=args.data_path, seed=args.seed,
                                              out=str(out), verbose=0))
    data = load_dataset("pneumonia", path=args.data_path)
    splits = one_class.one_class_splits(data.x_train, data.y_train, data.x_test, data.y_test, 0, data.x_val,
                                        data.y_val, seed=args.seed)
    val, test = result.scorer.score_samples(splits.x_val), result.scorer.score_samples(splits.x_test)
    rules = {}
    for rule in ("quartile-gap", "accuracy", "youden", "f1", "percentile"):
        threshold = anomaly.choose_threshold(rule, val, splits.y_val, value=95.0 if rule == "percentile" else None)
        rules[rule if rule != "percentile" else "percentile 95"] = float(np.mean((test > threshold) == splits.y_test))
    m = result.metrics
    # "command": the user command this measures (the run record has this script's own)
    data_path = harness.display_path(args.data_path)
    report = {"command": f"python scripts/anomaly.py --dataset pneumonia --data-path {data_path}",
              "seconds": round(t.seconds, 1), "score": m["score"], "threshold_rule": m["threshold_rule"],
              "test": m["test"], "validation": m["validation"], "baselines": m["baselines"],
              "test_accuracy_by_threshold_rule": rules,
              "candidates": one_class.compare_scores(result.bundle, splits, CANDIDATES, contrast=m["contrast"])}
    report["chosen_score"] = one_class.choose_score(report["candidates"])
    path = harness.RESULTS / "pneumonia_defaults.json"
    harness.write_result(path, report, run.record())
    print(f"test ROC-AUC {m['test']['roc_auc']:.4f} accuracy {m['test']['accuracy']:.4f}; rules {rules} -> {path}")


if __name__ == "__main__":
    main()
