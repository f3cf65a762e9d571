"""Why is the fraud detector's autoencoder part weaker than the notebook's and PyOD's? An ablation, one change at a
time, on the same splits as benchmarks/fraud.py (stratified 60/40, fit on the normal rows of the 60 % part).

Every variant is the detector with `method="ae"` (the reconstruction error alone) and one parameter changed, or the
defaults' fitted autoencoders scored another way (`SCORINGS`: per-feature error normalisation on the held-out
normal rows). The notebook autoencoder is measured in the same run as the reference to beat.

    nice python benchmarks/fraud_ae.py                                   # benchmarks/results/fraud_ae.json
    nice python benchmarks/fraud_ae.py --seeds 0 --max-rows 5000 --out /tmp/screen.json   # a quick screen
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import fraud_peers as peers  # noqa: E402
import harness  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

# Training variants: FraudDetector parameters on top of method="ae" (one change at a time).
VARIANTS = {
    "defaults": {},
    "no denoising noise": {"noise": 0.0},
    "no input clipping": {"clip": 1e6},
    "one model": {"n_models": 1},
    "batch 32": {"batch_size": 32},
    "patience 10": {"patience": 10},
    "code 7, hidden 14": {"hidden": (14,), "latent_dim": 7},
    "no weight decay": {"weight_decay": 0.0},
}


def _threads() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def scorings(det, normal, test) -> dict[str, np.ndarray]:
    """The fitted autoencoders' errors on the test rows, aggregated several ways."""
    scales = np.asarray(det.scoring_.feature_scales) if det.scoring_.feature_scales is not None else 1.0
    errors = det.feature_errors(test) * scales  # rows x features, in units of each member's mean normal error
    held_out = det.feature_errors(normal.iloc[det.split_rows(len(normal))[1]]) * scales
    out = {"mean error": errors.mean(axis=1)}
    scale = np.maximum(held_out.mean(axis=0), 1e-12)
    out["per-feature (mean)"] = (errors / scale).mean(axis=1)
    scale = np.maximum(np.median(held_out, axis=0), 1e-12)
    out["per-feature (median)"] = (errors / scale).mean(axis=1)
    return out


def run_job(name: str, variant: str, seeds, max_rows: int) -> dict:
    from keras_ae.fraud import FraudDetector

    frame, y, _ = peers.load(name, max_rows)
    rows = []
    for seed in seeds:
        normal, test, y_test = peers.split(frame, y, seed)
        with harness.Timer() as timer:
            if variant == "notebook AE":
                scores = {"notebook AE": peers.notebook_ae(normal, test, seed)[0]}
            else:
                det = FraudDetector(method="ae", seed=seed, verbose=0, **VARIANTS[variant]).fit(normal)
                scores = scorings(det, normal, test) if variant == "defaults" else \
                    {variant: det.reconstruction_errors(test)}
        seconds = timer.seconds
        rows.append({k: (roc_auc_score(y_test, s), average_precision_score(y_test, s), seconds)
                     for k, s in scores.items()})
    return {k: {"roc_auc": float(np.mean([r[k][0] for r in rows])),
                "average_precision": float(np.mean([r[k][1] for r in rows])),
                "seconds": float(np.mean([r[k][2] for r in rows]))} for k in rows[0]}


def main(argv=None) -> int:
    import concurrent.futures
    import multiprocessing

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", nargs="*", default=None)
    p.add_argument("--variants", nargs="*", default=[*VARIANTS, "notebook AE"])
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--max-rows", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=str(harness.RESULTS / "fraud_ae.json"))
    args = p.parse_args(argv)
    sets = args.sets or [*peers.adbench_sets(), peers.CREDITCARD]
    run = harness.Run(__file__, sys.argv[1:] if argv is None else argv)
    results: dict = {}
    ctx = multiprocessing.get_context("spawn")
    jobs = [(s, v) for v in args.variants for s in sets]
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_threads) as pool:
        futures = {pool.submit(run_job, s, v, args.seeds, args.max_rows): (s, v) for s, v in jobs}
        for future in concurrent.futures.as_completed(futures):
            s, v = futures[future]
            for k, r in future.result().items():
                results.setdefault(k, {})[s] = r
                print(f"{k:>24} {s:>18}: ROC-AUC {r['roc_auc']:.4f}  AP {r['average_precision']:.4f}", flush=True)
    adbench = [s for s in sets if s != peers.CREDITCARD]
    summary = {}
    for k, per_set in results.items():
        entry = summary[k] = {}
        if adbench and all(s in per_set for s in adbench):
            entry["mean_roc_auc"] = float(np.mean([per_set[s]["roc_auc"] for s in adbench]))
            entry["mean_average_precision"] = float(np.mean([per_set[s]["average_precision"] for s in adbench]))
        if peers.CREDITCARD in per_set:
            entry["creditcard_dev"] = per_set[peers.CREDITCARD]
    for k, e in summary.items():
        print(f"{k:>24}: {harness.dumps(e).strip()}")
    out = {"protocol": "benchmarks/fraud.py's splits; method='ae' (reconstruction error alone)", "seeds": args.seeds,
           "max_rows": args.max_rows, "sets": sets, "summary": summary, "results": results,
           "workers": args.workers}
    harness.write_result(args.out, out, run.record())
    return 0


if __name__ == "__main__":
    sys.exit(main())
