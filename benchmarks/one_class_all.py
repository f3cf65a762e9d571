"""One-class detection with every MNIST digit as the normal class, the command's defaults, beside PCA.

Runs ``scripts/anomaly.py --dataset mnist-sample --normal all`` (the library call behind it) on the shipped
sample (about 400 training and 100 test images per digit; the runs go to benchmarks/out/) once per seed and
writes benchmarks/results/one_class_all.json and docs/images/anomaly/per_class.png: per digit the test ROC-AUC and
AP of the default score and of PCA reconstruction error (90% of the variance) on the same split, and the means
(the first seed; each seed's means under "seeds"). Under "candidates", every candidate score is computed again
from each run's saved autoencoder on the same splits: its mean validation ROC-AUC over the digits and seeds is
what chooses the default score, by the one-standard-error rule of `one_class.choose_score` (the test figures are
reported beside it, never used to choose).

    python benchmarks/one_class_all.py [--dataset mnist-sample] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402

CANDIDATES = ["pixel-knn", "latent", "pca", "latent+pca", "latent+detail", "latent+pixel-knn", "pca+pixel-knn",
              "detail+pixel-knn", "latent+pca+pixel-knn", "latent+detail+pixel-knn", "texture", "latent+texture",
              "detail+texture", "texture+pixel-knn"]


def candidate_rows(run_dir, data, config, labels) -> list[dict]:
    """Validation and test ROC-AUC of every candidate score, per digit, from the run's saved models."""
    from keras_ae import artifacts
    from keras_ae.anomaly import one_class

    rows = []
    for label in labels:
        splits = one_class.one_class_splits(data.x_train, data.y_train, data.x_test, data.y_test, label,
                                            data.x_val, data.y_val, val_fraction=config.val_fraction, seed=config.seed)
        splits.x_train = splits.x_train[: config.train_size]  # what the run trained and fitted its score on
        bundle = artifacts.load_models(run_dir / f"normal-{label}", compile=False)
        rows += [{"seed": config.seed, "normal": label, **row}
                 for row in one_class.compare_scores(bundle, splits, CANDIDATES, contrast=config.contrast)]
    return rows


def summarise(rows: list[dict], pca: dict) -> list[dict]:
    """Per candidate: mean validation ROC-AUC with the standard error of that mean (runs taken as independent),
    mean test ROC-AUC, and the runs below PCA on test."""
    out = []
    for score in CANDIDATES:
        mine = [r for r in rows if r["score"] == score]
        n = len(mine)
        out.append({"score": score, "validation_roc_auc": sum(r["validation_roc_auc"] for r in mine) / n,
                    "validation_se": sum(r["validation_se"] ** 2 for r in mine) ** 0.5 / n,
                    "test_roc_auc": sum(r["test_roc_auc"] for r in mine) / n,
                    "runs_below_pca": sum(r["test_roc_auc"] < pca[(r["seed"], r["normal"])] for r in mine),
                    "runs": n})
    return sorted(out, key=lambda r: -r["validation_roc_auc"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    from keras_ae.anomaly import one_class
    from keras_ae.runs.common import load_with_fallback
    from keras_ae.runs.one_class import OneClassConfig
    from keras_ae.runs.one_class_all import class_labels, run_all_classes

    run = harness.Run(__file__)
    data = load_with_fallback(args.dataset)
    results, rows, pca, seconds = {}, [], {}, {}
    for seed in args.seeds:
        out = harness.OUT / f"one_class_all-{args.dataset}-seed{seed}"
        if out.exists():
            shutil.rmtree(out)
        config = OneClassConfig(dataset=args.dataset, seed=seed, out=str(out), verbose=0)
        with harness.Timer() as t:
            results[seed] = run_all_classes(config)
        seconds[seed] = round(t.seconds, 1)
        pca.update({(seed, r["normal"]): r["pca_roc_auc"] for r in results[seed].rows})
        rows += candidate_rows(out, data, config.resolved(), class_labels(data))
    first = args.seeds[0]
    out = harness.OUT / f"one_class_all-{args.dataset}-seed{first}"
    picture = harness.ROOT / "docs" / "images" / "anomaly" / "per_class.png"
    picture.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "per_class.png", picture)
    metrics = dict(results[first].metrics)
    if "options" in metrics:
        metrics["options"] = {**metrics["options"], "out": harness.display_path(out)}
    seeds = [{"seed": seed, "seconds": seconds[seed], "mean_roc_auc": results[seed].metrics["mean_roc_auc"],
              "mean_pca_roc_auc": results[seed].metrics["mean_pca_roc_auc"],
              "digits_below_pca": [r["normal"] for r in results[seed].rows if r["roc_auc_minus_pca"] < 0],
              "largest_shortfall_to_pca": results[seed].metrics["largest_shortfall_to_pca"],
              "classes": results[seed].rows} for seed in args.seeds]
    # "command": the user command this measures (the run record has this script's own)
    report = {"command": f"python scripts/anomaly.py --dataset {args.dataset} --normal all --seed {first}",
              **metrics, "seconds": seconds[first], "seeds": seeds,
              "candidates": {"summary": summarise(rows, pca), "rows": rows}}
    report["candidates"]["chosen"] = one_class.choose_score(report["candidates"]["summary"])
    path = harness.RESULTS / "one_class_all.json"
    harness.write_result(path, report, run.record())
    for s in seeds:
        print(f"seed {s['seed']}: mean ROC-AUC {s['mean_roc_auc']:.4f} (PCA {s['mean_pca_roc_auc']:.4f}), digits below "
              f"PCA: {s['digits_below_pca'] or 'none'}")
    for c in report["candidates"]["summary"]:
        print(f"{c['score']:22s} validation {c['validation_roc_auc']:.4f} (se {c['validation_se']:.4f}) test "
              f"{c['test_roc_auc']:.4f} below PCA {c['runs_below_pca']}/{c['runs']}")
    print(f"chosen by the one-standard-error rule: {report['candidates']['chosen']} (default: {metrics['score']})")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
