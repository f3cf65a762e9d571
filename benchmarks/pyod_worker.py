"""PyOD's AutoEncoder on one split, run inside the separate PyOD virtual environment (torch lives only there).

    <pyod-venv>/bin/python benchmarks/pyod_worker.py IN.npz OUT.npz

IN.npz holds x_normal, x_test and seed; OUT.npz receives scores (higher = more anomalous), fit_seconds and
score_seconds. Called by benchmarks/fraud.py; keras-ae itself never imports torch.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # the PyOD environment has no keras-ae on its path
import harness  # noqa: E402  (standard library only)


def main(src: str, dst: str, epochs: int = 50) -> None:
    import torch
    from pyod.models.auto_encoder import AutoEncoder

    torch.set_num_threads(1)
    with np.load(src) as f:
        x_normal, x_test, seed = f["x_normal"], f["x_test"], int(f["seed"])
    model, fit = harness.timed(lambda: AutoEncoder(epoch_num=epochs, random_state=seed, verbose=0).fit(x_normal))
    scores, score = harness.timed(model.decision_function, x_test)
    np.savez(dst, scores=scores, fit_seconds=fit, score_seconds=score)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
