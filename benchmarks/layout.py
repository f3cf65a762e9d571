"""Best-threshold search and command start-up, measured: writes benchmarks/results/layout.json.

- the O(n log n) search (`keras_ae.anomaly.thresholds`) against the earlier candidates x n matrix search,
  at n = 10,000 and 1,000,000 (the matrix one only where it fits in memory), seconds and peak memory (tracemalloc);
- `--help` wall time of every command in a fresh interpreter (median of 5).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tracemalloc

import harness
import numpy as np

from keras_ae.anomaly import thresholds


def matrix_search(scores, labels):
    s = np.unique(scores)
    cands = np.concatenate([[s[0] - 1e-12], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-12]])
    pred = scores[None, :] > cands[:, None]
    tp, fp = (pred & (labels == 1)).sum(1), (pred & (labels == 0)).sum(1)  # noqa: F841  (as the old search)
    fn, tn = ((~pred) & (labels == 1)).sum(1), ((~pred) & (labels == 0)).sum(1)  # noqa: F841
    return float(cands[int(np.argmax((tp + tn) / len(labels)))])


def measure(fn, *args):
    """Seconds and peak of the Python allocations (tracemalloc: both searches run in this one process)."""
    tracemalloc.start()
    value, seconds = harness.timed(fn, *args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": round(seconds, 4), "peak_mib": round(peak / 2**20, 1), "threshold": value}


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # no options: --help only
    run = harness.Run(__file__, argv)
    rng = np.random.default_rng(0)
    result = {"search": {}}
    for n in (10_000, 1_000_000):
        labels = (rng.random(n) < 0.1).astype(int)
        scores = rng.normal(size=n) + labels
        row = {"sorted_cumulative": measure(thresholds.threshold_max_accuracy, scores, labels)}
        if n <= 10_000:
            row["candidates_x_n_matrix"] = measure(matrix_search, scores, labels)
        else:
            row["candidates_x_n_matrix"] = f"not run: needs about {n * n / 2**30:.0f} GiB"
        result["search"][str(n)] = row
    result["help_seconds"] = {}
    for cmd in ("train", "anomaly", "fraud", "font", "experiment"):
        _, median = harness.timed(subprocess.run, [sys.executable, str(harness.ROOT / "scripts" / f"{cmd}.py"),
                                                   "--help"], capture_output=True, check=True, repeats=5)
        result["help_seconds"][cmd] = round(median, 3)
    harness.write_result(harness.RESULTS / "layout.json", result, run.record())
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
