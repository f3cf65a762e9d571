"""Write the figure tables of README.md and docs/*.md from benchmarks/results/*.json.

    python tools/make_docs.py            # rewrite every <!-- table: NAME --> ... <!-- /table --> block
    python tools/make_docs.py --check    # exit 1 naming each page and table that is out of date, else 0
                                         # (2: a block names no known table, or its JSON lacks a figure)

A block's content is whatever the table function NAME (registered in TABLES) returns for the JSON it reads;
text outside the blocks is left alone. Plain Python and json only (tables: benchmarks/harness.py).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from harness import markdown_table as md  # noqa: E402  (the benchmarks' table printer)

BLOCK = re.compile(r"(<!-- table: ([\w-]+) -->\n)(.*?)(<!-- /table -->)", re.S)
TABLES = {}
METHODS = {"fraud_detector": "keras-ae FraudDetector", "knn": "kNN (k=5)", "isolation_forest": "IsolationForest",
           "pca": "PCA reconstruction", "notebook_ae": "notebook AE", "pyod_ae": "PyOD AutoEncoder"}
PEERS = [m for m in METHODS if m != "fraud_detector"]
CC = "creditcard_dev"


def table(name, *args):
    """Register fn(results, *args) as the table `name`."""
    def register(fn):
        TABLES[name] = lambda results: fn(results, *args)
        return fn
    return register


def f(x, d=3):
    """A number with d decimals and thousands separators; '-' for None."""
    return "-" if x is None else f"{x:,.{d}f}"


def bold(text, condition=True):
    return f"**{text}**" if condition else text


def bold_best(values, d):
    """Every value formatted with d decimals, in bold where it shows as the highest."""
    best = round(max(values), d)
    return [bold(f(v, d), round(v, d) == best) for v in values]


def pair(d, a, b, k=3):
    return f"{f(d[a], k)} / {f(d[b], k)}"


def command(run):
    return f"`{run['command'].split(' --out')[0]}`"


# ---------------------------------------------------------------- README
def seeds(n):
    return "one seed" if n == 1 else f"mean of {n} seeds"


def vae_summary(run):
    return (f"prior-sample distance ratio {f(run['prior_samples']['ratio'], 2)}; "
            f"{run['latent_factors']['one_to_one']['factors_tracked']} of 4 factors on an axis of their own, "
            f"MIG {f(run['latent_factors']['mig']['mig'], 2)}")


def _ahead(cc):
    """The peers ahead of the detector on the credit-card extract, by each measure, best first."""
    parts = []
    for key, name in (("average_precision", "AP"), ("roc_auc", "ROC-AUC")):
        ahead = sorted((k for k in PEERS if cc[k][key] > cc["fraud_detector"][key]), key=lambda k: -cc[k][key])
        if ahead:
            parts.append(f"by {name}: " + ", ".join(f"{METHODS[k]} {f(cc[k][key])}" for k in ahead))
    return "ahead " + "; ".join(parts) if parts else "no peer ahead"


@table("headline")
def headline(r):
    lec, pn, an = r("lecture"), r("pneumonia_defaults"), r("anomaly")["tasks"]["pneumonia0"]
    ls, naive = lec["summary"], next(x for x in an["rows"] if "naive" in x["method"])
    oc, q, sp, fs, sm, tp = (r(n) for n in ("one_class_all", "fraud_quick", "fraud_speed", "fraud_fit_scale",
                                            "smileys", "throughput"))
    ss = sm["seed_summary"]
    m, cc = q["summary"]["methods"], {k: v["sets"][CC] for k, v in q["results"].items()}
    peer = max(PEERS, key=lambda k: m[k]["mean_roc_auc"])
    test, nb, py = an["splits"]["test"], fs["peers"]["notebook_ae"], fs["peers"]["pyod_ae"]
    chunked, whole, tput = sp["results"]["chunked"], sp["results"]["naive"], tp["summary"]
    faster = sum(v["throughput"]["ratio_ours_to_slide"] >= 1 for v in tput.values())
    rows = [
        ["[Lecture builders](docs/training.md#the-five-lecture-autoencoders), conv",
         f"test BCE {f(ls['conv']['ours']['test_bce_mean'], 4)}",
         f"slide code {f(ls['conv']['slide']['test_bce_mean'], 4)}; keras-ae no worse on "
         f"{sum(v['ours_no_worse'] for v in ls.values())} of {len(ls)} builders",
         f"{seeds(len(lec['seeds']))}, {lec['epochs']} epochs on the shipped sample"],
        ["[Pneumonia X-rays, one-class](docs/images.md#pneumoniamnist-with-the-commands-defaults)",
         f"test ROC-AUC {f(pn['test']['roc_auc'])}, accuracy {f(pn['test']['accuracy'])}",
         f"slide conv AE {f(naive['test_roc_auc'])}; PCA {f(pn['baselines']['pca']['test_roc_auc'])}",
         f"one seed, official test split ({test['normal']} + {test['anomaly']})"],
        ["[Every MNIST digit as the normal class](docs/images.md#every-digit-as-the-normal-class)",
         f"mean ROC-AUC {f(oc['mean_roc_auc'], 4)} (score `{oc['score']}`)", f"PCA {f(oc['mean_pca_roc_auc'], 4)}",
         "; ".join([f"seed {oc['seeds'][0]['seed']}, shipped sample",
                    *(f"seed {s['seed']}: {f(s['mean_roc_auc'], 4)}" for s in oc["seeds"][1:])])],
        [f"[Fraud, {q['summary']['sets']} ADBench sets](docs/fraud.md#quality-against-five-peers)",
         f"mean ROC-AUC / AP {pair(m['fraud_detector'], 'mean_roc_auc', 'mean_average_precision', 4)}",
         f"best peer, {METHODS[peer]}: {pair(m[peer], 'mean_roc_auc', 'mean_average_precision', 4)}",
         f"{seeds(len(q['seeds']))}, sets capped at {f(q['max_rows'], 0)} rows"],
        ["[Fraud, credit-card extract](docs/fraud.md#quality-against-five-peers)",
         f"ROC-AUC / AP {pair(cc['fraud_detector'], 'roc_auc', 'average_precision')}",
         _ahead(cc),
         f"{seeds(len(q['seeds']))}, {f(cc['fraud_detector']['rows'], 0)} rows"],
        ["[Fraud, the autoencoder alone](docs/fraud.md#quality-against-five-peers) (`method=\"ae\"`)",
         f"ADBench mean {pair(q['summary']['ablation']['ae only'], 'roc_auc', 'average_precision', 4)}; "
         f"credit card {pair(cc['fraud_detector']['ablation']['ae only'], 'roc_auc', 'average_precision')}",
         f"PyOD AE {pair(m['pyod_ae'], 'mean_roc_auc', 'mean_average_precision', 4)}; "
         f"{pair(cc['pyod_ae'], 'roc_auc', 'average_precision')}. Notebook AE "
         f"{pair(m['notebook_ae'], 'mean_roc_auc', 'mean_average_precision', 4)}; "
         f"{pair(cc['notebook_ae'], 'roc_auc', 'average_precision')}",
         f"{seeds(len(q['seeds']))}, as above"],
        [f"[Fraud scoring, {f(sp['rows'], 0)}-row CSV](docs/speed.md#scoring-tables-of-any-size)",
         f"{f(chunked['rows_per_second'], 0)} rows/s, {f(chunked['peak_rss_mb'], 0)} MB peak",
         f"pandas, whole file: {f(whole['rows_per_second'], 0)} rows/s, {f(whole['peak_rss_mb'], 0)} MB",
         f"{sp['run']['machine']['cpu_count']} CPU cores"],
        [f"[Fraud fit, {f(fs['rows'], 0)} rows](docs/speed.md#fitting-the-fraud-detector-at-scale)",
         f"{f(fs['fraud_detector']['fit_seconds'], 0)} s",
         f"notebook AE about {f(nb['fit_seconds_extrapolated'], 0)} s, PyOD AE about "
         f"{f(py['fit_seconds_extrapolated'], 0)} s (extrapolated)", f"{fs['run']['machine']['cpu_count']} CPU cores"],
        ["[64x64 smileys VAE](docs/latent.md#64x64-rgb-vae-smileys-and-image-folders)",
         f"all 4 factors on axes of their own on {ss['seeds_with_every_factor']} of {len(ss['seeds'])} seeds; seeds "
         f"per factor: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                                    ss["factor_seeds_tracked"].items())
         + f"; median MIG {f(ss['median_mig'], 2)}; at most {f(ss['max_seconds'], 0)} s a seed"
         + f"; seed 0: {vae_summary(sm['preset'])}",
         f"keras-io conv VAE: {vae_summary(sm['keras_io'])}", "seeds 0-4; each seed in the page"
         + (f"; seeds {', '.join(map(str, ms['seeds']))}, run after the settings were chosen: all 4 factors on "
            f"{ms['seeds_with_every_factor']} of {len(ms['seeds'])}" if (ms := sm.get("more_seeds_summary")) else "")],
        ["[Training speed](docs/speed.md#throughput-against-the-slide-code)",
         f"faster in median images/s on {faster} of {len(tput)} builders"
         + "".join(f" ({arch}: {v['throughput']['ratio_ours_to_slide']:.2f}x)" for arch, v in tput.items()
                   if v["throughput"]["ratio_ours_to_slide"] < 1),
         "the slide code's `model.fit` on NumPy arrays",
         f"{tp['run']['machine']['cpu_count']}-core CPU, run alone; median of {tp['repeats']} interleaved repeats"],
    ]
    return md(["result", "keras-ae", "beside it", "measured"], rows, "llll")


# ---------------------------------------------------------------- training and lectures
LAYOUTS = {"dense": "784 -> Dense(32, relu) -> Dense(784, sigmoid)", "deep": "784-128-64-32-64-128-784",
           "conv": "Conv16-Pool-Conv8-Pool-Conv8-Pool / Conv8-Up-Conv8-Up-Conv16(valid)-Up-Conv1",
           "denoise": "Conv32-Pool-Conv32-Pool / Conv32-Up-Conv32-Up-Conv1, noisy -> clean",
           "vae": "784-512-(z_mean, z_log_var), Sampling, 2-512-784"}


@table("lecture")
def lecture(r):
    rows, behind = [], []
    for arch, v in r("lecture")["summary"].items():
        o, sl = v["ours"], v["slide"]
        rows.append([f"`{arch}`", f"`build_{arch}`", LAYOUTS.get(arch, ""), f(o["parameters"], 0),
                     f"{f(o['test_bce_mean'], 4)} ± {f(o['test_bce_std'], 4)}",
                     f"{f(sl['test_bce_mean'], 4)} ± {f(sl['test_bce_std'], 4)}"])
        if not v["ours_no_worse"]:
            behind.append(f"`{arch}` (by {f(o['test_bce_mean'] - sl['test_bce_mean'], 4)})")
    out = md(["`--arch`", "builder", "layout", "parameters", "test BCE, keras-ae", "test BCE, slide code"], rows,
             "lllrrr")
    return out + ("\nBehind the slide code: " + ", ".join(behind) + ".\n" if behind else "")


@table("readme_timings")
def readme_timings(r):
    return md(["command", "seconds"], [[f"`{c['command']}`", f(c["seconds"], 0)]
                                       for c in r("readme_timings")["commands"]])


@table("font_sweep")
def font_sweep(r):
    cells, lrs = {}, []
    for c in r("latent")["sweep_summary"]:  # labels read "25-10 z2 tanh glorot bce lr 0.003 1500ep"
        words, lr = c["label"].split(), c["label"].split(" lr ")[1].rsplit(" ", 1)[0]
        lrs += [lr] if lr not in lrs else []
        cells[(words[2], words[3]), lr] = c
    best = min(c["wrong_pixels_mean"] for c in cells.values())

    def cell(c):
        return bold(f"{f(c['wrong_pixels_mean'], 2)} ± {f(c['wrong_pixels_std'], 2)}", c["wrong_pixels_mean"] == best)

    heads = [re.sub(r"([\d.]+)x([\d.]+)/(\d+)ep", r"\1, x\2 every \3 epochs", lr) for lr in lrs]
    return md(["activation", "initialiser", *[f"lr {h}" for h in heads]],
              [[a, i, *[cell(cells[(a, i), lr]) for lr in lrs]] for a, i in dict.fromkeys(k for k, _ in cells)],
              "ll" + "r" * len(lrs))


# ---------------------------------------------------------------- images
AE, CN = "conv AE 32-32-16", "conv AE 32-32-16, contrast-normalised"
TEXTURE = "local texture energy, k nearest (texture, no autoencoder)"  # the method name benchmarks/anomaly.py writes
ANOMALY_ROWS = {
    "pneumonia0": {"PCA reconstruction error": "PCA reconstruction error (90% variance)",
                   TEXTURE: "local texture energy, `texture` (no autoencoder)",
                   "slide conv AE 16-8-8, MSE (naive)": "slide conv AE 16-8-8, MSE (the naive recipe)",
                   "conv VAE (latent 16), negative ELBO": "conv VAE, negative ELBO",
                   f"{AE}, raw, latent": "conv AE, raw pixels, latent",
                   f"{CN}, mse": "conv AE, contrast-normalised, MSE",
                   f"{CN}, ssim": "conv AE, contrast-normalised, SSIM",
                   f"{CN}, latent": "conv AE, contrast-normalised, latent",
                   f"{CN}, detail": "detail typicality alone (no autoencoder)",
                   f"{CN}, latent+detail": "conv AE, contrast-normalised, latent+detail",
                   f"{CN}, latent+detail, 3 seeds": "same, averaged over 3 seeds"},
    "mnist5": {"PCA reconstruction error": "PCA reconstruction error (90% variance)",
               TEXTURE: "local texture energy, `texture` (no autoencoder)",
               "slide conv AE 16-8-8, MSE (naive)": "slide conv AE 16-8-8, MSE",
               "conv VAE (latent 16), negative ELBO": "conv VAE, negative ELBO",
               f"{AE}, raw, latent+mse+detail": "conv AE, raw pixels, latent+mse+detail",
               f"{CN}, ssim": "conv AE, contrast-normalised, SSIM",
               f"{CN}, latent+detail": "conv AE, contrast-normalised, latent+detail",
               f"{CN}, latent+mse+detail": "conv AE, contrast-normalised, latent+mse+detail"},
}


def anomaly_table(r, task):
    t, rows = r("anomaly")["tasks"][task], []
    if t["selected_by_validation"] not in ANOMALY_ROWS[task]:
        raise SystemExit(f"anomaly.json: the method selected on validation for {task}, "
                         f"{t['selected_by_validation']!r}, has no row in ANOMALY_ROWS: add it")
    for x in t["rows"]:
        if x["method"] in ANOMALY_ROWS[task]:
            sel = x["method"] == t["selected_by_validation"]
            label = ANOMALY_ROWS[task][x["method"]] + (" (selected on validation)" if sel else "")
            cells = [f(x[k]) for k in ("val_roc_auc", "test_roc_auc", "test_average_precision", "test_accuracy")]
            rows.append([bold(c, sel) for c in (label, *cells)])
    return md(["method", "validation ROC-AUC", "test ROC-AUC", "test AP", "test accuracy"], rows)


for _task in ANOMALY_ROWS:
    table(f"anomaly_{_task}", _task)(anomaly_table)


@table("pneumonia_defaults")
def pneumonia_defaults(r):
    p = r("pneumonia_defaults")
    t, c = p["test"], p["test"]["confusion_matrix"]
    top = md(["score, threshold", "test ROC-AUC", "test AP", "test accuracy (= balanced)", "confusion (TN FP FN TP)",
              "validation ROC-AUC", "PCA test ROC-AUC"],
             [[f"`{p['score']}`, `{p['threshold_rule']}`", f(t["roc_auc"]), f(t["average_precision"]),
               f(t["accuracy"]), f"{c['tn']} {c['fp']} {c['fn']} {c['tp']}", f(p["validation"]["roc_auc"]),
               f(p["baselines"]["pca"]["test_roc_auc"])]])
    rules = md(["threshold rule (set on validation)", "test accuracy"],
               [[f"`{k}`", f(v)] for k, v in p["test_accuracy_by_threshold_rule"].items()])
    return top + "\n" + rules


def candidate_rows(rows, default, chosen, d=4, extra=lambda c: []):
    """Candidate scores, best validation first: validation ROC-AUC +- its standard error, test ROC-AUC, `extra`."""
    def name(c):
        marks = [m for m, on in (("the default", c["score"] == default), ("chosen", c["score"] == chosen)) if on]
        return f"`{c['score']}`" + (f" ({', '.join(marks)})" if marks else "")
    return [[name(c), f"{f(c['validation_roc_auc'], d)} ± {f(c['validation_se'], d)}", f(c["test_roc_auc"], d),
             *extra(c)] for c in sorted(rows, key=lambda c: -c["validation_roc_auc"])]


@table("pneumonia_candidates")
def pneumonia_candidates(r):
    p = r("pneumonia_defaults")
    return md(["score (one seed)", "validation ROC-AUC ± SE", "test ROC-AUC"],
              candidate_rows(p["candidates"], p["score"], p["chosen_score"], 3))


@table("one_class_all")
def one_class_all(r):
    o = r("one_class_all")
    rows = [[c["normal"], *[f(c[k], 4) for k in ("roc_auc", "average_precision", "pca_roc_auc",
                                                 "pca_average_precision")],
             f"{c['roc_auc_minus_pca']:+.4f}", f(c["accuracy"])] for c in o["classes"]]
    rows.append(["**mean**", bold(f(o["mean_roc_auc"], 4)), bold(f(o["mean_average_precision"], 4)),
                 f(o["mean_pca_roc_auc"], 4), f(o["mean_pca_average_precision"], 4), "", f(o["mean_accuracy"])])
    return md(["normal digit", "ROC-AUC", "AP", "PCA ROC-AUC", "PCA AP", "ROC-AUC - PCA", "accuracy"], rows)


@table("one_class_candidates")
def one_class_candidates(r):
    o = r("one_class_all")
    c = o["candidates"]
    rows = candidate_rows(c["summary"], o["score"], c["chosen"],
                          extra=lambda x: [f"{x['runs_below_pca']} of {x['runs']}"])
    seeds_row = md(["seed", "mean test ROC-AUC", "PCA", "digits below PCA (ROC-AUC, PCA)", "seconds"],
                   [[s["seed"], f(s["mean_roc_auc"], 4), f(s["mean_pca_roc_auc"], 4),
                     ", ".join(f"{d['normal']} ({f(d['roc_auc'], 4)}, {f(d['pca_roc_auc'], 4)})"
                               for d in s["classes"] if d["roc_auc_minus_pca"] < 0) or "none", f(s["seconds"], 0)]
                    for s in o["seeds"]])
    return md([f"score (mean over {len(o['classes'])} digits x {len(o['seeds'])} seeds)", "validation ROC-AUC ± SE",
               "test ROC-AUC", "runs below PCA on test"], rows) + "\n" + seeds_row


# ---------------------------------------------------------------- fraud
@table("fraud_summary", "fraud_quick")
@table("fraud_full_summary", "fraud")
def fraud_summary(r, name):
    q = r(name)
    res, s = q["results"], q["summary"]["methods"]
    cc = [res[m]["sets"][CC] for m in METHODS]
    roc, ap = bold_best([c["roc_auc"] for c in cc], 3), bold_best([c["average_precision"] for c in cc], 3)
    rows = [[f"{CC} ({f(cc[0]['rows'], 0)} rows)", *[f"{a} / {b}" for a, b in zip(roc, ap)]],
            ["**mean (ADBench)**", *[pair(s[m], "mean_roc_auc", "mean_average_precision", 4) for m in METHODS]],
            ["**average rank (ADBench)**",
             *[pair(s[m], "average_rank_roc_auc", "average_rank_average_precision", 2) for m in METHODS]],
            ["sets won (ADBench)", *[f"{s[m]['wins_roc_auc']} / {s[m]['wins_average_precision']}" for m in METHODS]],
            ["mean fit seconds", *[f(s[m]["mean_fit_seconds"], 1) for m in METHODS]]]
    return md(["ROC-AUC / AP", *METHODS.values()], rows)


@table("fraud_team")
def fraud_team(r):
    q = r("fraud_quick")
    cc, s = {m: q["results"][m]["sets"][CC] for m in METHODS}, q["summary"]["methods"]
    a = md([CC, "ROC-AUC", "AP", "AP at the full file's prevalence (0.172%)", "recall at 0.1% FPR", "recall at 1% FPR"],
           [[n, f(cc[m]["roc_auc"], 4), f(cc[m]["average_precision"], 4), f(cc[m]["ap_at_ulb_prevalence"], 4),
             f(cc[m]["recall_at_fpr_0.001"]), f(cc[m]["recall_at_fpr_0.01"])] for m, n in METHODS.items()])
    b = md(["ADBench means", "recall at 0.1% FPR", "recall at 1% FPR"],
           [[n, f(s[m]["mean_recall_at_fpr_0.001"]), f(s[m]["mean_recall_at_fpr_0.01"])] for m, n in METHODS.items()])
    return a + "\n" + b


@table("fraud_ahead")
def fraud_ahead(r):
    """Every set where a peer beats the detector by more than 0.01 ROC-AUC, and the credit-card set by AP."""
    res, rows = r("fraud_quick")["results"], []
    for s, ours in res["fraud_detector"]["sets"].items():
        for key, label, margin in (("roc_auc", "ROC-AUC", 0.01), ("average_precision", "AP", 0.0)):
            ahead = sorted(((res[m]["sets"][s][key], METHODS[m]) for m in PEERS
                            if res[m]["sets"][s][key] > ours[key] + margin), reverse=True)
            if ahead and (key == "roc_auc" or s == CC):
                rows.append([s, label, f(ours[key]), ", ".join(f"{n} {f(v)}" for v, n in ahead)])
    return md(["set", "by", "keras-ae", "peers ahead"], rows, "llrl")


@table("fraud_ablation")
def fraud_ablation(r):
    return md(["variant (ADBench means)", "ROC-AUC", "AP"],
              [[k, f(v["roc_auc"], 4), f(v["average_precision"], 4)]
               for k, v in r("fraud_quick")["summary"]["ablation"].items()])


@table("fraud_calibration")
def fraud_calibration(r):
    q = r("fraud_quick")
    c, sets, rows = q["summary"]["calibration"], q["results"]["fraud_detector"]["sets"], []
    for s, v in sets.items():
        within = "yes" if v["nominal_fpr"] / 2 <= v["measured_fpr"] <= 2 * v["nominal_fpr"] else "no"
        rows.append([s, f(v["normal_test_rows"], 0), f(v["nominal_fpr"]), f(v["measured_fpr"], 4),
                     f"yes ({f(v['promised_level'])})" if v["warned"] else "no", "(warned)" if v["warned"] else within])
    side = {s: "below" if sets[s]["measured_fpr"] < sets[s]["nominal_fpr"] else "above" for s in c["outside"]}
    outside = [f"{s} {f(sets[s]['measured_fpr'], 4)} ({side[s]})" for s in c["outside"]]
    head = (f"Where `fit` did not warn: {c['within_factor_2']} of {c['sets_without_warning']} sets within a factor "
            f"of 2 of the nominal rate; outside it: {', '.join(outside) or 'none'}.\n\n")
    return head + md(["set", "normal test rows", "nominal FPR", "measured FPR", "fit warned (level it keeps)",
                      "within 2x"], rows, "lrrrll")


@table("fraud_sets")
def fraud_sets(r):
    res, rows = r("fraud_quick")["results"], []
    for s, v in res["fraud_detector"]["sets"].items():
        roc = bold_best([res[m]["sets"][s]["roc_auc"] for m in METHODS], 3)
        ap = bold_best([res[m]["sets"][s]["average_precision"] for m in METHODS], 3)
        n = f(v["rows"], 0) + ("*" if v["rows"] < v["rows_before_subsampling"] else "")
        rows.append([s, n, *[f"{a} / {b}" for a, b in zip(roc, ap)]])
    return md(["set", "rows", *METHODS.values()], rows)


# ---------------------------------------------------------------- speed and scale
@table("fraud_fit_scale")
def fraud_fit_scale(r):
    s = r("fraud_fit_scale")
    d, p = s["fraud_detector"], s["peers"]
    rows = [[f"keras-ae FraudDetector ({d['epochs_run']} epochs, batch {d['batch_size']}, {d['members']} members)",
             f(d["fit_seconds"], 1), f(d["score_seconds_10000_rows"], 2)]]
    rows += [[METHODS[k], f(p[k]["fit_seconds"], 1), f(p[k]["score_seconds_10000_rows"], 2)]
             for k in ("knn", "isolation_forest", "pca")]
    rows += [[f"{METHODS[k]} ({f(p[k]['seconds_per_epoch'], 1)} s an epoch; epochs: {p[k]['epoch_budget']})",
              f"{f(p[k]['fit_seconds_extrapolated'], 0)} (extrapolated)", "-"] for k in ("notebook_ae", "pyod_ae")]
    return md([f"{f(s['rows'], 0)} synthetic rows", "fit seconds", "seconds to score 10,000 rows"], rows)


@table("fraud_speed")
def fraud_speed(r):
    s = r("fraud_speed")
    label = {"chunked": "`score` (chunks of 20,000 rows, every cell checked, `p_value` added)",
             "naive": "naive: `pd.read_csv` of the whole file, the same score, `to_csv`"}
    return md([f"{f(s['rows'], 0)}-row CSV ({s['input_gb']} GB)", "seconds", "rows/s", "peak memory",
               "TensorFlow imported"],
              [[label[k], f(v["seconds"], 0), f(v["rows_per_second"], 0), f"{f(v['peak_rss_mb'], 0)} MB",
                "yes" if v["tensorflow_imported"] else "no"] for k, v in s["results"].items()])


@table("fraud_spark")
def fraud_spark(r):
    s = r("fraud_spark")
    one = "one process (`score --input x.parquet --out y.parquet`)"
    out = md([f"{f(s['rows'], 0)}-row Parquet ({f(s['input_mb'], 0)} MB)", "scoring seconds", "rows/s",
              "session start", "peak memory (process tree)"],
             [[one if x["kind"] == "one process" else f"Spark `{x['kind']}`", f(x["scoring_seconds"], 0),
               f(x["rows_per_second"], 0),
               f"{f(x['session_start_seconds'], 0)} s" if x["session_start_seconds"] else "-",
               f"{f(x['peak_rss_mb_process_tree'], 0)} MB"] for x in s["results"]])
    return out + f"\nSpark `local[2]` over `local[1]`: {s['spark_scaling_local2_over_local1']:.2f}x.\n"


@table("throughput")
def throughput(r):
    rows = []
    for arch, v in r("throughput")["summary"].items():
        t, g = v["throughput"], v["time_to_target"]
        ours = (f"{f(g['ours_seconds'], 1)} s ({g['ours_epochs'][0]} epochs)" if g["ours_reached"]
                else f"not reached in {g['ours_epochs'][0]} epochs")
        rows.append([arch, v["batch_size"], f(t["images_per_second"]["slide"], 0), f(t["images_per_second"]["ours"], 0),
                     f"{t['ratio_ours_to_slide']:.2f}x", f"{t['best_epoch_ratio_ours_to_slide']:.2f}x",
                     f"{f(g['slide_seconds'], 1)} s", ours, f"{g['speedup']:.2f}x" if g["speedup"] else "-"])
    run = r("throughput")["run"]
    tail = (f"\nMeasured alone on {run['machine']['cpu_count']} CPU cores (load average "
            f"{run['load_average_before'][0]:.2f} before, {run['load_average_after'][0]:.2f} after), "
            f"{run['wall_seconds'] / 60:.0f} minutes.\n")
    return md(["arch", "batch", "slide images/s", "keras-ae images/s", "ratio (median)", "ratio (best epoch)",
               "slide, 10 epochs", "keras-ae to the same test loss", "speed-up"], rows) + tail


@table("memory")
def memory(r):
    runs = {(x["images"], x["mode"]): x for x in r("memory")["runs"]}
    sizes = sorted({n for n, _ in runs})
    disk = {n: x["png_mib_on_disk"] for (n, _), x in runs.items()}
    return md(["images (28x28 PNG)", "PNGs on disk", "peak RSS: in memory", "`--stream --cache`", "`--stream`"],
              [[f(n, 0), f"{f(disk[n], 1)} MiB",
                *[f"{f(runs[n, m]['peak_rss_mib'], 0)} MiB" if (n, m) in runs else "-"
                  for m in ("in memory", "stream --cache", "stream")]] for n in sizes])


@table("layout")
def layout(r):
    j = r("layout")
    s = j["search"]

    def cell(v):
        return v if isinstance(v, str) else f"{f(v['seconds'])} s, {f(v['peak_mib'], 1)} MiB peak"

    a = md(["best-threshold search", *[f"n = {f(int(n), 0)}" for n in s]],
           [[label, *[cell(s[n][k]) for n in s]] for k, label in
            (("sorted_cumulative", "sorted counts, O(n log n)"), ("candidates_x_n_matrix", "candidates x n matrix"))])
    b = md(["command", *j["help_seconds"]],
           [["`--help` wall time (s, median of 5)", *[f(v, 2) for v in j["help_seconds"].values()]]])
    return a + "\n" + b


# ---------------------------------------------------------------- latent space
@table("font_epochs")
def font_epochs(r):
    j = r("latent")
    e, w = j["font_epochs"], j["font_run"]["wrong_pixels"]
    off = [k if k.isalnum() else f"`` {k} ``" for k, v in w.items() if v]
    tail = (f"\nThe `scripts/font.py` run (seed 0, {f(j['font_run']['epochs_needed'], 0)} epochs): "
            f"{sum(v == 0 for v in w.values())} of {len(w)} characters exact; "
            f"wrong pixels left in {', '.join(off) or 'none'} (at most {max(w.values())} each).\n")
    return md(["", *[f"seed {x['seed']}" for x in e]],
              [["epochs until every character has <= 1 wrong pixel", *[f(x["epochs_needed"], 0) for x in e]],
               ["wrong pixels left (sum over the 32 characters)", *[x["total_wrong"] for x in e]],
               ["seconds", *[f(x["seconds"], 0) for x in e]]]) + tail


@table("font_denoise")
def font_denoise(r):
    return md(["salt-and-pepper", "wrong pixels in the noisy input", "wrong pixels after the denoiser",
               "wrong pixels removed", "characters with <= 1 wrong"],
              [[f"{float(k):.0%}", f(v["mean_input_wrong"], 2), f(v["mean_output_wrong"], 2),
                f"{1 - v['mean_output_wrong'] / v['mean_input_wrong']:.0%}",
                f"{v['characters_within_max_wrong']} of {len(v['output_wrong_pixels'])}"]
               for k, v in r("latent")["denoise"].items()])


@table("smileys_preset", "preset")
def smileys_factors(r, key):
    s = r("smileys")[key]
    lf, use = s["latent_factors"], s["latent_usage"]
    matched = {v["dim"]: k for k, v in lf["one_to_one"]["dims"].items()}
    rows = [[f"z[{i}]", *[bold(f(c, 2), matched.get(i) == lf["factors"][j]) for j, c in enumerate(row)],
             f(use["kl_per_dim"][i], 2), "yes" if use["active"][i] else "no"]
            for i, row in enumerate(lf["abs_correlation"])]
    head = (f"{command(s)}: {f(s['seconds'], 0)} s, test BCE {f(s['test_bce'])}, MSE {f(s['test_mse'], 4)}, "
            f"{f(s['parameters'], 0)} parameters\n\n")
    return head + md(["", *lf["factors"], "KL (nats)", "active"], rows)


@table("smileys_seeds")
def smileys_seeds(r):
    s = r("smileys")
    seeds = [(f"seed {s[k]['options']['seed']}", s[k]) for k in
             ("preset", "preset_seed1", "preset_seed2", "preset_seed3", "preset_seed4") if k in s]
    runs = [*seeds, ("single faces, `--no-pairs` (seed 0)", s["no_pairs"]),
            ("keras-io layout, 4 dimensions (seed 0)", s["keras_io"])]
    factors = s["preset"]["latent_factors"]["factors"]

    return seed_table(runs, factors)


def seed_table(runs, factors):
    """One row per smileys run (name, entry): each factor's matched dimension and |r|, MIG, usage, prior, time."""
    def cell(d):
        return bold(f"{f(d['abs_r'], 2)} (z[{d['dim']}])", d["abs_r"] >= 0.8)

    def mig(x):
        return f(x["latent_factors"]["mig"]["mig"], 2) if "mig" in x["latent_factors"] else "-"

    rows = [[n, *[cell(x["latent_factors"]["one_to_one"]["dims"][k]) for k in factors],
             x["latent_factors"]["one_to_one"]["factors_tracked"], mig(x), x["latent_usage"]["active_dims"],
             f(x["prior_samples"]["ratio"], 2), f(x["seconds"], 0)] for n, x in runs]
    return md(["run", *factors, "factors with \\|r\\| >= 0.8", "MIG", "dimensions used",
               "prior samples / reconstructions, distance to nearest training face", "seconds"], rows)


