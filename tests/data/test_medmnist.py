"""medmnist:NAME: any 2-D MedMNIST set through the package's catalogue, tested on fake files (file:// addresses,
a stand-in `medmnist` module): the real download code, no network."""

import hashlib
import re
import sys
import types

import numpy as np
import pytest

from keras_ae.data import load_dataset
from keras_ae.data.registry import dataset_entry, one_class_names
from keras_ae.errors import UsageError


def _npz(path, channels=None, multi_label=False, n=(40, 10, 12), classes=2):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, size in zip(("train", "val", "test"), n, strict=True):
        shape = (size, 28, 28) if channels is None else (size, 28, 28, channels)
        arrays[f"{split}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, classes, (size, 3 if multi_label else 1))
    np.savez(path, **arrays)
    return path


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    files = {"breastmnist": _npz(tmp_path / "breast.npz"), "dermamnist": _npz(tmp_path / "derm.npz", channels=3),
             "chestmnist": _npz(tmp_path / "chest.npz", multi_label=True)}
    info = {name: {"url": path.as_uri(), "MD5": hashlib.md5(path.read_bytes()).hexdigest(),
                   "task": "multi-label, binary-class" if name == "chestmnist" else "binary-class",
                   "label": {"0": "malignant", "1": "normal, benign"} if name == "breastmnist"
                   else {"0": "lesion", "1": "nevus"}} for name, path in files.items()}
    info["organmnist3d"] = {}
    monkeypatch.setitem(sys.modules, "medmnist", types.SimpleNamespace(INFO=info))
    return files


def test_a_set_downloads_once_with_its_md5_and_names_its_normal_class(catalogue, tmp_path):
    data = load_dataset("medmnist:breastmnist", cache_dir=str(tmp_path / "cache"))
    assert data.x_train.shape == (40, 28, 28, 1) and data.x_val.shape == (10, 28, 28, 1) and len(data.y_test) == 12
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1 and data.info["normal_label"] == 1
    assert (tmp_path / "cache" / "datasets" / "breastmnist.npz").is_file()
    entry = dataset_entry("medmnist:breastmnist")
    assert entry.default_normal == 1 and entry.class_names[0] == "normal, benign" and entry.takes_path
    rgb = load_dataset("medmnist:dermamnist", cache_dir=str(tmp_path / "cache"))
    assert rgb.x_train.shape == (40, 28, 28, 3)


def test_unknown_3d_and_multi_label_sets_are_refused(catalogue):
    with pytest.raises(UsageError, match=r"unknown MedMNIST 2-D set 'organmnist3d' \(known: breastmnist, "):
        load_dataset("medmnist:organmnist3d")
    with pytest.raises(UsageError, match=r"medmnist:chestmnist is multi-label"):
        load_dataset("medmnist:chestmnist")


def test_without_the_package_a_local_file_still_works(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "medmnist", None)  # import medmnist -> ImportError
    with pytest.raises(UsageError, match=r"needs the medmnist package .*keras-ae\[medmnist\]"):
        load_dataset("medmnist:breastmnist")
    data = load_dataset("medmnist:breastmnist", path=str(_npz(tmp_path / "b.npz")))
    assert data.x_train.shape == (40, 28, 28, 1)
    # its normal class as the catalogue names it (1: "normal, benign"; label 0 is malignant), not label 0
    assert data.info["normal_label"] == 1 and dataset_entry("medmnist:breastmnist").default_normal == 1
    assert dataset_entry("medmnist:octmnist").default_normal == 3 and "medmnist:NAME" in one_class_names()
    with pytest.raises(UsageError, match=r"unknown MedMNIST 2-D set 'bogus' \(known: bloodmnist, breastmnist"):
        load_dataset("medmnist:bogus", path=str(tmp_path / "b.npz"))
    with pytest.raises(UsageError, match=r"medmnist:chestmnist is multi-label"):
        load_dataset("medmnist:chestmnist", path=str(tmp_path / "b.npz"))
    with pytest.raises(UsageError, match=r"train_labels holds the label 2 in \d+ row\(s\); expected class labels 0..1"):
        load_dataset("medmnist:breastmnist", path=str(_npz(tmp_path / "three.npz", classes=3)))


def test_the_sets_known_without_the_package_agree_with_the_catalogue_rule():
    """KNOWN_SETS holds, of each 2-D set, what `normal_label` finds in the catalogue (medmnist 3.0)."""
    from keras_ae.data.medmnist import KNOWN_SETS, normal_label

    labels = {"breastmnist": {"0": "malignant", "1": "normal, benign"},
              "pneumoniamnist": {"0": "normal", "1": "pneumonia"},
              "octmnist": {"0": "choroidal neovascularization", "1": "diabetic macular edema", "2": "drusen",
                           "3": "normal"}}
    for name, meaning in labels.items():
        assert KNOWN_SETS[name] == (len(meaning), normal_label(meaning))
    assert len(KNOWN_SETS) == 12 and KNOWN_SETS["chestmnist"] is None


def test_a_one_class_run_takes_a_medmnist_set(catalogue, tmp_path):
    from keras_ae.runs.one_class import OneClassConfig, run_one_class

    config = OneClassConfig(dataset="medmnist:breastmnist", data_path=str(catalogue["breastmnist"]), epochs=1,
                            arch="dense", score="mse", out=str(tmp_path / "run"), verbose=0)
    result = run_one_class(config)
    assert result.config.normal == 1 if hasattr(result, "config") else True
    assert (tmp_path / "run" / "metrics.json").is_file() and (tmp_path / "run" / "histograms.png").is_file()


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(train_images=a["train_images"].reshape(len(a["train_images"]), -1)),
     "train_images is uint8 of shape [30, 784]; expected numbers of shape (n, height, width)"),
    (lambda a: a.update(train_labels=np.array(["a"] * len(a["train_labels"]))),
     "train_labels is <U1; expected integer"),
    (lambda a: a.update(val_images=np.zeros((12, 64, 64), np.uint8)), "the splits' images differ in size"),
    (lambda a: a.update(train_images=np.array(5)), "train_images is a single int64 value, not an array of images"),
    (lambda a: a.update(train_labels=np.zeros((len(a["train_labels"]), 1, 2))),
     "train_labels has shape [30, 1, 2]; expected one label per image"),
    (lambda a: a.update(train_labels=np.zeros((len(a["train_labels"]), 0))), "train_labels has shape [30, 0]"),
    (lambda a: a.update(train_images=np.zeros((30, 0, 28), np.uint8)), "images of no pixels"),
    (lambda a: a.update(test_labels=np.full(len(a["test_labels"]), 1e300)), "holds the label 1e+300"),
    (lambda a: a.update(test_labels=np.full(len(a["test_labels"]), 2**63 + 5, np.uint64)),
     "holds the label 9223372036854775813"),
])
def test_a_malformed_npz_is_one_line_naming_the_array(tmp_path, change, message):
    from keras_ae.data.pneumonia import load_pneumonia
    from keras_ae.errors import UsageError
    from tests.helpers import fake_pneumonia

    path = fake_pneumonia(tmp_path / "p.npz")
    arrays = dict(np.load(path))
    change(arrays)
    np.savez(path, **arrays)
    with pytest.raises(UsageError, match=re.escape(message)):
        load_pneumonia(path=path)


def test_flat_normal_training_images_are_refused_before_training(tmp_path):
    """All-zero images of the normal class: nothing to learn (PCA would divide by a spread of zero)."""
    from keras_ae.errors import UsageError
    from keras_ae.runs.one_class import OneClassConfig, run_one_class
    from tests.helpers import fake_pneumonia

    path = fake_pneumonia(tmp_path / "p.npz")
    arrays = dict(np.load(path))
    arrays["train_images"] = np.zeros_like(arrays["train_images"])
    np.savez(path, **arrays)
    config = OneClassConfig(dataset="pneumonia", data_path=str(path), epochs=1, out=str(tmp_path / "run"), verbose=0)
    with pytest.raises(UsageError, match=r"all one flat image \(every pixel 0\)"):
        run_one_class(config)
    assert not (tmp_path / "run").exists()
