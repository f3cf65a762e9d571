"""Quality benchmark of the fraud detector on real tabular anomaly sets (ADBench), against two baselines.

Protocol (../shared/data/README.md): stratified 60/40 split with seeds 0, 1, 2; every detector is fit
on the normal rows of the 60% part only and scores the 40% part; ROC-AUC and average precision, mean over
seeds. Baselines measured in the same run: scikit-learn IsolationForest (200 trees) and the plain
notebook Keras autoencoder d-14-7-14-d (MSE, standardised with the normal training rows, score = summed
squared error).

    nice python benchmarks/fraud.py            # writes benchmarks/results/fraud.json
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "adbench"
SETS = [
    "4_breastw",
    "18_Ionosphere",
    "26_optdigits",
    "29_Pima",
    "31_satimage-2",
    "40_vowels",
    "42_WBC",
    "43_WDBC",
    "44_Wilt",
    "47_yeast",
]
SEEDS = (0, 1, 2)
NOTEBOOK_EPOCHS = 100


def split(x, y, seed):
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=0.6, stratify=y, random_state=seed)
    return x_tr[y_tr == 0], x_te, y_te


def isolation_forest(x_normal, x_test, seed):
    model = IsolationForest(n_estimators=200, random_state=seed).fit(x_normal)
    return -model.score_samples(x_test)


def notebook_ae(x_normal, x_test, seed):
    """The plain notebook autoencoder: d-14-7-14-d, relu, linear output, Adam, MSE, 100 epochs, batch 32."""
    from keras_ae import training
    from keras_ae.models import build_dense

    mean, std = x_normal.mean(0), x_normal.std(0)
    std[std == 0] = 1.0
    a, b = ((x_normal - mean) / std).astype("float32"), ((x_test - mean) / std).astype("float32")
    training.set_seed(seed)
    net = build_dense(
        input_shape=(a.shape[1],), hidden=(14,), latent_dim=7, output_activation="linear"
    ).autoencoder
    net.compile(optimizer="adam", loss="mse")
    net.fit(a, a, epochs=NOTEBOOK_EPOCHS, batch_size=32, shuffle=True, verbose=0)
    return np.sum((net.predict(b, verbose=0) - b) ** 2, axis=1)


def fraud_detector(x_normal, x_test, seed, params):
    from keras_ae.fraud import FraudDetector

    return FraudDetector(seed=seed, verbose=0, **params).fit(x_normal).score_samples(x_test)


METHODS = {
    "fraud_detector": "FraudDetector",
    "isolation_forest": "IsolationForest",
    "notebook_ae": "notebook AE",
}


def run_job(method: str, set_name: str, seeds, params: dict) -> dict:
    """One method on one set, every seed (runs in a worker process)."""
    with np.load(DATA / f"{set_name}.npz") as f:
        x, y = f["X"].astype(np.float64), f["y"].astype(int)
    aucs, aps, secs = [], [], []
    for seed in seeds:
        x_normal, x_test, y_test = split(x, y, seed)
        start = time.perf_counter()
        if method == "fraud_detector":
            scores = fraud_detector(x_normal, x_test, seed, params)
        else:
            scores = {"isolation_forest": isolation_forest, "notebook_ae": notebook_ae}[method](
                x_normal, x_test, seed
            )
        secs.append(time.perf_counter() - start)
        aucs.append(roc_auc_score(y_test, scores))
        aps.append(average_precision_score(y_test, scores))
    return {
        "roc_auc": float(np.mean(aucs)),
        "average_precision": float(np.mean(aps)),
        "roc_auc_per_seed": [float(a) for a in aucs],
        "ap_per_seed": [float(a) for a in aps],
        "seconds": float(np.sum(secs)),
    }


def evaluate(methods, sets, seeds, params, workers, log) -> dict:
    """Every (method, set) job on a pool of worker processes; results keyed by method, then set."""
    import concurrent.futures
    import multiprocessing

    results = {m: {"sets": {}} for m in methods}
    # Largest sets first so the pool ends together.
    jobs = sorted(
        ((m, s) for m in methods for s in sets), key=lambda j: -(DATA / f"{j[1]}.npz").stat().st_size
    )
    ctx = multiprocessing.get_context("spawn")  # TensorFlow does not survive fork
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(run_job, m, s, seeds, params): (m, s) for m, s in jobs}
        for future in concurrent.futures.as_completed(futures):
            m, s = futures[future]
            row = results[m]["sets"][s] = future.result()
            log(
                f"{METHODS[m]:>16} {s:>14}: ROC-AUC {row['roc_auc']:.3f}  AP {row['average_precision']:.3f}  "
                f"({row['seconds']:.1f} s)"
            )
    for m in methods:
        rows = results[m]["sets"] = {s: results[m]["sets"][s] for s in sets}
        results[m]["mean"] = {
            "roc_auc": float(np.mean([r["roc_auc"] for r in rows.values()])),
            "average_precision": float(np.mean([r["average_precision"] for r in rows.values()])),
        }
        log(
            f"{METHODS[m]:>16} {'mean':>14}: ROC-AUC {results[m]['mean']['roc_auc']:.3f}  "
            f"AP {results[m]['mean']['average_precision']:.3f}"
        )
    return results


def verdict(results):
    ours, iso, ae = results["fraud_detector"], results["isolation_forest"], results["notebook_ae"]
    worst = min(ours["sets"][s]["roc_auc"] - iso["sets"][s]["roc_auc"] for s in ours["sets"])
    checks = {
        "mean_roc_auc_above_both": ours["mean"]["roc_auc"]
        > max(iso["mean"]["roc_auc"], ae["mean"]["roc_auc"]),
        "mean_ap_above_both": ours["mean"]["average_precision"]
        > max(iso["mean"]["average_precision"], ae["mean"]["average_precision"]),
        "no_set_more_than_0.02_roc_auc_below_isolation_forest": worst >= -0.02,
        "worst_roc_auc_gap_to_isolation_forest": float(worst),
    }
    checks["target_met"] = all(v for k, v in checks.items() if isinstance(v, bool))
    return checks


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", nargs="*", default=SETS)
    p.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    p.add_argument("--params", default="{}", help="JSON of FraudDetector parameters (default: its defaults)")
    p.add_argument("--only", choices=("all", "detector"), default="all", help="detector: skip the baselines")
    p.add_argument("--workers", type=int, default=4, help="worker processes (default 4)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fraud.json"))
    args = p.parse_args(argv)
    if not DATA.is_dir():
        print(f"error: {DATA} not found (the ADBench sets live in ../shared/data/adbench)", file=sys.stderr)
        return 2
    params = json.loads(args.params)
    log = lambda line: print(line, flush=True)  # noqa: E731
    start = time.perf_counter()
    methods = ["fraud_detector"] + (["isolation_forest", "notebook_ae"] if args.only == "all" else [])
    results = evaluate(methods, args.sets, args.seeds, params, args.workers, log)
    out = {
        "protocol": "stratified 60/40 split per seed; fit on normal rows of the 60% part; score the 40% part",
        "seeds": args.seeds,
        "detector_params": params,
        "results": results,
        "seconds": round(time.perf_counter() - start, 1),
        "workers": args.workers,
        "notebook_ae": f"d-14-7-14-d, relu, linear output, Adam, MSE, {NOTEBOOK_EPOCHS} epochs, batch 32",
        "command": "nice python benchmarks/fraud.py" + (f" --params '{args.params}'" if params else ""),
    }
    if args.only == "all" and set(args.sets) == set(SETS):
        out["target"] = verdict(results)
        log(json.dumps(out["target"]))
    from keras_ae.io import write_json

    write_json(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
