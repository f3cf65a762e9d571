"""One-class detection with every MNIST digit as the normal class, the command's defaults, beside PCA.

Runs ``scripts/anomaly.py --dataset mnist-sample --normal all`` (the library call behind it) on the shipped
sample (about 400 training and 100 test images per digit; the runs go to benchmarks/out/) and writes
benchmarks/results/one_class_all.json and docs/images/anomaly/per_class.png:
per digit the test ROC-AUC and AP of the default score and of PCA reconstruction error (90% of the variance)
on the same split, and the means. The default score was chosen on the validation splits only.

    python benchmarks/one_class_all.py [--dataset mnist-sample] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from keras_ae.runs.one_class import OneClassConfig
    from keras_ae.runs.one_class_all import run_all_classes

    run = harness.Run(__file__)
    with harness.Timer() as t:
        out = harness.OUT / f"one_class_all-{args.dataset}"
        if out.exists():
            shutil.rmtree(out)
        result = run_all_classes(OneClassConfig(dataset=args.dataset, seed=args.seed, out=str(out), verbose=0))
        picture = harness.ROOT / "docs" / "images" / "anomaly" / "per_class.png"
        picture.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "per_class.png", picture)
    metrics = dict(result.metrics)
    if "options" in metrics:
        metrics["options"] = {**metrics["options"], "out": harness.display_path(out)}
    # "command": the user command this measures (the run record has this script's own)
    report = {"command": f"python scripts/anomaly.py --dataset {args.dataset} --normal all --seed {args.seed}",
              "seconds": round(t.seconds, 1), **metrics}
    path = harness.RESULTS / "one_class_all.json"
    harness.write_result(path, report, run.record())
    print(f"mean ROC-AUC {report['mean_roc_auc']:.4f} (PCA {report['mean_pca_roc_auc']:.4f}) -> {path}")


if __name__ == "__main__":
    main()
