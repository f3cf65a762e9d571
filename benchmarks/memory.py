"""Memory benchmark: peak RSS of the train command on an image folder, loaded into memory vs streamed.

Writes N small PNGs (the shipped MNIST sample digits, repeated) into a scratch folder, then runs
``scripts/train.py --dataset folder:PATH`` for one epoch of the conv autoencoder per size and mode:
loaded into memory, ``--stream``, and ``--stream --cache`` (decoded images kept after epoch 1).
Each run is a fresh process; its peak resident memory is read with getrusage from a small parent that
runs nothing else (`harness.run_with_peak`). The folder is deleted at the end.

    nice python benchmarks/memory.py                          # 10k and 100k images -> results/memory.json
    nice python benchmarks/memory.py --sizes 100000 300000 --modes stream --append   # add runs to the file
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import sys

import harness
import numpy as np


def write_pngs(root: pathlib.Path, n: int) -> float:
    """n 28x28 grey PNGs in 10 class folders (the sample digits, repeated); returns the seconds taken."""
    from PIL import Image

    with np.load(harness.ROOT / "data" / "mnist_sample.npz") as data:
        images = np.concatenate([data["x_train"], data["x_test"]])
        labels = np.concatenate([data["y_train"], data["y_test"]])
    with harness.Timer() as t:
        for digit in range(10):
            (root / str(digit)).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            j = i % len(images)
            Image.fromarray(images[j]).save(root / str(labels[j]) / f"{i:07d}.png", compress_level=1)
    return t.seconds


MODES = {"in memory": {}, "stream": {"stream": True}, "stream --cache": {"stream": True, "cache": True}}


def run_train(root: pathlib.Path, mode: str, out: pathlib.Path, batch_size: int) -> dict:
    # A fresh interpreter per run (its own peak RSS) that calls the library's run_train.
    options = dict(arch="conv", dataset=f"folder:{root}", epochs=1, batch_size=batch_size, verbose=0, out=str(out),
                   **MODES[mode])
    cmd = [sys.executable, "-c", "import sys; from keras_ae.runs.train import TrainConfig, run_train; "
           f"run_train(TrainConfig(**{options!r}))"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(harness.ROOT)}
    with harness.Timer() as t:
        proc, peak = harness.run_with_peak(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"train failed: {proc.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"peak_rss_mib": round(peak, 1), "wall_seconds": round(t.seconds, 1),
            "epoch_seconds": metrics["seconds"], "train_images": metrics["train_images"],
            "test_bce": round(metrics["test_bce"], 4)}


def figure(rows: list[dict], path: str) -> None:
    from keras_ae import figures

    fig, ax = figures.subplots(figsize=(6, 3.2))
    for mode, color in (("in memory", "#999999"), ("stream --cache", "#ff7f0e"), ("stream", "#1f77b4")):
        picked = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["images"])
        label = "folder:PATH loaded into memory" if mode == "in memory" else f"folder:PATH --{mode}"
        ax.plot([r["images"] for r in picked], [r["peak_rss_mib"] for r in picked], "o-", color=color, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("images in the folder (28x28 PNG)")
    ax.set_ylabel("peak RSS of the run (MiB)")
    ax.set_title("Memory of one training epoch: loaded vs streamed")
    ax.legend(fontsize=8)
    figures.save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--root", default="/tmp/keras_ae_memory_bench")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", default="benchmarks/results/memory.json")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--append", action="store_true", help="keep the other runs already in --out")
    parser.add_argument("--figure", default="docs/images/speed/memory.png")
    parser.add_argument("--figure-only", action="store_true", help="redraw the figure from --out")
    args = parser.parse_args(argv)
    if args.figure_only:
        figure(harness.read_result(args.out)["runs"], args.figure)
        return

    run = harness.Run(__file__, argv)
    root = pathlib.Path(args.root)
    previous = harness.read_result(args.out, {}) if args.append else {}  # with its run records
    rows = list(previous.get("runs", []))
    try:
        for n in args.sizes:
            shutil.rmtree(root, ignore_errors=True)
            write_seconds = write_pngs(root / "images", n)
            on_disk = sum(p.stat().st_size for p in (root / "images").rglob("*.png"))
            for k, mode in enumerate(args.modes):
                result = run_train(root / "images", mode, root / f"run-{k}", args.batch_size)
                rows = [r for r in rows if (r["images"], r["mode"]) != (n, mode)]
                rows.append({"images": n, "mode": mode,
                             "png_mib_on_disk": round(on_disk / 2**20, 1), "write_seconds": round(write_seconds, 1),
                             **result})
                print(rows[-1], flush=True)
                # after every run: a partial file survives
                harness.write_result(args.out, result_file(previous, rows), run.record())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.figure:
        figure(rows, args.figure)


def result_file(previous: dict, rows: list[dict]) -> dict:
    """The file's content: with --append, what the earlier file held (its runs, notes and run records) and `rows`."""
    return {
        **{k: v for k, v in previous.items() if k != "runs"},
        "what": "peak RSS of one 1-epoch conv training run on folder:PATH of 28x28 grey PNGs, in memory vs streamed",
        "runs": rows,
    }


if __name__ == "__main__":
    main()
