"""`keras-ae-experiment` / `scripts/experiment.py`: run a grid of configurations from a JSON sweep file.

Every configuration of the grid is trained `n_runs` times (seeds seed, seed+1, ...). Writes results.csv
(one row per run), summary.csv (mean and std per configuration), histories.csv (loss per epoch per run),
comparison.png (mean +- std of the chosen metric per configuration) and loss_curves.png (overlaid).
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, quiet_tensorflow, run_main


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-experiment", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="sweep file (JSON), see configs/*.json")
    p.add_argument("--out", default=None, help="output directory (default runs/experiment-<config name>)")
    p.add_argument("--dry-run", action="store_true", help="check the file and list the configurations only")
    return p


def load_data(settings: dict):
    """(x_train, x_test) of the sweep's dataset, cut to train_size / test_size."""
    from keras_ae.data import load_dataset

    size = settings["image_size"]
    data = load_dataset(settings["dataset"], image_size=(size, size), channels=settings["channels"],
                        seed=settings["seed"])
    return data.x_train[: settings["train_size"]], data.x_test[: settings["test_size"]]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from keras_ae import experiment
    from keras_ae.io import read_json

    sweep = experiment.parse_sweep(read_json(args.config, what="config file"), source=args.config)
    settings, configs = sweep.settings, sweep.configs
    runs = len(configs) * settings["n_runs"]
    print(f"{len(configs)} configuration(s) x {settings['n_runs']} seed(s) = {runs} run(s) "
          f"of {settings['arch']} on {settings['dataset']}")
    if args.dry_run:
        for i, config in enumerate(configs):
            print(f"  c{i:02d}  {config.label()}")
        return 0
    quiet_tensorflow()
    name = settings["name"] or pathlib.Path(args.config).stem
    out = pathlib.Path(args.out or f"runs/experiment-{name}")
    out.mkdir(parents=True, exist_ok=True)
    x_train, x_test = load_data(settings)
    rows, histories = run_grid(settings, configs, x_train, x_test)
    write_results(out, settings, rows, histories)
    print(f"-> {out}/results.csv, summary.csv, comparison.png, loss_curves.png")
    return 0


def run_grid(settings, configs, x_train, x_test):
    from keras_ae import experiment

    rows, histories = [], []
    total = len(configs) * settings["n_runs"]
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
            done = len(rows)
            print(f"[{done}/{total}] c{i:02d} seed {seed}: {config.label()}  {settings['metric']} "
                  f"{result[settings['metric']]:.4g}  ({result['seconds']:.1f} s)", flush=True)
    return rows, histories


def write_results(out: pathlib.Path, settings: dict, rows: list[dict], histories: list[dict]) -> None:
    import numpy as np
    import pandas as pd

    from keras_ae import plots
    from keras_ae.io import atomic_path

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
        with atomic_path(out / fname) as tmp:
            frame.to_csv(tmp, index=False)

    ordered = summary.sort_values(f"{metric}_mean")
    plots.mean_std_bars([f"{c}: {label}" for c, label in zip(ordered["config"], ordered["label"], strict=True)],
                        ordered[f"{metric}_mean"].to_numpy(), ordered[f"{metric}_std"].to_numpy(),
                        out / "comparison.png", xlabel=f"{metric} (mean +- std over {settings['n_runs']} seeds)",
                        title=f"{settings['arch']} on {settings['dataset']}: final {metric} per configuration")
    curves = {}
    for config, label in zip(summary["config"], summary["label"], strict=True):
        losses = [h["loss"] for h in histories if h["config"] == config]
        length = min(len(v) for v in losses)  # all equal unless epochs differ inside one config
        stacked = np.array([v[:length] for v in losses])
        curves[f"{config}: {label}"] = (stacked.mean(axis=0), stacked.std(axis=0))
    plots.overlaid_curves(curves, out / "loss_curves.png", ylabel="training loss",
                          title="Training loss per configuration (mean +- std over seeds)",
                          epoch_scale=settings["passes_per_epoch"])


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv)


if __name__ == "__main__":
    sys.exit(cli())

