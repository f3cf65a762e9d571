"""keras_ae.data.stream: folder:PATH read from files while training, tfds:NAME through tensorflow-datasets."""

import numpy as np
import pytest
from PIL import Image

from keras_ae.data import load_folder
from keras_ae.data.stream import load_stream, stream_folder
from keras_ae.errors import UsageError


def decoded(ds):
    return np.stack([np.asarray(x) for x in ds.as_numpy_iterator()])


# ---- tensorflow-datasets (optional extra; installed by .[dev]) -------------------------------------------------
tfds = pytest.importorskip("tensorflow_datasets")


def test_streamed_folder_has_the_split_and_pixels_of_the_in_memory_loader(png_folder):
    memory = load_folder(png_folder, seed=3)
    stream = stream_folder(png_folder, seed=3)
    assert stream.train_size == len(memory.x_train) == 27 and stream.image_shape == (28, 28, 1)
    assert stream.cacheable is False  # a streamed folder is only cached in memory when --cache asks
    np.testing.assert_array_equal(stream.y_test, memory.y_test)
    # resizing (bilinear, antialiased) matches PIL's to the uint8 rounding PIL applies: within 1/255
    first = decoded(stream.train)
    assert first.shape == (27, 28, 28, 1) and first.dtype == np.float32 and 0 <= first.min() <= first.max() <= 1
    np.testing.assert_allclose(stream.x_test, memory.x_test, atol=1.01 / 255)
    train_sorted = np.sort(first.reshape(27, -1).sum(axis=1))
    memory_sorted = np.sort(memory.x_train.reshape(27, -1).sum(axis=1))
    np.testing.assert_allclose(train_sorted, memory_sorted, rtol=0.02)  # same images, resampler aside


def test_streamed_training_files_are_reshuffled_every_epoch_and_limited_on_request(png_folder):
    stream = stream_folder(png_folder, seed=0)
    first, second = decoded(stream.train), decoded(stream.train)
    assert not np.array_equal(first, second)
    np.testing.assert_allclose(np.sort(first.ravel()), np.sort(second.ravel()))  # same images
    limited = stream_folder(png_folder, seed=0, train_limit=5, test_limit=2)
    assert limited.train_size == 5 and len(decoded(limited.train)) == 5 and len(limited.x_test) == 2
    assert (limited.info["train_size"], limited.info["test_size"]) == (27, 3)  # the folder's own sizes, not the cut
    rgb = stream_folder(png_folder, seed=0, channels=3, image_size=(16, 16), value_range="-1,1")
    assert rgb.image_shape == (16, 16, 3) and rgb.x_test.min() >= -1 and rgb.x_test.min() < 0


def test_stream_refuses_formats_tf_cannot_decode_and_names_that_are_not_streams(png_folder):
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(png_folder / "a" / "odd.tif")
    with pytest.raises(UsageError, match=r"odd\.tif"):
        stream_folder(png_folder)
    with pytest.raises(UsageError, match="cannot be streamed"):
        load_stream("mnist")


def test_tfds_mnist_streams_scaled_images_and_labels_offline():
    with tfds.testing.mock_data(num_examples=40):
        data = load_stream("tfds:mnist", train_limit=30, test_limit=12)
    assert data.image_shape == (28, 28, 1) and data.train_size == 30
    assert data.info["train_size"] == 40 and len(data.x_test) == 12  # the split's own size; the run keeps 30
    images = decoded(data.train)
    assert images.shape == (30, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.max() > 0.5
    assert data.x_test.shape == (12, 28, 28, 1) and data.y_test.shape == (12,)
    assert data.info["name"] == "tfds:mnist" and data.info["test_split"] == "test"


def test_tfds_converts_channels_and_size_on_request():
    with tfds.testing.mock_data(num_examples=8):
        grey = load_stream("tfds:cifar10", channels=1, image_size=(16, 16), test_limit=4)
        native = load_stream("tfds:cifar10", test_limit=4)
    assert grey.image_shape == (16, 16, 1) and decoded(grey.train).shape[1:] == (16, 16, 1)
    assert native.image_shape == (32, 32, 3)


def test_tfds_unknown_name_is_a_usage_error():
    with pytest.raises(UsageError, match="no_such_set"):
        load_stream("tfds:no_such_set")


def test_tfds_downloads_give_up_after_a_few_quiet_retries(caplog):
    """Offline, tensorflow-datasets' own 10 retries with doubling pauses took 3.5 minutes before the error."""
    import logging

    from tensorflow_datasets.core.download import downloader

    from keras_ae.data.tfds_stream import HTTP_RETRIES, few_retries

    before = downloader.MAX_RETRIES
    with few_retries(), caplog.at_level(logging.WARNING, logger="urllib3"):
        assert downloader.MAX_RETRIES == HTTP_RETRIES < before
        with pytest.raises(OSError, match="Max retries exceeded"):  # nothing listens on port 9 here
            with downloader._open_with_requests("http://127.0.0.1:9/train.gz"):
                pass
    assert downloader.MAX_RETRIES == before
    assert not [r for r in caplog.records if "Retrying" in r.getMessage()]


def test_a_failed_tfds_download_leaves_nothing_behind_and_keeps_what_was_there(tmp_path, monkeypatch):
    """Offline, tensorflow-datasets left empty folders and ``*.tmp.<hex>`` download folders in the data folder."""
    from keras_ae.data.mnist import DownloadError
    from keras_ae.data.tfds_stream import stream_tfds

    (tmp_path / "downloads" / "cifar10").mkdir(parents=True)  # a user's earlier downloads stay
    (tmp_path / "notes.txt").write_text("mine")

    def failing(builder, *args, **kwargs):
        part = tmp_path / "downloads" / "mnist" / ("train.gz.tmp." + "0123456789abcdef" * 2)
        part.mkdir(parents=True)
        (part / "train.gz").write_bytes(b"partial")
        (tmp_path / "downloads" / "extracted").mkdir()
        (tmp_path / "mnist").mkdir()
        raise OSError("Max retries exceeded with url: /mnist/train.gz")

    monkeypatch.setattr(type(tfds.builder("mnist", data_dir=str(tmp_path))), "download_and_prepare", failing)
    with pytest.raises(DownloadError, match="cannot download tfds:mnist: Max retries exceeded"):
        stream_tfds("mnist", data_dir=str(tmp_path))
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["downloads", "downloads/cifar10", "notes.txt"]


def test_file_names_that_are_not_utf8_stream(tmp_path):
    """Linux allows any bytes in a name; TensorFlow took no such name as text (a traceback while streaming)."""
    import os

    folder = tmp_path / "odd"
    folder.mkdir()
    for i in range(5):
        name = os.fsencode(folder) + (b"/bad\xff%d.png" % i if i < 2 else b"/%d.png" % i)
        Image.fromarray(np.full((10, 10), 40 * i, dtype=np.uint8)).save(os.fsdecode(name))
    data = stream_folder(folder, image_size=(8, 8), test_fraction=0.4)
    assert len(list(data.train)) == 3 and data.x_test.shape == (2, 8, 8, 1)
    with open(os.fsencode(folder) + b"/broken\xfe.png", "wb") as handle:
        handle.write(b"no image")
    found = stream_folder(folder, image_size=(8, 8), test_fraction=0.4).undecodable()
    assert found is not None and "broken" in str(found) and "the file is broken or no image" in str(found)
