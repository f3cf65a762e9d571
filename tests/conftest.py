"""Shared test set-up: quiet TensorFlow on CPU, small real data, the path of the optional shared data, the fraud
detectors fitted once per session, and no downloads where a test means to be offline (helpers: tests/helpers.py)."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.register_assert_rewrite("tests.helpers")

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


@pytest.fixture
def offline(monkeypatch, tmp_path_factory):
    """No download can happen, with or without a network: Keras's get_file fails at once (as it does on a
    machine without network), an empty Keras cache, and proxies that lead nowhere for any subprocess."""
    import keras

    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure: network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("empty_keras_home")))
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")


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
def train_csv(data, tmp_path):
    """The session's training transactions as tmp_path/train.csv."""
    train, _ = data
    train.to_csv(tmp_path / "train.csv", index=False)
    return tmp_path / "train.csv"


@pytest.fixture(scope="session")
def spark_model(tmp_path_factory):
    """The Spark tests' model directory: a detector fitted with an `id` column to ignore (new rows: seed 1)."""
    from keras_ae.fraud import FraudDetector, synthetic_transactions

    train = synthetic_transactions(3000, fraud_rate=0.01, seed=0).reset_index(names="id")
    detector = FraudDetector(time_mode="hour", drop=("id",), seed=0, n_models=2, epochs=6, patience=3,
                             batch_size=128, verbose=0)
    return detector.fit(train).save(tmp_path_factory.mktemp("spark") / "model")


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
