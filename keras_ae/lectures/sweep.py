"""A sweep as a run: every configuration of a JSON grid trained with several seeds, summarised per configuration.

Writes results.csv (one row per run), summary.csv (mean and std per configuration), histories.csv (loss per
epoch per run), comparison.png and loss_curves.png. `keras-ae-experiment` is `run_sweep` behind argparse.
"""

from __future__ import annotations

import pathlib
import time
from collections.abc import Sequence

from keras_ae.errors import UsageError
from keras_ae.run_marker import unfinished_marker


def run_sweep(sweep, out: str | pathlib.Path, inputs: Sequence[str] = ()) -> pathlib.Path:
    """Train every configuration of `sweep` (from `experiment.parse_sweep`) and write the results into `out`, which
    may be none of what the sweep reads nor lie inside it: its `folder:` dataset and `inputs` (its config file)."""
    from keras_ae import outputs, training
    from keras_ae.data.registry import local_inputs

    out = pathlib.Path(out)
    outputs.check_output(out, "run", [*local_inputs(sweep.settings["dataset"]), *inputs])  # a file too: refused
    x_train, x_test = load_data(sweep.settings)  # before creating `out`: a bad dataset leaves nothing behind
    with unfinished_marker(out, "sweep"), training.global_state(seed=sweep.settings["seed"]):
        rows, histories = run_grid(sweep.settings, sweep.configs, x_train, x_test, out)
        write_results(out, sweep.settings, rows, histories)
    return out


def load_data(settings: dict):
    """(x_train, x_test) of the sweep's dataset, cut to train_size / test_size."""
    from keras_ae.runs.common import load_with_fallback  # offline: the fallback's note, or one line

    size = settings["image_size"]
    data = load_with_fallback(settings["dataset"], image_size=(size, size), channels=settings["channels"],
                              seed=settings["seed"])
    x_train, x_test = data.x_train[: settings["train_size"]], data.x_test[: settings["test_size"]]
    if len(x_train) < 2 or len(x_test) < 1:
        raise UsageError(f"dataset {settings['dataset']}: {len(x_train)} training and {len(x_test)} test image(s); "
                         "a sweep needs at least 2 and 1")
    return x_train, x_test


def run_grid(settings, configs, x_train, x_test, out: pathlib.Path | None = None):
    """Train every configuration `settings["n_runs"]` times; the rows so far are written to `out`/results.csv
    after each run, so a sweep that is stopped or fails keeps the runs it finished."""
    from keras_ae.lectures import experiment

    rows, histories = [], []
    total = len(configs) * settings["n_runs"]
    start = time.perf_counter()
    for i, config in enumerate(configs):
        for run in range(settings["n_runs"]):
            seed = settings["seed"] + run
            result, history = experiment.run_one(settings, config, x_train, x_test, seed)
            lr = config.learning_rate
            rows.append({"config": f"c{i:02d}", "label": config.label(),
                         "layers": "-".join(map(str, config.layers)), "activation": config.activation,
                         "initializer": config.initializer, "loss": config.loss,
                         "learning_rate": lr if not isinstance(lr, dict) else
                         f"exp({lr['initial']:g}, {lr['decay_rate']:g}, {lr['decay_epochs']})",
                         "latent_dim": config.latent_dim, "epochs": config.epochs, "seed": seed, **result})
            histories.append({"config": f"c{i:02d}", "seed": seed, **history})
            if out is not None:
                _write_csv(out / "results.csv", rows)
            done = len(rows)
            elapsed = time.perf_counter() - start
            print(f"[{done}/{total} runs, {total - done} left, about {elapsed / done * (total - done):.0f} s] "
                  f"c{i:02d} seed {seed}: {config.label()}  {settings['metric']} "
                  f"{result[settings['metric']]:.4g}  ({result['seconds']:.1f} s)", flush=True)
    return rows, histories


def write_results(out: pathlib.Path, settings: dict, rows: list[dict], histories: list[dict]) -> None:
    import numpy as np
    import pandas as pd

    from keras_ae import figures

    metric = settings["metric"]
    results = pd.DataFrame(rows)
    summary = (results.groupby(["config", "label"], sort=False)[metric].agg(["mean", "std", "count"])
               .reset_index().rename(columns={"mean": f"{metric}_mean", "std": f"{metric}_std",
                                              "count": "runs"}))
    summary[f"{metric}_std"] = summary[f"{metric}_std"].fillna(0.0)
    long = []
    for h in histories:
        for epoch, loss in enumerate(h["loss"], start=1):
            long.append({"config": h["config"], "seed": h["seed"], "epoch": epoch * settings["passes_per_epoch"],
                         "loss": loss, "val_loss": h.get("val_loss", [None] * epoch)[epoch - 1]})
    for frame, fname in ((results, "results.csv"), (summary, "summary.csv"), (pd.DataFrame(long),
                                                                               "histories.csv")):
        _write_csv(out / fname, frame)

    ordered = summary.sort_values(f"{metric}_mean")
    figures.mean_std_bars([f"{c}: {label}" for c, label in zip(ordered["config"], ordered["label"], strict=True)],
                        ordered[f"{metric}_mean"].to_numpy(), ordered[f"{metric}_std"].to_numpy(),
                        out / "comparison.png", xlabel=f"{metric} (mean +- std over {_seeds(settings['n_runs'])})",
                        title=f"{settings['arch']} on {settings['dataset']}: final {metric} per configuration")
    curves = {}
    for config, label in zip(summary["config"], summary["label"], strict=True):
        losses = [h["loss"] for h in histories if h["config"] == config]
        length = min(len(v) for v in losses)  # all equal unless epochs differ inside one config
        stacked = np.array([v[:length] for v in losses])
        curves[f"{config}: {label}"] = (stacked.mean(axis=0), stacked.std(axis=0))
    figures.overlaid_curves(curves, out / "loss_curves.png", ylabel="training loss",
                          title=f"Training loss per configuration (mean +- std over {_seeds(settings['n_runs'])})",
                          epoch_scale=settings["passes_per_epoch"])


def _write_csv(path: pathlib.Path, rows) -> None:
    """`rows` (a DataFrame, or a list of dicts) as a CSV file that appears whole."""
    import pandas as pd

    from keras_ae.io import atomic_path

    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"
