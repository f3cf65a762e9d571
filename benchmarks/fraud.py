"""Quality benchmark of the fraud detector on every real set at hand, against five peers in the same run.

Sets: the 34 ADBench sets (adbench/*.npz) and creditcard_dev.csv (21,325 real ULB credit-card rows) of the folder
named by KERAS_AE_BENCH_DATA (default shared/data beside the repository). Protocol: stratified 60/40 split with
seeds 0, 1, 2; every
detector is fit on the normal rows of the 60 % part only and scores the 40 % part. Peers (benchmarks/
fraud_peers.py): kNN (k=5, mean distance, standardised), IsolationForest (200 trees), PCA reconstruction (90 %
variance), the notebook autoencoder d-14-7-14-d, PyOD's AutoEncoder (epoch_num=50, in its own virtual
environment). Reported per set and on the mean: ROC-AUC, AP, their std over seeds, fit and score seconds,
average ranks over the ADBench sets (1 = best), and the detector's nominal against measured false-positive rate
on the normal test rows.

    nice python benchmarks/fraud.py                     # benchmarks/results/fraud.json (about 80 minutes)
    nice python benchmarks/fraud.py --only detector --params '{"score": "ae"}' --out /tmp/ablation.json
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import fraud_peers as peers  # noqa: E402
import harness  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import rankdata  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from keras_ae.anomaly.metrics import ranked  # noqa: E402

SEEDS = (0, 1, 2)
MAX_ROWS = 10_000
METHODS = {"fraud_detector": "keras-ae FraudDetector", "knn": "kNN (k=5)", "isolation_forest": "IsolationForest",
           "pca": "PCA reconstruction", "notebook_ae": "notebook AE", "pyod_ae": "PyOD AutoEncoder"}


def _threads() -> None:
    """One thread per worker process: the pool runs jobs side by side on the cores."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


# Ablation: the score's parts, re-scored from the same fitted autoencoders (FraudDetector parameters).
ABLATION = {"ae only": {"method": "ae"}, "ae only, no per-feature scaling": {"method": "ae", "feature_scaling": False},
            "no per-feature scaling": {"feature_scaling": False},
            "knn only": {"method": "knn"}, "ae_weight 0.5": {"ae_weight": 0.5},
            "equal weights": {"ae_weight": 1.0},
            "5 neighbours": {"n_neighbors": 5}}
ABLATION_NAMES = [*ABLATION, "tail p-values"]


