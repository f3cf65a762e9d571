"""Loaders (real formats, on fake files), the shipped sample, noise, image folders."""

import gzip

import keras  # noqa: E402
import numpy as np
import pytest

from keras_ae import data
from keras_ae.data import mnist as mnist_module
from keras_ae.errors import UsageError


def fake_mnist_arrays(n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), np.arange(n_train, dtype=np.uint8) % 10,
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), np.arange(n_test, dtype=np.uint8) % 10)


def write_idx(path, array):
    header = (0x0800 | array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_mnist_loader_reads_the_keras_npz_format(tmp_path, monkeypatch):
    x_train, y_train, x_test, y_test = fake_mnist_arrays()
    fake = tmp_path / "mnist.npz"
    np.savez(fake, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    calls = []

    def fake_get_file(fname, origin, file_hash=None, cache_dir=None, cache_subdir=None):
        calls.append((fname, origin, file_hash))
        return str(fake)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    ds = data.load_mnist()
    assert calls == [("mnist.npz", mnist_module.KERAS_DATASETS + "mnist.npz", mnist_module.MNIST_SHA256)]
    assert ds.x_train.shape == (6, 28, 28, 1) and ds.x_train.dtype == np.float32
    np.testing.assert_allclose(ds.x_train[..., 0], x_train / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, y_test)


def test_mnist_offline_raises_download_error(monkeypatch):
    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    with pytest.raises(data.DownloadError, match="mnist.npz"):
        data.load_mnist()


def test_fashion_mnist_reads_idx_files(tmp_path, monkeypatch):
    x_train, y_train, x_test, y_test = fake_mnist_arrays(5, 3)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, fname in mnist_module.FASHION_FILES.items():
        write_idx(tmp_path / fname, arrays[key])
    monkeypatch.setattr(keras.utils, "get_file",
                        lambda fname, origin, **kw: str(tmp_path / fname.split("/")[-1]))
    ds = data.load_fashion_mnist(value_range="-1,1")
    assert ds.x_test.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(ds.x_test[..., 0], x_test / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(ds.y_train, y_train)


def test_read_idx_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as handle:
        handle.write(b"\x00\x00\x0d\x03" + b"\x00" * 16)
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist_module.read_idx(bad)


def test_shipped_sample_is_balanced_real_mnist(sample):
    assert sample.x_train.shape == (4000, 28, 28, 1) and sample.x_test.shape == (1000, 28, 28, 1)
    assert np.bincount(sample.y_train).tolist() == [400] * 10
    assert np.bincount(sample.y_test).tolist() == [100] * 10
    assert 0.0 == sample.x_train.min() and sample.x_train.max() == 1.0
    # real digits: mostly background, ~19% ink, like full MNIST
    assert 0.10 < (sample.x_train > 0.5).mean() < 0.25
    assert sample.info["name"] == "mnist-sample"


def test_gaussian_noise_is_the_lecture_formula():
    x = np.full((2000, 4), 0.5, dtype=np.float32)
    noisy = data.gaussian_noise(x, 0.5, seed=1)
    assert noisy.min() >= 0 and noisy.max() <= 1
    # clip(0.5 + 0.5 N(0,1)) clips at +-1 sigma: std = 0.5 * sqrt(0.6827 - 2 phi(1) + 0.3173) = 0.5 * 0.7184
    assert abs((noisy - 0.5).std() - 0.5 * 0.7184) < 0.01
    np.testing.assert_array_equal(noisy, data.gaussian_noise(x, 0.5, seed=1))


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9])
def test_salt_and_pepper_hits_the_asked_fraction(fraction):
    x = np.full((100, 35), 0.5, dtype=np.float32)
    noisy = data.salt_and_pepper(x, fraction, seed=0)
    changed = noisy != 0.5
    assert abs(changed.mean() - fraction) < 0.02
    assert set(np.unique(noisy[changed])) <= {0.0, 1.0}
    assert abs((noisy[changed] == 1.0).mean() - 0.5) < 0.05


@pytest.mark.parametrize("kind, amount", [("gaussian", -0.1), ("gaussian", 1.5), ("salt-pepper", 2.0),
                                          ("speckle", 0.1)])
def test_noise_out_of_range_is_refused(kind, amount):
    with pytest.raises(ValueError):
        data.add_noise(np.zeros((1, 4), np.float32), kind, amount)


def write_images(folder, n, size=(40, 30), mode="RGB"):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        value = (i * 40) % 256
        Image.new(mode, size, (value, 0, 255 - value) if mode == "RGB" else value).save(folder / f"{i}.png")


def test_folder_loader_resizes_and_labels_subfolders(tmp_path):
    write_images(tmp_path / "cats", 6)
    write_images(tmp_path / "dogs", 4)
    ds = data.load_dataset(f"folder:{tmp_path}", image_size=(16, 16), channels=3)
    assert ds.x_train.shape[1:] == (16, 16, 3) and len(ds.x_train) + len(ds.x_test) == 10
    assert len(ds.x_test) == 1
    assert ds.info["classes"] == ["cats", "dogs"]
    assert sorted(np.concatenate([ds.y_train, ds.y_test]).tolist()) == [0] * 6 + [1] * 4
    grey = data.load_folder(tmp_path, image_size=(8, 8), channels=1)
    assert grey.x_train.shape[1:] == (8, 8, 1) and grey.x_train.max() <= 1.0


def test_folder_loader_errors_name_the_folder(tmp_path):
    with pytest.raises(UsageError, match="holds no images"):
        data.load_folder(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        data.load_folder(tmp_path / "missing")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UsageError, match="broken.png"):
        data.load_folder(tmp_path)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(UsageError, match="unknown dataset 'cifar'.*mnist-sample"):
        data.load_dataset("cifar")


def test_atomic_write_leaves_no_temporary_and_normal_permissions(tmp_path):
    import os

    from keras_ae.io import atomic_path, write_json

    write_json(tmp_path / "a.json", {"x": np.float32(1.5)})
    assert (tmp_path / "a.json").read_text().strip().endswith("}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.csv") as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_every_in_memory_loader_rescales_to_minus_one_one_the_same_way(sample):
    from keras_ae.data import font, smileys

    symmetric = data.load_mnist_sample(value_range="-1,1")
    np.testing.assert_allclose(symmetric.x_test, sample.x_test * 2.0 - 1.0, atol=1e-6)
    glyphs = font.load_font5x7(value_range="-1,1").x_train
    assert set(np.unique(glyphs)) == {-1.0, 1.0}
    faces = smileys.load_smileys(value_range="-1,1", train_size=8, test_size=4)
    assert faces.x_train.min() >= -1.0 and faces.x_train.max() <= 1.0 and faces.x_train.min() < -0.5
    for loader in (data.load_mnist_sample, font.load_font5x7):
        with pytest.raises(ValueError, match="value_range='0,255'"):
            loader(value_range="0,255")
