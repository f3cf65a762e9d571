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