def tail_log_p(values: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """-log of each value's tail probability among the held-out normal values: the empirical one (with the +1
    correction) in the body, and beyond the 90th percentile an exponential tail fitted to the excesses over it
    (peaks over threshold), so rows beyond every held-out one keep their order."""
    held_out = np.sort(held_out)
    n = len(held_out)
    empirical = (1.0 + n - np.searchsorted(held_out, values, side="left")) / (n + 1.0)
    start = np.quantile(held_out, 0.9)
    excess = held_out[held_out > start] - start
    scale = excess.mean() if len(excess) and excess.mean() > 0 else 1.0
    log_tail = np.log((1.0 + len(excess)) / (n + 1.0)) - (values - start) / scale  # in logs: no underflow
    return -np.where(values > start, np.minimum(np.log(empirical), log_tail), np.log(empirical))


def ablation(det, normal, test, y_test) -> dict:
    """ROC-AUC and AP of the detector with one part changed, the autoencoders kept; "tail p-values" joins the
    components by their tail probabilities among the held-out normal rows (Fisher: the sum of -log p), a rule
    with no weight to set."""
    from keras_ae.fraud import combined

    x_normal = det.preprocessor_.transform(normal)
    validation = det.split_rows(len(normal))[1]
    x_test = det.preprocessor_.transform(test)
    out = {}
    for name, change in ABLATION.items():
        p = {"method": det.method, "n_neighbors": det.n_neighbors, "ae_weight": det.ae_weight,
             "feature_scaling": True} | change
        state, _ = combined.fit_state(det.weights_, det.member_scales_, p["method"], x_normal, validation,
                                      p["n_neighbors"], p["ae_weight"], det.max_reference, det.seed,
                                      p["feature_scaling"])
        scores = combined.score(state, x_test).score
        out[name] = (roc_auc_score(y_test, scores), average_precision_score(y_test, scores))
    state, _ = combined.fit_state(det.weights_, det.member_scales_, "ae+knn", x_normal, validation,
                                  det.n_neighbors, det.ae_weight, det.max_reference, det.seed)
    position = np.full(len(x_normal), -1)
    if len(x_normal) <= det.max_reference:
        position = np.arange(len(x_normal))
    else:
        chosen = np.sort(np.random.default_rng(det.seed).choice(len(x_normal), det.max_reference, replace=False))
        position[chosen] = np.arange(len(chosen))
    held = combined.components(state, x_normal[validation], position[validation])
    new = combined.components(state, x_test)
    scores = sum(tail_log_p(new[c][0], held[c][0]) for c in ("ae", "knn"))
    out["tail p-values"] = (roc_auc_score(y_test, scores), average_precision_score(y_test, scores))
    return out


def detector(normal, test, seed, params, y_test):
    import warnings

    from keras_ae.fraud import FraudDetector
    from keras_ae.fraud.threshold import ThresholdWarning

    det = FraudDetector(seed=seed, verbose=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThresholdWarning)  # recorded in threshold_info()["warning"]
        scores, fit_s, score_s = peers.timed(lambda: det.fit(normal), lambda d: d.score_samples(test))
    info = det.threshold_info()
    nominal = 1 - info["effective_value"] / 100 if info["rule"] == "percentile" else info["effective_value"]
    fpr = float(np.mean(scores[y_test == 0] > det.threshold_)) if info["rule"] in ("percentile", "fpr", "alpha") \
        else None
    return ranked(scores), fit_s, score_s, {"nominal_fpr": nominal, "measured_fpr": fpr,
                                            "warned": bool(info.get("warning")),
                                            "promised_level": info.get("promised_level", nominal),
                                            "ablation": ablation(det, normal, test, y_test)}


ULB_PREVALENCE = 0.00172  # frauds in the full ULB credit-card file (492 of 284,807)


def recall_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """Share of the anomalies flagged when at most `fpr` of the normal rows may be (the alert budget)."""
    normal = np.sort(scores[y == 0])[::-1]
    allowed = int(np.floor(fpr * len(normal)))
    threshold = normal[allowed] if allowed < len(normal) else -np.inf
    return float(np.mean(scores[y == 1] > threshold))


def ap_at_prevalence(y: np.ndarray, scores: np.ndarray, prevalence: float = ULB_PREVALENCE) -> float:
    """Average precision with the normal rows weighted so that anomalies make up `prevalence` of the weight."""
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    weight = np.where(y == 1, 1.0, n_pos * (1 - prevalence) / (prevalence * n_neg))
    return float(average_precision_score(y, scores, sample_weight=weight))


def team_figures(name: str, y: np.ndarray, scores: np.ndarray) -> dict:
    """The figures a fraud team reads: recall at 0.1 % and 1 % false positives; on the credit-card set also the
    average precision at the real prevalence of the full ULB file."""
    out = {"recall_at_fpr_0.001": recall_at_fpr(y, scores, 0.001), "recall_at_fpr_0.01": recall_at_fpr(y, scores, 0.01)}
    if name == peers.CREDITCARD:
        out["ap_at_ulb_prevalence"] = ap_at_prevalence(y, scores)
    return out


def run_job(method: str, name: str, seeds, params: dict, max_rows: int) -> dict:
    """One method on one set, every seed (runs in a worker process)."""
    frame, y, n_rows = peers.load(name, max_rows)
    rows = []
    for seed in seeds:
        normal, test, y_test = peers.split(frame, y, seed)
        extra = {}
        if method == "fraud_detector":
            scores, fit_s, score_s, extra = detector(normal, test, seed, params, y_test)
        else:
            scores, fit_s, score_s = peers.PEERS[method](normal, test, seed)
        rows.append({"roc_auc": roc_auc_score(y_test, scores), "ap": average_precision_score(y_test, scores),
                     "fit_s": fit_s, "score_s": score_s, "normal_test_rows": int((y_test == 0).sum()),
                     **team_figures(name, y_test, scores), **extra})
    out = {"rows": len(y), "rows_before_subsampling": n_rows, "features": frame.shape[1],
           "anomalies": int(y.sum())}
    for key, label in (("roc_auc", "roc_auc"), ("ap", "average_precision")):
        values = [r[key] for r in rows]
        out[label], out[f"{label}_std"] = float(np.mean(values)), float(np.std(values))
        out[f"{label}_per_seed"] = values
    out["fit_seconds"], out["score_seconds"] = (float(np.mean([r[k] for r in rows])) for k in ("fit_s", "score_s"))
    for key in ("recall_at_fpr_0.001", "recall_at_fpr_0.01", "ap_at_ulb_prevalence"):
        if key in rows[0]:
            out[key] = float(np.mean([r[key] for r in rows]))
    if method == "fraud_detector" and rows[0].get("measured_fpr") is not None:
        out["nominal_fpr"] = rows[0]["nominal_fpr"]
        out["measured_fpr"] = float(np.mean([r["measured_fpr"] for r in rows]))
        out["measured_fpr_per_seed"] = [r["measured_fpr"] for r in rows]
        out["normal_test_rows"] = rows[0]["normal_test_rows"]
        out["warned"] = any(r["warned"] for r in rows)
        out["promised_level"] = float(np.mean([r["promised_level"] for r in rows]))
    if method == "fraud_detector":
        out["ablation"] = {name: {"roc_auc": float(np.mean([r["ablation"][name][0] for r in rows])),
                                  "average_precision": float(np.mean([r["ablation"][name][1] for r in rows]))}
                           for name in ABLATION_NAMES}
    return out


def evaluate(methods, sets, seeds, params, workers, max_rows, log) -> dict:
    import concurrent.futures
    import multiprocessing

    results = {m: {"sets": {}} for m in methods}
    cost = {s: peers.load(s, max_rows)[0].size for s in sets}
    weight = {"pyod_ae": 4, "notebook_ae": 2, "fraud_detector": 2}
    jobs = sorted(((m, s) for m in methods for s in sets), key=lambda j: -cost[j[1]] * weight.get(j[0], 0.1))
    ctx = multiprocessing.get_context("spawn")  # TensorFlow does not survive fork
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_threads) as pool:
        futures = {pool.submit(run_job, m, s, seeds, params, max_rows): (m, s) for m, s in jobs}
        for future in concurrent.futures.as_completed(futures):
            m, s = futures[future]
            try:
                row = results[m]["sets"][s] = future.result()
            except Exception as err:  # say which job failed at once, and stop the others
                log(f"{METHODS[m]} on {s} failed: {type(err).__name__}: {err}")
                for other in futures:
                    other.cancel()
                raise
            log(f"{METHODS[m]:>24} {s:>16}: ROC-AUC {row['roc_auc']:.3f}  AP {row['average_precision']:.3f}  "
                f"fit {row['fit_seconds']:.1f} s")
    for m in methods:
        results[m]["sets"] = {s: results[m]["sets"][s] for s in sets}
    return results


