"""Fit time at the scale of the real credit-card file: 300,000 synthetic rows of the Kaggle schema.

The detector with its defaults (and its progress line on stderr) against the peers of benchmarks/fraud.py on
the same rows. kNN, IsolationForest and PCA are timed in full for fitting, and for scoring 10,000 rows (kNN's
work happens there); the two autoencoder peers are timed for a few epochs and the figure scaled to their
epoch budget (marked "extrapolated"), because a full run of each takes far longer than ours. Run it alone.

    nice python benchmarks/fraud_fit_scale.py      # benchmarks/results/fraud_fit_scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import fraud_peers as peers  # noqa: E402
import harness  # noqa: E402
import numpy as np  # noqa: E402

TARGET_SECONDS = 600
SCORED = 10_000  # rows the peers score (kNN's work is in scoring: 300,000 x 300,000 distances would take long)


def ae_epochs(normal: np.ndarray, epochs: int) -> float:
    """Seconds an epoch of the notebook autoencoder (batch 32) takes on these rows."""
    import keras

    from keras_ae import training
    from keras_ae.models import build_dense

    a = peers.standardise(normal, normal)[0].astype("float32")
    training.set_seed(0)
    net = build_dense(input_shape=(a.shape[1],), hidden=(14,), latent_dim=7, output_activation="linear").autoencoder
    net.compile(optimizer="adam", loss="mse")
    with harness.Timer() as t:
        net.fit(a, a, epochs=epochs, batch_size=32, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    return t.seconds / epochs


def pyod_epoch(normal: np.ndarray, epochs: int) -> float:
    import subprocess
    import tempfile

    python = peers.pyod_python(harness.ROOT / "benchmarks" / ".pyod-venv")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, x_normal=normal, x_test=normal[:10], seed=0)
        subprocess.run([str(python), str(harness.ROOT / "benchmarks" / "pyod_worker.py"), src, dst, str(epochs)],
                       check=True)
        with np.load(dst) as f:
            return float(f["fit_seconds"]) / epochs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=300_000)
    p.add_argument("--peer-epochs", type=int, default=2, help="epochs timed for the autoencoder peers")
    p.add_argument("--out", default=str(harness.RESULTS / "fraud_fit_scale.json"))
    args = p.parse_args(argv)
    from keras_ae.fraud import FraudDetector
    from keras_ae.fraud.synthetic import synthetic_transactions

    run = harness.Run(__file__, argv)
    frame = synthetic_transactions(args.rows, seed=0)
    with harness.Timer() as fit_timer:
        det = FraudDetector(verbose=1).fit(frame)
    ours = fit_timer.seconds
    _, ours_score = harness.timed(det.score_samples, frame.iloc[:SCORED])
    print(f"FraudDetector fit: {ours:.1f} s ({det.epochs_run_} epochs, batch {det.batch_size_})", flush=True)
    normal = peers.peer_matrix(frame[frame["Class"] == 0].drop(columns=["Class"]))
    fits = {}
    for name in ("knn", "isolation_forest", "pca"):
        _, fit_s, score_s = peers.PEERS[name](pd_frame(normal), pd_frame(normal[:SCORED]), 0)
        fits[name] = {"fit_seconds": round(fit_s, 1), f"score_seconds_{SCORED}_rows": round(score_s, 1)}
        print(name, fits[name], flush=True)
    per_epoch = ae_epochs(normal, args.peer_epochs)
    fits["notebook_ae"] = {"seconds_per_epoch": round(per_epoch, 1), "epoch_budget": "at most 100 (early stopping)",
                           "fit_seconds_extrapolated": round(100 * per_epoch, 1)}
    per_epoch = pyod_epoch(normal, args.peer_epochs)
    fits["pyod_ae"] = {"seconds_per_epoch": round(per_epoch, 1), "epoch_budget": 50,
                       "fit_seconds_extrapolated": round(50 * per_epoch, 1)}
    print(json.dumps(fits), flush=True)
    report = {"rows": args.rows, "fraud_detector": {"fit_seconds": round(ours, 1), "epochs_run": det.epochs_run_,
                                                    "batch_size": det.batch_size_, "members": len(det.weights_),
                                                    "reference_rows": int(len(det.scoring_.reference)),
                                                    f"score_seconds_{SCORED}_rows": round(ours_score, 2)},
              "peers": fits, "target": {"fit_under_10_minutes": ours < TARGET_SECONDS}}
    harness.write_result(args.out, report, run.record())
    return 0


def pd_frame(values: np.ndarray):
    import pandas as pd

    return pd.DataFrame(values)


if __name__ == "__main__":
    sys.exit(main())
