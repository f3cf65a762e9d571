"""load_dataset's offline stand-in: a dataset that cannot be downloaded loads the one the registry names."""

import pytest

from keras_ae.data import DownloadError, load_dataset
from keras_ae.data.registry import DATASETS


@pytest.fixture
def offline(monkeypatch):
    import keras_ae.data.mnist as mnist

    def refuse(*args, **kwargs):
        raise DownloadError("cannot download mnist.npz: no network")

    monkeypatch.setattr(mnist, "load_mnist", refuse)
    assert DATASETS.get("mnist").fallback == "mnist-sample"


def test_mnist_offline_loads_the_shipped_sample_with_a_warning(offline):
    with pytest.warns(UserWarning, match=r"cannot download mnist.npz.*using mnist-sample instead"):
        data = load_dataset("mnist")
    assert data.info["fallback_from"] == "mnist" and data.x_train.shape == (4000, 28, 28, 1)


def test_without_fallback_the_download_error_shows(offline):
    with pytest.raises(DownloadError, match="cannot download mnist.npz"):
        load_dataset("mnist", fallback=False)
