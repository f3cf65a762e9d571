"""The wall-clock times the README quotes for its example commands, measured by running them.

Each command runs as a user would type it (a fresh process, TensorFlow import included), one after the other,
alone on the machine; the load average before and after each is recorded. Writes
benchmarks/results/readme_timings.json.

    python benchmarks/readme_timings.py
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
COMMANDS = {
    "train conv denoiser (quick start)": ["scripts/train.py", "--arch", "conv", "--noise", "0.5", "--dataset",
                                          "mnist-sample"],
    "train 2-D VAE": ["scripts/train.py", "--arch", "vae", "--dataset", "mnist-sample"],
    "font exercise": ["scripts/font.py"],
    "fraud demo": ["scripts/fraud.py", "demo"],
}


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, args) in enumerate(COMMANDS.items()):
            out = pathlib.Path(tmp) / f"run{k}"
            load_before = os.getloadavg()
            start = time.perf_counter()
            done = subprocess.run([sys.executable, *args, "--out", str(out)], cwd=REPO, capture_output=True,
                                  text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
            seconds = time.perf_counter() - start
            if done.returncode:
                raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
            results.append({"name": name, "command": "python " + " ".join(args), "seconds": round(seconds, 1),
                            "load_average_before": [round(v, 2) for v in load_before],
                            "load_average_after": [round(v, 2) for v in os.getloadavg()],
                            "last_line": done.stdout.strip().splitlines()[-1]})
            print(f"{name}: {seconds:.1f} s  (load {load_before[0]:.2f})", flush=True)
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU used",
              "python": platform.python_version(), "commands": results}
    path = REPO / "benchmarks" / "results" / "readme_timings.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
