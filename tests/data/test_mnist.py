"""keras_ae.data.mnist: the real MNIST and Fashion-MNIST formats on fake files, the shipped sample."""

import gzip

import keras  # noqa: E402
import numpy as np
import pytest

from keras_ae import data
from keras_ae.data import mnist as mnist_module


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


def test_a_cached_file_that_is_not_the_official_one_is_left_as_it_is(tmp_path, monkeypatch, capsys):
    """Keras would download over it and delete it when that fails (offline); the run says so and falls back."""
    from keras_ae.runs.common import load_with_fallback

    def must_not_run(*args, **kwargs):
        raise AssertionError("keras.utils.get_file was called over a file that is not the official one")

    monkeypatch.setattr(keras.utils, "get_file", must_not_run)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    mine = tmp_path / "datasets" / "mnist.npz"
    mine.parent.mkdir()
    mine.write_bytes(b"my own digits")
    with pytest.raises(mnist_module.NotOfficialFile, match=r"is there but is not the official mnist\.npz"):
        data.load_mnist()
    fallback = load_with_fallback("mnist")
    assert fallback.info["fallback_from"] == "mnist" and mine.read_bytes() == b"my own digits"
    assert "it was left as it is" in capsys.readouterr().err


def test_mnist_offline_raises_download_error(offline):
    with pytest.raises(data.DownloadError, match=r"^cannot download https://\S+/mnist\.npz \(URL fetch failure"):
        data.load_mnist()


def test_fashion_mnist_downloads_its_idx_files_through_keras(tmp_path):
    # the real keras.utils.get_file on file:// addresses (Keras 3 refuses a file name holding a folder)
    x_train, y_train, x_test, y_test = fake_mnist_arrays(5, 3)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    remote = tmp_path / "remote"
    remote.mkdir()
    for key, fname in mnist_module.FASHION_FILES.items():
        write_idx(remote / fname, arrays[key])
    ds = data.load_fashion_mnist(value_range="-1,1", cache_dir=str(tmp_path / "cache"), base=remote.as_uri() + "/")
    assert (tmp_path / "cache" / "datasets" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").is_file()
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


def test_a_failed_download_leaves_no_empty_cache_folder(tmp_path):
    """Offline, --dataset fashion_mnist left an empty ~/.keras/datasets/fashion-mnist/ behind."""
    with pytest.raises(data.DownloadError):
        data.load_fashion_mnist(cache_dir=str(tmp_path / "cache"), base=(tmp_path / "nowhere").as_uri() + "/")
    assert not (tmp_path / "cache" / "datasets").exists()
