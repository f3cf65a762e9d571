"""The data and the peers of benchmarks/fraud.py: loading and splitting the sets, and every peer detector.

Protocol: stratified 60/40 split per seed; fit on the normal rows of the 60 % part,
score the 40 % part. Every peer returns (scores of the test rows, higher = more anomalous, fit seconds, score
seconds). PyOD runs in its own virtual environment (torch is never a dependency of keras-ae).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

import harness
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

ROOT = harness.ROOT
# The real tables: adbench/*.npz (ADBench, Han et al. 2022) and creditcard_dev.csv, in the folder named by
# KERAS_AE_BENCH_DATA, else shared/data beside the repository folder.
DATA = pathlib.Path(os.environ.get("KERAS_AE_BENCH_DATA") or harness.SHARED / "data")
CREDITCARD = "creditcard_dev"
PYOD_PACKAGES = ("torch==2.13.0", "pyod", "tqdm", "scikit-learn")
NOTEBOOK = "d-14-7-14-d, relu, linear output, Adam, MSE, batch 32, at most 100 epochs, early stopping (patience 10)"


def adbench_sets() -> list[str]:
    return sorted((p.stem for p in (DATA / "adbench").glob("*.npz")), key=lambda s: int(s.split("_")[0]))


def load(name: str, max_rows: int) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Features as a DataFrame, labels, and the row count before subsampling (stratified, seed 0, to max_rows;
    ADBench sets only).

    creditcard_dev keeps its Kaggle columns (the detector drops Time and takes log1p Amount by default; the
    peers get the same columns without Time). ADBench sets get columns f0, f1, ...
    """
    if name == CREDITCARD:
        frame = pd.read_csv(DATA / "creditcard_dev.csv")
        y = frame.pop("Class").to_numpy(dtype=int)
    else:
        with np.load(DATA / "adbench" / f"{name}.npz") as f:
            x, y = f["X"].astype(np.float64), f["y"].astype(int)
        frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(x.shape[1])])
    n = len(y)
    if max_rows and n > max_rows and name != CREDITCARD:  # the credit-card set is scored whole (21,325 rows)
        keep, _ = train_test_split(np.arange(n), train_size=max_rows, stratify=y, random_state=0)
        keep = np.sort(keep)
        frame, y = frame.iloc[keep].reset_index(drop=True), y[keep]
    return frame, y, n


def split(frame: pd.DataFrame, y: np.ndarray, seed: int):
    """(normal training rows, test rows, test labels): stratified 60/40."""
    tr, te = train_test_split(np.arange(len(y)), train_size=0.6, stratify=y, random_state=seed)
    normal = tr[y[tr] == 0]
    return frame.iloc[normal].reset_index(drop=True), frame.iloc[te].reset_index(drop=True), y[te]


def peer_matrix(frame: pd.DataFrame) -> np.ndarray:
    return frame.drop(columns=["Time"], errors="ignore").to_numpy(dtype=np.float64)


def standardise(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = a.mean(0), a.std(0)
    std[std == 0] = 1.0
    return (a - mean) / std, (b - mean) / std


def timed(fit, score):
    """(scores, fit seconds, score seconds) of a peer: `fit()` makes the model, `score(model)` its scores."""
    model, fit_s = harness.timed(fit)
    scores, score_s = harness.timed(lambda: np.asarray(score(model), dtype=np.float64))
    return scores, fit_s, score_s


def knn(normal, test, seed):
    """Mean distance to the 5 nearest normal training rows, inputs standardised on those rows."""
    from sklearn.neighbors import NearestNeighbors

    a, b = standardise(peer_matrix(normal), peer_matrix(test))
    return timed(lambda: NearestNeighbors(n_neighbors=5).fit(a), lambda m: m.kneighbors(b)[0].mean(axis=1))


def isolation_forest(normal, test, seed):
    from sklearn.ensemble import IsolationForest

    a, b = peer_matrix(normal), peer_matrix(test)
    return timed(lambda: IsolationForest(n_estimators=200, random_state=seed).fit(a), lambda m: -m.score_samples(b))


def pca(normal, test, seed):
    """Squared reconstruction error from the principal components explaining 90 % of the variance."""
    from sklearn.decomposition import PCA

    a, b = standardise(peer_matrix(normal), peer_matrix(test))
    return timed(lambda: PCA(0.9, random_state=seed).fit(a),
                 lambda m: ((m.inverse_transform(m.transform(b)) - b) ** 2).sum(axis=1))


def notebook_ae(normal, test, seed):
    """The notebook autoencoder d-14-7-14-d (see NOTEBOOK), score = summed squared error."""
    import keras

    from keras_ae import training
    from keras_ae.models import build_dense

    a, b = (v.astype("float32") for v in standardise(peer_matrix(normal), peer_matrix(test)))

    def fit():
        training.set_seed(seed)
        net = build_dense(input_shape=(a.shape[1],), hidden=(14,), latent_dim=7, output_activation="linear").autoencoder
        net.compile(optimizer="adam", loss="mse")
        stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
        net.fit(a, a, epochs=100, batch_size=32, validation_split=0.1, callbacks=[stop], verbose=0)
        return net

    return timed(fit, lambda net: np.sum((net.predict(b, verbose=0, batch_size=4096) - b) ** 2, axis=1))


def pyod_python(venv: pathlib.Path) -> pathlib.Path:
    """The PyOD environment's interpreter, creating the environment on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} for PyOD (pip install {' '.join(PYOD_PACKAGES)})", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PYOD_PACKAGES], check=True)
    return python


def pyod_ae(normal, test, seed, venv: pathlib.Path = ROOT / "benchmarks" / ".pyod-venv"):
    """PyOD's AutoEncoder (epoch_num=50, its other defaults), in the PyOD environment."""
    python = pyod_python(venv)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, x_normal=peer_matrix(normal), x_test=peer_matrix(test), seed=seed)
        subprocess.run([str(python), str(ROOT / "benchmarks" / "pyod_worker.py"), src, dst, "50"], check=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
        with np.load(dst) as f:
            return f["scores"].astype(np.float64), float(f["fit_seconds"]), float(f["score_seconds"])


PEERS = {"knn": knn, "isolation_forest": isolation_forest, "pca": pca, "notebook_ae": notebook_ae, "pyod_ae": pyod_ae}
