"""Dataset prefixes (`folder:PATH`, `tfds:NAME`) are one registry: a new family of datasets is one entry."""

import numpy as np
import pytest

from keras_ae.data.base import Dataset
from keras_ae.data.registry import PREFIXES, PrefixEntry, dataset_names, load_dataset, prefixed
from keras_ae.runs.train import TrainConfig


def _load_npz(path, value_range="0,1", image_size=None, channels=None, seed=0):
    with np.load(path) as f:
        x = f["x"].astype("float32")
    return Dataset(x[:8], None, x[8:], None, info={"name": f"npz:{path}"})


@pytest.fixture
def npz_prefix():
    PREFIXES.register("npz:", PrefixEntry(_load_npz, _load_npz, "FILE", "images in an .npz", local_path=True))
    yield
    PREFIXES.unregister("npz:")


def test_a_new_prefix_is_one_entry(npz_prefix, tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, x=np.random.default_rng(0).random((10, 28, 28, 1)))
    data = load_dataset(f"npz:{path}")
    assert data.x_train.shape == (8, 28, 28, 1) and data.x_test.shape == (2, 28, 28, 1)
    assert "npz:FILE" in dataset_names()
    assert prefixed(f"npz:{path}")[1] == str(path)


def test_what_streams_follows_the_entries():
    assert TrainConfig(dataset="tfds:mnist").streams  # tensorflow-datasets always streams
    assert not TrainConfig(dataset="folder:imgs").streams and TrainConfig(dataset="folder:imgs", stream=True).streams
    with pytest.raises(ValueError, match=r"stream reads folder:PATH or tfds:NAME, received dataset 'mnist'"):
        TrainConfig(dataset="mnist", stream=True).check()


def test_a_folder_under_your_home_is_read_the_same_by_every_command(tmp_path, monkeypatch):
    """folder:~/pics reaches the commands as typed (a shell expands ~ only at the start of a word): ~ is your home,
    for loading, for the inputs an output may not overwrite and for a sweep's --dry-run alike."""
    from keras_ae.data.registry import local_inputs, prefixed

    monkeypatch.setenv("HOME", str(tmp_path))
    assert prefixed("folder:~/pics")[1] == str(tmp_path / "pics") and local_inputs("folder:~/pics") == [
        str(tmp_path / "pics")]
    assert prefixed("tfds:~x")[1] == "~x"  # not a path
