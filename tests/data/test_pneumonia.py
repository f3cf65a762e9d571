"""keras_ae.data.pneumonia: the official PneumoniaMNIST format on a fake npz, offline messages."""

import re

import keras
import numpy as np
import pytest

from keras_ae.data import medmnist, pneumonia
from keras_ae.data import mnist as mnist_module
from keras_ae.data.registry import load_dataset
from keras_ae.errors import UsageError
from tests.conftest import SHARED_DATA
from tests.helpers import fake_pneumonia


def test_loader_reads_every_split_of_the_official_format(tmp_path):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz")
    data = pneumonia.load_pneumonia(path=path)
    assert data.x_train.shape == (30, 28, 28, 1) and data.x_test.shape == (16, 28, 28, 1)
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert data.y_train.shape == (30,) and set(data.y_train) == {0, 1}
    splits = pneumonia.load_pneumonia_splits(path=path)
    assert splits["val"][0].shape == (12, 28, 28, 1)
    with np.load(path) as raw:
        np.testing.assert_allclose(splits["test"][0][..., 0], raw["test_images"] / 255.0, rtol=1e-6)


def test_loader_reports_a_missing_file_or_key(tmp_path):
    with pytest.raises(UsageError, match=re.escape(f"PneumoniaMNIST file {tmp_path / 'nope.npz'} does not exist")):
        pneumonia.load_pneumonia(path=tmp_path / "nope.npz")
    broken = fake_pneumonia(tmp_path / "broken.npz", drop="val_labels")
    with pytest.raises(UsageError, match=re.escape(f"PneumoniaMNIST file {broken} lacks the key val_labels")):
        pneumonia.load_pneumonia(path=broken)


@pytest.mark.parametrize(("where", "why"), [("/dev/zero", "is a device, not a file"),
                                           (".", "is a folder, not a file")])
def test_loader_names_what_is_not_a_file(where, why):
    with pytest.raises(UsageError, match=re.escape(f"PneumoniaMNIST file {where} {why}")):
        pneumonia.load_pneumonia(path=where)
    with pytest.raises(UsageError, match=re.escape(f"MedMNIST file {where} {why}")):
        medmnist.load_medmnist("breastmnist", path=where)


def test_loader_offline_says_where_to_put_the_file(tmp_path, offline):
    where = str(tmp_path / "datasets" / "pneumoniamnist.npz")
    with pytest.raises(mnist_module.DownloadError, match=re.escape(where)) as err:
        pneumonia.load_pneumonia(cache_dir=tmp_path)
    assert "\n" not in str(err.value)


def test_loader_downloads_from_the_official_url_with_its_md5(tmp_path, monkeypatch):
    seen = {}
    fake = fake_pneumonia(tmp_path / "cached.npz")

    def get_file(fname, origin, file_hash=None, cache_dir=None, cache_subdir=None):
        seen.update(fname=fname, origin=origin, file_hash=file_hash)
        return str(fake)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-cache"))
    assert load_dataset("pneumonia").x_train.shape == (30, 28, 28, 1)
    assert seen == {"fname": "pneumoniamnist.npz", "origin": pneumonia.PNEUMONIA_URL,
                    "file_hash": "28209eda62fecd6e6a2d98b1501bb15f"}


def test_a_cached_file_that_is_not_the_official_one_is_used_with_a_note(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("no download may be tried when the file is cached")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    (tmp_path / "datasets").mkdir()
    cached = fake_pneumonia(tmp_path / "datasets" / "pneumoniamnist.npz")
    assert pneumonia.load_pneumonia(cache_dir=tmp_path).x_train.shape == (30, 28, 28, 1)
    err = capsys.readouterr().err
    assert str(cached) in err and "not byte-identical" in err and pneumonia.PNEUMONIA_MD5 in err
    assert "put it at" not in err  # no advice to put the file where it already is


@pytest.mark.skipif(not (SHARED_DATA / "pneumoniamnist.npz").exists(), reason="no ../shared/data copy")
def test_real_pneumoniamnist_has_the_published_splits():
    splits = pneumonia.load_pneumonia_splits(path=SHARED_DATA / "pneumoniamnist.npz")
    counts = {name: np.bincount(y).tolist() for name, (_, y) in splits.items()}
    assert counts == {"train": [1214, 3494], "val": [135, 389], "test": [234, 390]}
