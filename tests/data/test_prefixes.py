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


@pytest.mark.parametrize(("arguments", "said"), [
    ({"image_size": 8}, "image_size must be (height, width), two integers >= 1, received 8"),
    ({"image_size": (8, 8, 8)}, "image_size must be (height, width)"),
    ({"image_size": (8.5, 8)}, "image_size must be (height, width)"),
    ({"channels": 3.0}, "channels must be 1 or 3, received 3.0"),
    ({"seed": -1}, "seed must be an integer in [0, 2**32), received -1"),
    ({"seed": True}, "seed must be an integer"),
    ({"value_range": "0,255"}, "value_range must be '0,1' or '-1,1'"),
    ({"pathh": "x"}, "load_dataset takes no option 'pathh' (options: "),
    ({"path": 5}, "path must be a path, received 5"),
])
def test_load_dataset_names_a_bad_argument(arguments, said):
    """Raw TypeErrors and IndexErrors came from deep inside the loaders; a misspelt option was silently left out."""
    import re

    from keras_ae.data import load_dataset
    from keras_ae.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(said)):
        load_dataset("mnist-sample", **arguments)


def test_a_folder_takes_its_image_size_as_numpy_integers(tmp_path):
    import numpy as np

    from keras_ae.data import load_dataset
    from tests.helpers import write_images

    write_images(tmp_path / "imgs" / "a", 4, size=(12, 10))
    data = load_dataset(f"folder:{tmp_path / 'imgs'}", image_size=np.array([8, 9]))
    assert data.x_train.shape[1:3] == (8, 9)
