"""Every class as the normal one, in one run: ``anomaly.py --normal all``.

For each label of the dataset a one-class run (the same options for all) goes into ``<out>/normal-<label>/``;
the run directory also holds ``summary.csv`` (one row per class: ROC-AUC and AP of the score, of PCA
reconstruction error on the same split, their difference), ``per_class.png`` and ``metrics.json`` (the
table, the means, the options) written last.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

from keras_ae.errors import UsageError
from keras_ae.runs.common import load_with_fallback, options_of, run_directory, unfinished_marker
from keras_ae.runs.one_class import OneClassConfig


@dataclasses.dataclass
class AllClassesResult:
    run_dir: pathlib.Path
    metrics: dict[str, Any]
    rows: list[dict]


def class_labels(data) -> list[int]:
    import numpy as np

    return sorted(int(v) for v in np.unique(np.concatenate([np.asarray(data.y_train).reshape(-1),
                                                            np.asarray(data.y_test).reshape(-1)])))


def run_all_classes(config: OneClassConfig) -> AllClassesResult:
    """`config` with every label of its dataset as the normal class in turn (`config.normal` is ignored)."""
    import time

    from keras_ae import training
    from keras_ae.io import write_json
    from keras_ae.runs import one_class

    config.check()
    run_dir = run_directory(config.out, f"anomaly-{config.dataset}-all")
    data = load_with_fallback(config.dataset, path=config.data_path)
    labels = class_labels(data)
    singles = [dataclasses.replace(config, normal=label, out=str(run_dir / f"normal-{label}"), verbose=0).resolved()
               for label in labels]
    for single in singles:  # every class's images and score options checked before the first class trains
        one_class.checked_splits(single, data)
        _check_class_folder(pathlib.Path(single.out), single.normal, run_dir)
    rows = []
    start = time.perf_counter()
    with unfinished_marker(run_dir, "one-class, every class"):
        print(f"run directory: {run_dir} ({len(labels)} classes)")
        for k, (label, single) in enumerate(zip(labels, singles)):
            with training.global_state(seed=single.seed):
                result = one_class._run(single, data=data)
            rows.append(row_of(label, result.metrics))
            elapsed = time.perf_counter() - start
            r = rows[-1]
            print(f"[{k + 1}/{len(labels)} classes, about {elapsed / (k + 1) * (len(labels) - k - 1):.0f} s left] "
                  f"normal {label}: ROC-AUC {r['roc_auc']:.4f} (PCA {r['pca_roc_auc']:.4f}, "
                  f"{r['roc_auc_minus_pca']:+.4f})  AP {r['average_precision']:.4f}  accuracy {r['accuracy']:.3f}",
                  flush=True)
        metrics = summary(rows)
        metrics.update(dataset=data.info, options={**options_of(config), "normal": "all"},
                       seconds=round(time.perf_counter() - start, 1))
        score = config.resolved().score
        metrics["score"] = score
        write_tables(run_dir, rows, metrics, title=f"{score} score, {config.arch} on {config.dataset}")
        write_json(run_dir / "metrics.json", metrics)  # last: its presence marks a finished run
    return AllClassesResult(run_dir, metrics, rows)


def _check_class_folder(folder: pathlib.Path, label, run_dir: pathlib.Path) -> None:
    """A UsageError, before any class trains, when the folder a class's run goes into is something else than a
    class run the earlier run of `run_dir` made (as it lists them): a folder of yours, a file, a link, the run of
    another command, a one-class run of yours."""
    from keras_ae.outputs import is_run_dir
    from keras_ae.run_dirs import check_run_kind, listed

    if not (folder.exists() or folder.is_symlink()):
        return
    made = listed(run_dir)
    thing = "a symbolic link" if folder.is_symlink() else "a file" if not folder.is_dir() else \
        "a folder that is not a keras-ae run" if not is_run_dir(folder) else \
        "a run that --normal all did not make" if made is not None and folder.name not in made else None
    if thing is not None:
        raise UsageError(f"{folder} is {thing}, where --normal all writes the run of class {label}; move it away or "
                         "name another --out (nothing was changed)")
    check_run_kind(folder, "one-class")


def row_of(label: int, metrics: dict) -> dict:
    test, pca = metrics["test"], metrics["baselines"]["pca"]
    return {"normal": label, "roc_auc": test["roc_auc"], "average_precision": test["average_precision"],
            "accuracy": test["accuracy"], "validation_roc_auc": metrics["validation"]["roc_auc"],
            "pca_roc_auc": pca["test_roc_auc"], "pca_average_precision": pca["test_average_precision"],
            "roc_auc_minus_pca": test["roc_auc"] - pca["test_roc_auc"]}


def summary(rows: list[dict]) -> dict:
    """Means over the classes, the class furthest below PCA, and the rows themselves."""
    import numpy as np

    def mean(key):
        return float(np.mean([r[key] for r in rows]))

    worst = min(rows, key=lambda r: r["roc_auc_minus_pca"])
    return {"classes": rows, "mean_roc_auc": mean("roc_auc"), "mean_average_precision": mean("average_precision"),
            "mean_accuracy": mean("accuracy"), "mean_pca_roc_auc": mean("pca_roc_auc"),
            "mean_pca_average_precision": mean("pca_average_precision"),
            "largest_shortfall_to_pca": {"normal": worst["normal"], "roc_auc_minus_pca": worst["roc_auc_minus_pca"]},
            "classes_below_pca": [r["normal"] for r in rows if r["roc_auc_minus_pca"] < 0]}


def write_tables(run_dir: pathlib.Path, rows: list[dict], metrics: dict, title: str) -> None:
    import numpy as np
    import pandas as pd

    from keras_ae import figures
    from keras_ae.io import atomic_path

    frame = pd.DataFrame(rows)
    with atomic_path(run_dir / "summary.csv") as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")  # 0.9995, not 0.9994999999999999
    figures.grouped_bars([str(r["normal"]) for r in rows],
                         {metrics["score"]: [r["roc_auc"] for r in rows], "PCA": [r["pca_roc_auc"] for r in rows]},
                         run_dir / "per_class.png", ylabel="test ROC-AUC", xlabel="normal class", legend="below",
                         ylim=(max(0.0, np.floor(10 * min(frame[["roc_auc", "pca_roc_auc"]].min()) - 0.5) / 10), 1.0),
                         title=f"{title}: mean {metrics['mean_roc_auc']:.3f} (PCA {metrics['mean_pca_roc_auc']:.3f})")
