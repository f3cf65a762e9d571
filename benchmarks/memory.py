"""Memory benchmark: peak RSS of the train command on an image folder, loaded into memory vs streamed.

Writes N small PNGs (the shipped MNIST sample digits, repeated) into a scratch folder, then runs
``scripts/train.py --dataset folder:PATH`` for one epoch of the conv autoencoder per size and mode:
loaded into memory, ``--stream``, and ``--stream --cache`` (decoded images kept after epoch 1).
Each run is a fresh process; its peak resident memory is read with getrusage from a parent that
runs nothing else. The folder is deleted at the end.

    nice python benchmarks/memory.py                          # 10k and 100k images -> results/memory.json
    nice python benchmarks/memory.py --sizes 100000 300000 --modes stream --append   # add runs to the file
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from keras_ae.io import write_json  # noqa: E402

# Runs the command given as arguments and prints its peak RSS in MiB (ru_maxrss is in KiB on Linux).
MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
           "print('PEAK_RSS_MIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code)")


def write_pngs(root: pathlib.Path, n: int) -> float:
    """n 28x28 grey PNGs in 10 class folders (the sample digits, repeated); returns the seconds taken."""
    from PIL import Image

    with np.load(REPO / "data" / "mnist_sample.npz") as data:
        images = np.concatenate([data["x_train"], data["x_test"]])
        labels = np.concatenate([data["y_train"], data["y_test"]])
    start = time.perf_counter()
    for digit in range(10):
        (root / str(digit)).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        j = i % len(images)
        Image.fromarray(images[j]).save(root / str(labels[j]) / f"{i:07d}.png", compress_level=1)
    return time.perf_counter() - start


MODES = {"in memory": {}, "stream": {"stream": True}, "stream --cache": {"stream": True, "cache": True}}


def run_train(root: pathlib.Path, mode: str, out: pathlib.Path, batch_size: int) -> dict:
    # A fresh interpreter per run (its own peak RSS) that calls the library's run_train.
    options = dict(arch="conv", dataset=f"folder:{root}", epochs=1, batch_size=batch_size, verbose=0, out=str(out),
                   **MODES[mode])
    cmd = [sys.executable, "-c", "import sys; from keras_ae.runs.train import TrainConfig, run_train; "
           f"run_train(TrainConfig(**{options!r}))"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    line = [x for x in proc.stdout.splitlines() if x.startswith("PEAK_RSS_MIB")][-1].split()
    if int(line[2]) != 0:
        raise RuntimeError(f"train failed: {proc.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"peak_rss_mib": round(float(line[1]), 1), "wall_seconds": round(seconds, 1),
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
        figure(json.loads(pathlib.Path(args.out).read_text())["runs"], args.figure)
        return

    root = pathlib.Path(args.root)
    rows = json.loads(pathlib.Path(args.out).read_text())["runs"] if args.append else []
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
                write_json(args.out, result_file(args, argv, rows))  # after every run: a partial file survives
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.figure:
        figure(rows, args.figure)


def result_file(args, argv, rows: list[dict]) -> dict:
    command = "python benchmarks/memory.py " + " ".join(argv if argv is not None else sys.argv[1:])
    previous = json.loads(pathlib.Path(args.out).read_text()) if args.append else {}
    commands = previous.get("commands", [previous["command"]] if "command" in previous else [])
    return {
        **{k: v for k, v in previous.items() if k not in ("command", "commands", "runs")},
        "commands": [*commands, command] if args.append and command not in commands else commands or [command],
        "what": "peak RSS of one 1-epoch conv training run on folder:PATH of 28x28 grey PNGs, in memory vs streamed",
        "machine": f"{os.cpu_count()} CPU cores, shared with 4 other engineers (times are noisy, memory is not)",
        "runs": rows,
    }


if __name__ == "__main__":
    main()