def summarise(results: dict, sets: list[str]) -> dict:
    """Means over the ADBench sets, average ranks (ties share the mean rank), calibration of the detector."""
    adbench = [s for s in sets if s != peers.CREDITCARD]
    methods = list(results)
    summary = {"sets": len(adbench), "methods": {}}
    for key in ("roc_auc", "average_precision"):
        table = np.array([[results[m]["sets"][s][key] for m in methods] for s in adbench])
        ranks = np.vstack([rankdata(-row) for row in table]) if len(adbench) else np.zeros((0, len(methods)))
        for j, m in enumerate(methods):
            entry = summary["methods"].setdefault(m, {})
            entry[f"mean_{key}"] = float(table[:, j].mean())
            entry[f"average_rank_{key}"] = float(ranks[:, j].mean())
            entry[f"wins_{key}"] = int((ranks[:, j] == ranks.min(axis=1)).sum())
    for m in methods:
        summary["methods"][m]["mean_fit_seconds"] = float(np.mean([results[m]["sets"][s]["fit_seconds"] for s in sets]))
    ours = results.get("fraud_detector", {}).get("sets", {})
    if ours:
        summary["ablation"] = {name: {key: float(np.mean([ours[s]["ablation"][name][key] for s in adbench]))
                                      for key in ("roc_auc", "average_precision")} for name in ABLATION_NAMES}
        summary["ablation"]["defaults"] = {key: float(np.mean([ours[s][key] for s in adbench]))
                                           for key in ("roc_auc", "average_precision")}
    calib = {s: r for s, r in ours.items() if r.get("measured_fpr") is not None}
    if calib:
        kept = {s: r for s, r in calib.items() if not r.get("warned")}
        within = {s: r["nominal_fpr"] / 2 <= r["measured_fpr"] <= 2 * r["nominal_fpr"] for s, r in kept.items()}
        summary["calibration"] = {"within_factor_2": sum(within.values()), "sets_without_warning": len(within),
                                  "share": sum(within.values()) / max(1, len(within)),
                                  "warned": sorted(s for s, r in calib.items() if r.get("warned")),
                                  "median_measured_fpr": float(np.median([r["measured_fpr"] for r in calib.values()])),
                                  "outside": sorted(s for s, ok in within.items() if not ok)}
    for m in methods:
        for key in ("recall_at_fpr_0.001", "recall_at_fpr_0.01"):
            summary["methods"][m][f"mean_{key}"] = float(np.mean([results[m]["sets"][s][key] for s in adbench]))
    return summary


