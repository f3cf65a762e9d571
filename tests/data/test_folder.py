"""keras_ae.data.folder: image folders resized and labelled by sub-folder, errors naming the folder."""

import re

import numpy as np
import pytest

from keras_ae import data
from keras_ae.errors import UsageError
from tests.helpers import write_images


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
    with pytest.raises(UsageError, match=re.escape(f"image folder {tmp_path} holds no images")):
        data.load_folder(tmp_path)
    with pytest.raises(UsageError, match=re.escape(f"image folder {tmp_path / 'missing'} does not exist (folder:PATH "
                                                   "wants a folder of images, .bmp, .gif")):
        data.load_folder(tmp_path / "missing")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UsageError, match=re.escape(f"cannot read image {tmp_path / 'broken.png'}: ")):
        data.load_folder(tmp_path)


def test_a_16_bit_grey_image_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    from keras_ae.data.folder import read_image

    ramp = np.linspace(0, 65535, 28 * 28).reshape(28, 28).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "wide.png")
    for channels in (1, 3):
        x = read_image(tmp_path / "wide.png", (28, 28), channels).astype(float)
        assert x.shape == (28, 28, channels) and x.min() == 0 and x.max() == 255
        assert (x == 255).mean() < 0.01 and abs(x.mean() - 127.5) < 2  # the ramp, not a white image


def test_a_32_bit_grey_image_with_negative_pixels_is_refused_not_clipped(tmp_path):
    from PIL import Image

    from keras_ae.data.folder import read_image

    Image.fromarray(np.linspace(-500, 500, 28 * 28).reshape(28, 28).astype(np.int32)).save(tmp_path / "neg.tif")
    with pytest.raises(UsageError, match=r"neg\.tif holds negative pixels \(down to -500\)"):
        read_image(tmp_path / "neg.tif", (28, 28), 1)


def test_a_large_image_is_read_without_pil_s_warning(tmp_path, monkeypatch, recwarn):
    """Over PIL's 89-million-pixel warning (lowered here), an image is read like any other, with no warning
    lines; PIL's refusal of twice that stays."""
    from PIL import Image

    from keras_ae.data.folder import read_image

    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(np.zeros((40, 40), np.int32)).save(tmp_path / "big.tif")  # TIFF checks again as pixels load
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    for name in ("big.png", "big.tif"):
        assert read_image(tmp_path / name, (28, 28), 1).shape == (28, 28, 1)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    with pytest.raises(UsageError, match=r"cannot read image .*big\.png"):
        read_image(tmp_path / "big.png", (28, 28), 1)


def test_macos_attribute_files_beside_the_images_are_not_images(tmp_path):
    write_images(tmp_path / "cats", 4)
    for image in list((tmp_path / "cats").iterdir()):
        (image.parent / f"._{image.name}").write_bytes(b"\x00\x05\x16\x07" + bytes(60))  # AppleDouble's magic
    assert [p.name for p in data.folder.list_images(tmp_path)] == sorted(p.name for p in (tmp_path / "cats").iterdir()
                                                                         if not p.name.startswith("._"))
    assert len(data.load_folder(tmp_path, image_size=(8, 8)).x_train) == 3


def test_hidden_folders_and_files_are_no_images_of_the_set(tmp_path):
    """Jupyter's .ipynb_checkpoints/ beside the class folders became a class of its own."""
    write_images(tmp_path / "cats", 4)
    write_images(tmp_path / "dogs", 4)
    write_images(tmp_path / ".ipynb_checkpoints", 2)
    write_images(tmp_path / "cats" / ".cache", 2)
    (tmp_path / "dogs" / ".hidden.png").write_bytes((next((tmp_path / "dogs").iterdir())).read_bytes())
    assert {p.parent.name for p in data.folder.list_images(tmp_path)} == {"cats", "dogs"}
    assert len(data.folder.list_images(tmp_path)) == 8
