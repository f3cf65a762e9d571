"""The wall-clock times the README quotes for its example commands, measured by running them.

Each command runs as a user would type it (a fresh process, TensorFlow import included), one after the other,
alone on the machine; the load average before and after each is recorded. Writes
benchmarks/results/readme_timings.json.

    python benchmarks/readme_timings.py
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

import harness

COMMANDS = {
    "train conv denoiser (quick start)": ["scripts/train.py", "--arch", "conv", "--noise", "0.5", "--dataset",
                                          "mnist-sample"],
    "train 2-D VAE": ["scripts/train.py", "--arch", "vae", "--dataset", "mnist-sample"],
    "font exercise": ["scripts/font.py"],
    "fraud demo": ["scripts/fraud.py", "demo"],
}


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # no options: --help only
    run = harness.Run(__file__, argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, args) in enumerate(COMMANDS.items()):
            out = pathlib.Path(tmp) / f"run{k}"
            load_before = harness.load_average()
            with harness.Timer() as t:
                done = subprocess.run([sys.executable, *args, "--out", str(out)], cwd=harness.ROOT,
                                      capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
            if done.returncode:
                raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
            results.append({"name": name, "command": "python " + " ".join(args), "seconds": round(t.seconds, 1),
                            "load_average_before": load_before, "load_average_after": harness.load_average(),
                            "last_line": done.stdout.strip().splitlines()[-1]})
            print(f"{name}: {t.seconds:.1f} s  (load {load_before[0]:.2f})", flush=True)
    path = harness.RESULTS / "readme_timings.json"
    harness.write_result(path, {"commands": results}, run.record())
    print(f"-> {path}")


if __name__ == "__main__":
    main()