def verdict(summary: dict, results: dict) -> dict:
    """The targets: the autoencoder alone at least the autoencoder peers, the joined score above kNN and every peer,
    thresholds that keep their level where fit did not warn."""
    methods = summary["methods"]
    peer_names = [m for m in methods if m != "fraud_detector"]
    ours = methods["fraud_detector"]
    ae = summary["ablation"]["ae only"]
    knn = summary["ablation"]["knn only"]
    checks = {}
    for peer in ("pyod_ae", "notebook_ae"):
        if peer in methods:
            peer_means = methods[peer]
            checks[f"ae_alone_mean_at_least_{peer}"] = (ae["roc_auc"] >= peer_means["mean_roc_auc"] and
                                                        ae["average_precision"] >= peer_means["mean_average_precision"])
    if "knn" in methods:
        checks["default_beats_knn_peer_by_0.005_roc_0.02_ap"] = (
            ours["mean_roc_auc"] >= methods["knn"]["mean_roc_auc"] + 0.005 and
            ours["mean_average_precision"] >= methods["knn"]["mean_average_precision"] + 0.02)
    checks["default_beats_own_knn_by_0.005_roc_0.02_ap"] = (
        ours["mean_roc_auc"] >= knn["roc_auc"] + 0.005 and ours["mean_average_precision"] >= knn["average_precision"]
        + 0.02)
    if peers.CREDITCARD in results["fraud_detector"]["sets"]:
        cc = {m: results[m]["sets"][peers.CREDITCARD] for m in results}
        ae_cc = cc["fraud_detector"]["ablation"]["ae only"]
        for peer in ("pyod_ae", "notebook_ae"):
            if peer in cc:
                checks[f"creditcard_ae_alone_at_least_{peer}"] = (
                    ae_cc["roc_auc"] >= cc[peer]["roc_auc"]
                    and ae_cc["average_precision"] >= cc[peer]["average_precision"])
        checks["creditcard_default_beats_every_peer"] = all(
            cc["fraud_detector"][k] > cc[p][k] for p in peer_names for k in ("roc_auc", "average_precision"))
    if "calibration" in summary:
        checks["calibration_within_factor_2_where_fit_did_not_warn"] = not summary["calibration"]["outside"]
    checks["target_met"] = all(checks.values())
    return checks


