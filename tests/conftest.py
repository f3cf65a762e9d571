"""Shared test set-up: quiet TensorFlow on CPU, small real data, the path of the optional shared data."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sample():
    """The shipped MNIST sample (4,000 train / 1,000 test real digits in [0, 1])."""
    from keras_ae.data import load_mnist_sample

    return load_mnist_sample()


@pytest.fixture
def tiny_images(sample):
    """256 training and 64 test digits, enough for a few optimisation steps."""
    return sample.x_train[:256], sample.x_test[:64]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# One small fraud detector for every fraud and fraud-command test (fitted once per session).
FRAUD_FAST = {"n_models": 2, "epochs": 12, "patience": 4, "batch_size": 128}


@pytest.fixture(scope="session")
def data():
    """Synthetic transactions: (3,000 training rows with 1% frauds, 1,500 new rows with 2% frauds)."""
    from keras_ae.fraud import synthetic_transactions

    return synthetic_transactions(3000, fraud_rate=0.01, seed=0), synthetic_transactions(1500, fraud_rate=0.02, seed=1)


@pytest.fixture(scope="session")
def detector(data):
    from keras_ae.fraud import FraudDetector

    train, _ = data
    return FraudDetector(time_mode="hour", seed=0, **FRAUD_FAST).fit(train)


@pytest.fixture(scope="session")
def bundle(detector, tmp_path_factory):
    return detector.save(tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture
def png_folder(tmp_path):
    """30 grey 28x28 PNGs in two class folders, a few of them 40x40 (to be resized)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(15):
            side = 40 if i % 5 == 0 else 28
            pixels = (rng.random((side, side)) * 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(root / label / f"{i:02d}.png")
    return root