@table("smileys_more_seeds")
def smileys_more_seeds(r):
    s = r("smileys")
    m = s["more_seeds_summary"]
    runs = [(f"seed {seed}", s[f"preset_seed{seed}"]) for seed in m["seeds"]]
    return (seed_table(runs, s["preset"]["latent_factors"]["factors"])
            + f"\nOver these {len(m['seeds'])} seeds: all four factors on axes of their own on "
              f"{m['seeds_with_every_factor']}; per factor "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m["factor_seeds_tracked"].items())
            + f"; median MIG {f(m['median_mig'], 2)}; at most {f(m['max_seconds'], 0)} s a seed.\n")


@table("smileys_summary")
def smileys_summary(r):
    s = r("smileys")["seed_summary"]
    factors = list(s["factor_seeds_tracked"])
    return md(["over the preset's seeds", *factors, "MIG"],
              [[f"seeds with \\|r\\| >= 0.8 on a dimension of its own (of {len(s['seeds'])})",
                *[s["factor_seeds_tracked"][k] for k in factors], ""],
               ["median \\|r\\|", *[f(s["median_abs_r"][k], 2) for k in factors], f(s["median_mig"], 2)]])


@table("mnist_vae")
def mnist_vae(r):
    s = r("smileys")
    return md(["dense 2-D VAE on mnist-sample", "test BCE", "KL per dimension (nats)",
               "prior / reconstruction distance", "seconds"],
              [[command(x), f(x["test_bce"], 4), ", ".join(f(k, 2) for k in x["latent_usage"]["kl_per_dim"]),
                f(x["prior_samples"]["ratio"], 2), f(x["seconds"], 0)]
               for x in (s["mnist_vae"], s["mnist_vae_warmup"])])