def tables(report: dict) -> str:
    """The README's tables from a written report: per set, the means and ranks, calibration, ablation."""
    res, summary = report["results"], report["summary"]
    methods = [m for m in METHODS if m in res]
    sets = list(res[methods[0]]["sets"])
    lines = ["| set | rows | " + " | ".join(METHODS[m] for m in methods) + " |", "|---|---|" + "---|" * len(methods)]
    for s in sets:
        cells = []
        best_auc = max(res[m]["sets"][s]["roc_auc"] for m in methods)
        best_ap = max(res[m]["sets"][s]["average_precision"] for m in methods)
        for m in methods:
            r = res[m]["sets"][s]
            auc = f"**{r['roc_auc']:.3f}**" if r["roc_auc"] == best_auc else f"{r['roc_auc']:.3f}"
            ap = f"**{r['average_precision']:.3f}**" if r["average_precision"] == best_ap else \
                f"{r['average_precision']:.3f}"
            cells.append(f"{auc} / {ap}")
        rows = res[methods[0]]["sets"][s]
        size = f"{rows['rows']:,}" + ("*" if rows["rows"] < rows["rows_before_subsampling"] else "")
        lines.append(f"| {s} | {size} | " + " | ".join(cells) + " |")
    entry = summary["methods"]
    lines.append("| **mean (ADBench)** | | " + " | ".join(
        f"{entry[m]['mean_roc_auc']:.4f} / {entry[m]['mean_average_precision']:.4f}" for m in methods) + " |")
    lines.append("| **average rank (ADBench)** | | " + " | ".join(
        f"{entry[m]['average_rank_roc_auc']:.2f} / {entry[m]['average_rank_average_precision']:.2f}"
        for m in methods) + " |")
    lines.append("| sets won | | " + " | ".join(
        f"{entry[m]['wins_roc_auc']} / {entry[m]['wins_average_precision']}" for m in methods) + " |")
    lines.append("| mean fit seconds | | " + " | ".join(f"{entry[m]['mean_fit_seconds']:.1f}" for m in methods) + " |")
    if "recall_at_fpr_0.01" in res[methods[0]]["sets"].get(peers.CREDITCARD, {}):
        lines += ["", "| creditcard_dev | ROC-AUC | AP | AP at the ULB prevalence (0.172%) | recall at 0.1% FPR | "
                  "recall at 1% FPR |", "|---|---|---|---|---|---|"]
        for m in methods:
            r = res[m]["sets"][peers.CREDITCARD]
            lines.append(f"| {METHODS[m]} | {r['roc_auc']:.4f} | {r['average_precision']:.4f} | "
                         f"{r['ap_at_ulb_prevalence']:.4f} | {r['recall_at_fpr_0.001']:.3f} | "
                         f"{r['recall_at_fpr_0.01']:.3f} |")
        lines += ["", "| ADBench means | recall at 0.1% FPR | recall at 1% FPR |", "|---|---|---|"]
        for m in methods:
            e = entry[m]
            lines.append(f"| {METHODS[m]} | {e['mean_recall_at_fpr_0.001']:.3f} | {e['mean_recall_at_fpr_0.01']:.3f} |")
    ours = res.get("fraud_detector", {}).get("sets", {})
    if ours:
        lines += ["", "| set | normal test rows | nominal FPR | measured FPR (mean of seeds) | fit warned (level it "
                  "keeps) | within 2x |", "|---|---|---|---|---|---|"]
        for s, r in ours.items():
            ok = r["nominal_fpr"] / 2 <= r["measured_fpr"] <= 2 * r["nominal_fpr"]
            warned = r.get("warned", False)
            kept = f"yes ({r['promised_level']:.3f})" if warned else "no"
            lines.append(f"| {s} | {r['normal_test_rows']:,} | {r['nominal_fpr']:.3f} | {r['measured_fpr']:.4f} | "
                         f"{kept} | "
                         f"{'(warned)' if warned else 'yes' if ok else 'no'} |")
        lines += ["", "| variant | mean ROC-AUC | mean AP |", "|---|---|---|"]
        for name, r in summary["ablation"].items():
            lines.append(f"| {name} | {r['roc_auc']:.4f} | {r['average_precision']:.4f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", nargs="*", default=None, help="default: every ADBench set and creditcard_dev")
    p.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    p.add_argument("--params", default="{}", help="JSON of FraudDetector parameters (default: its defaults)")
    p.add_argument("--only", choices=("all", "detector", "peers"), default="all")
    p.add_argument("--max-rows", type=int, default=MAX_ROWS,
                   help=f"stratified subsample above this (default {MAX_ROWS})")
    p.add_argument("--workers", type=int, default=2, help="worker processes, one thread each (default 2)")
    p.add_argument("--out", default=str(harness.RESULTS / "fraud.json"))
    p.add_argument("--tables", action="store_true", help="print the README's tables from --out and stop")
    args = p.parse_args(argv)
    if args.tables:
        print(tables(json.loads(pathlib.Path(args.out).read_text())))
        return 0
    if not (peers.DATA / "adbench").is_dir():
        print(f"error: {peers.DATA / 'adbench'} not found (set KERAS_AE_BENCH_DATA to the folder holding adbench/ "
              "and creditcard_dev.csv)", file=sys.stderr)
        return 2
    sets = args.sets or [*peers.adbench_sets(), peers.CREDITCARD]
    params = json.loads(args.params)
    methods = ([] if args.only == "peers" else ["fraud_detector"])
    methods += [] if args.only == "detector" else list(peers.PEERS)
    run = harness.Run(__file__, sys.argv[1:] if argv is None else argv)
    results = evaluate(methods, sets, args.seeds, params, args.workers, args.max_rows, lambda s: print(s, flush=True))
    summary = summarise(results, sets)
    out = {"protocol": "stratified 60/40 split per seed; fit on the normal rows of the 60% part; score the 40% part",
           "seeds": args.seeds, "max_rows": args.max_rows,
           "subsampling": f"ADBench sets over {args.max_rows} rows: stratified subsample (seed 0) to {args.max_rows} "
                          "rows; creditcard_dev whole",
           "detector_params": params, "notebook_ae": peers.NOTEBOOK, "summary": summary, "results": results,
           "workers": args.workers}
    if "fraud_detector" in results and len(methods) > 1:
        out["target"] = verdict(summary, results)
    for m, entry in summary["methods"].items():
        print(f"{METHODS[m]:>24}: mean ROC-AUC {entry['mean_roc_auc']:.4f} (rank {entry['average_rank_roc_auc']:.2f})"
              f"  mean AP {entry['mean_average_precision']:.4f} (rank {entry['average_rank_average_precision']:.2f})")
    print(json.dumps({k: v for k, v in out.items() if k in ("target",)} | {"calibration": summary.get("calibration")}))
    harness.write_result(args.out, out, run.record())
    return 0


if __name__ == "__main__":
    sys.exit(main())