# ---------------------------------------------------------------- the command
def render(text, results):
    """(text with every block regenerated, names of the blocks whose content changed)."""
    changed = []

    def fill(m):
        name = m.group(2)
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
        try:
            new = TABLES[name](results)
        except (KeyError, IndexError, TypeError, ValueError, StopIteration, OSError) as e:
            raise ValueError(f"table {name}: {type(e).__name__}: {e}") from e
        if new != m.group(3):
            changed.append(name)
        return m.group(1) + new + m.group(4)

    return BLOCK.sub(fill, text), changed


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table is out of date")
    p.add_argument("--results", type=pathlib.Path, default=ROOT / "benchmarks" / "results",
                   help="folder of the benchmark JSON (default benchmarks/results)")
    p.add_argument("--root", type=pathlib.Path, default=ROOT, help="folder holding README.md and docs/")
    args = p.parse_args(argv)
    cache = {}

    def results(name):
        if name not in cache:
            cache[name] = json.loads((args.results / f"{name}.json").read_text())
        return cache[name]

    stale = []
    for page in [p for p in [args.root / "README.md", *sorted((args.root / "docs").glob("*.md"))] if p.exists()]:
        name, text = page.relative_to(args.root), page.read_text()
        try:
            if text.count("<!-- table:") != text.count("<!-- /table -->"):
                raise ValueError("unmatched table markers")
            new, changed = render(text, results)
        except ValueError as e:
            print(f"error: {name}: {e}", file=sys.stderr)
            return 2
        stale += [f"{name}: table {t}" for t in changed]
        if changed and not args.check:
            page.write_text(new)
    for s in stale:
        print(f"{s} {'is out of date' if args.check else 'rewritten'}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
