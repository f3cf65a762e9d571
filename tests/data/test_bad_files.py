"""Bad data files refused with one line naming the file and what is wrong in it: npz image sets (pixels that are not
numbers, damaged members, pixel values and labels out of range), image folders (decompression bombs, float TIFFs,
images that cannot be decoded while streaming) and font files (code points that are no character)."""

import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from keras_ae.cli import anomaly as anomaly_cli
from keras_ae.cli import font as font_cli
from keras_ae.cli import train as train_cli
from keras_ae.data import folder, load_mnist_sample, pneumonia
from keras_ae.data.base import scale_images, shipped_file
from keras_ae.data.font import read_font
from keras_ae.data.stream import stream_folder
from keras_ae.errors import UsageError
from keras_ae.runs.common import require_finite
from tests.helpers import fake_pneumonia, one_line_error, write_images


def anomaly(path, tmp_path):
    return anomaly_cli.cli(["--dataset", "pneumonia", "--data-path", str(path), "--epochs", "1", "--train-size", "8",
                            "--verbose", "0", "--out", str(tmp_path / "run")])


def rewritten(path, tmp_path, compressed=True, **changes):
    """A copy of the npz `path` with some arrays replaced."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(changes)
    out = tmp_path / "changed.npz"
    (np.savez_compressed if compressed else np.savez)(out, **arrays)
    return out


@pytest.fixture
def npz(tmp_path):
    return fake_pneumonia(tmp_path / "pneumoniamnist.npz")


@pytest.mark.parametrize("compressed", [True, False])
def test_an_array_whose_header_claims_more_than_it_holds_is_a_damaged_file(npz, tmp_path, compressed):
    """The .npy header of train_images rewritten to a terabyte: named as damaged, not allocated (out of memory)."""
    import io

    with np.load(npz) as data:
        arrays = {key: data[key] for key in data.files}
    out = tmp_path / "lying.npz"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            if key == "train_images":
                np.lib.format.write_array_header_1_0(buffer, {"descr": "|u1", "fortran_order": False,
                                                              "shape": (10**6, 1000, 1000)})
                buffer.write(array.tobytes())
            else:
                np.save(buffer, array)
            archive.writestr(f"{key}.npy", buffer.getvalue())
    with pytest.raises(UsageError, match=re.escape(f"cannot read PneumoniaMNIST file {out}: its array train_images "
                                                   "declares shape [1000000, 1000, 1000] (1,000,000,000,000 bytes) "
                                                   f"but holds {arrays['train_images'].nbytes:,} bytes")):
        pneumonia.load_pneumonia(path=out)
    assert len(pneumonia.load_pneumonia(path=rewritten(npz, tmp_path, compressed)).x_train)  # a whole file reads


# ------------------------------------------------------------------------------------ pixels that are not numbers
def test_require_finite_names_an_image_with_a_single_bad_pixel():
    images = np.zeros((3, 2, 2, 1), dtype=np.float32)
    images[1, 0, 1, 0] = np.nan
    with pytest.raises(UsageError, match=re.escape("1 pixel(s) of the test images are NaN or infinite (first in "
                                                   "image 1)")):
        require_finite("mine", test=images)
    require_finite("mine", test=np.zeros((3, 2, 2, 1), dtype=np.float32))  # all numbers: no error


def test_an_npz_image_with_a_nan_pixel_is_named_where_the_file_is_read(npz, tmp_path, capsys):
    with np.load(npz) as data:
        train = data["train_images"] / np.float32(255.0)
    train[2, 5, 5] = np.nan
    path = rewritten(npz, tmp_path, train_images=train)
    one_line_error(anomaly(path, tmp_path), capsys, f"PneumoniaMNIST file {path}: 1 pixel(s) of the training images "
                   "are NaN or infinite (first in image 2 of train_images)")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------ damaged npz members
def damaged(path, tmp_path, compressed):
    """A copy of `path` (stored or compressed members) with bytes inside the train_images member overwritten."""
    copy = rewritten(path, tmp_path, compressed=compressed)
    with zipfile.ZipFile(copy) as archive:
        info = archive.getinfo("train_images.npy")
    raw = bytearray(copy.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    raw[middle: middle + 64] = bytes(64) if not compressed else bytes([0xFF]) * 64
    copy.write_bytes(bytes(raw))
    return copy


@pytest.mark.parametrize("compressed", [False, True], ids=["bad-crc", "bad-compressed-data"])
def test_a_damaged_npz_member_is_one_line_naming_the_file_and_array(npz, tmp_path, capsys, compressed):
    path = damaged(npz, tmp_path, compressed)
    with pytest.raises(Exception) as raw:  # what NumPy itself raises: no OSError or ValueError
        with np.load(path) as data:
            data["train_images"]
    assert not isinstance(raw.value, (OSError, ValueError))
    one_line_error(anomaly(path, tmp_path), capsys, f"cannot read PneumoniaMNIST file {path}: its array "
                                                    "train_images is damaged")


# ------------------------------------------------------------------------------------ npz pixel values and labels
def test_float_images_in_0_1_are_taken_as_they_are(npz, tmp_path):
    with np.load(npz) as data:
        floats = {f"{s}_images": data[f"{s}_images"] / np.float32(255.0) for s in ("train", "val", "test")}
    as_bytes, as_floats = pneumonia.load_pneumonia(path=npz), pneumonia.load_pneumonia(path=rewritten(npz, tmp_path,
                                                                                                      **floats))
    for split in ("x_train", "x_val", "x_test"):
        np.testing.assert_allclose(getattr(as_floats, split), getattr(as_bytes, split), rtol=0, atol=1e-7)
    assert as_floats.x_train.max() > 0.9  # not divided by 255 again


def test_whole_numbers_0_255_stored_as_floats_are_8_bit_levels(npz, tmp_path):
    with np.load(npz) as data:
        levels = data["train_images"].astype(np.float64)
    data = pneumonia.load_pneumonia(path=rewritten(npz, tmp_path, train_images=levels))
    np.testing.assert_array_equal(data.x_train, pneumonia.load_pneumonia(path=npz).x_train)


@pytest.mark.parametrize("images, found", [
    (np.full((30, 28, 28), -3, dtype=np.int16), "pixel values from -3 to -3 (int16)"),
    (np.full((30, 28, 28), 65535, dtype=np.uint16), "pixel values from 65535 to 65535 (uint16)"),
    (np.full((30, 28, 28), 300.5, dtype=np.float32), "pixel values from 300.5 to 300.5 (float32)"),
], ids=["negative", "uint16", "floats-above-255"])
def test_pixel_values_no_image_set_can_mean_are_refused(npz, tmp_path, capsys, images, found):
    path = rewritten(npz, tmp_path, train_images=images)
    one_line_error(anomaly(path, tmp_path), capsys, f"PneumoniaMNIST file {path}: train_images holds {found}",
                   "expected integers 0..255, floats up to 255 or floats in [0, 1]")


@pytest.mark.parametrize("label", [7, -1])
def test_labels_outside_the_classes_are_refused_naming_the_split(npz, tmp_path, capsys, label):
    labels = (np.arange(12) % 2).reshape(12, 1).astype(np.int64)
    labels[4] = label
    path = rewritten(npz, tmp_path, val_labels=labels)
    one_line_error(anomaly(path, tmp_path), capsys, f"PneumoniaMNIST file {path}: val_labels holds the label {label} "
                                                    "in 1 row(s); expected class labels 0..1")


def test_uint8_image_sets_load_exactly_as_before():
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    np.testing.assert_array_equal(scale_images(x), (np.asarray(x, dtype=np.float32) / 255.0)[..., None])
    sample = load_mnist_sample()
    with np.load(shipped_file("mnist_sample.npz")) as raw:
        np.testing.assert_array_equal(sample.x_train[..., 0], np.asarray(raw["x_train"], dtype=np.float32) / 255.0)


# ------------------------------------------------------------------------------------ image folders
def test_an_image_over_the_decompression_bomb_limit_is_one_line(tmp_path, capsys, monkeypatch):
    write_images(tmp_path / "images", 4)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 40x30 images are more than twice this many pixels
    code = train_cli.cli(["--dataset", f"folder:{tmp_path / 'images'}", "--arch", "dense", "--epochs", "1",
                          "--out", str(tmp_path / "run")])
    one_line_error(code, capsys, f"cannot read image {tmp_path / 'images' / '0.png'}", "decompression bomb")


def test_a_float_tiff_in_0_1_is_scaled_like_float_pixels_and_any_other_range_refused(tmp_path):
    ramp = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    Image.fromarray(ramp, mode="F").save(tmp_path / "unit.tiff")
    x = folder.read_image(tmp_path / "unit.tiff", (28, 28), 1).astype(float)
    assert x.min() == 0 and x.max() == 255 and abs(x.mean() - 127.5) < 1  # the ramp, not a black image
    Image.fromarray(ramp * 1000, mode="F").save(tmp_path / "wide.tiff")
    with pytest.raises(UsageError, match=re.escape(f"image {tmp_path / 'wide.tiff'} holds pixel values from 0 to "
                                                   "1000 (float32), expected integers 0..255, floats up to 255 "
                                                   "or floats in [0, 1]")):
        folder.read_image(tmp_path / "wide.tiff", (28, 28), 1)


def _damaged_pngs():
    """Two damaged 12x12 PNGs PIL raises other errors than OSError for: a header chunk one byte short (ValueError),
    a second data chunk with a garbled type (SyntaxError)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"".join(b"\x00" + bytes(range(12)) for _ in range(12)))
    head, start = struct.pack(">IIBBBBB", 12, 12, 8, 0, 0, 0, 0), b"\x89PNG\r\n\x1a\n"
    short = start + struct.pack(">I", 12) + b"IHDR" + head[:12] + struct.pack(">I", zlib.crc32(b"IHDR" + head[:12]))
    second = chunk(b"IDAT", rows[len(rows) // 2:])
    garbled = start + chunk(b"IHDR", head) + chunk(b"IDAT", rows[:len(rows) // 2]) + second[:4] + \
        b"\x83\xad\xa3\xc8" + second[8:] + chunk(b"IEND", b"")
    return {"short-header.png": short + chunk(b"IDAT", rows) + chunk(b"IEND", b""), "garbled-chunk.png": garbled}


@pytest.mark.parametrize("name", ["short-header.png", "garbled-chunk.png"])
def test_a_damaged_png_is_one_line_naming_it_in_memory_and_streamed(tmp_path, name):
    write_images(tmp_path, 4)
    (tmp_path / name).write_bytes(_damaged_pngs()[name])
    with pytest.raises(UsageError, match=re.escape(f"cannot read image {tmp_path / name}: ")):
        folder.read_image(tmp_path / name, (12, 12), 1)
    problem = stream_folder(tmp_path, image_size=(12, 12)).undecodable()
    assert f"cannot decode image {tmp_path / name} while streaming" in str(problem), problem


def test_a_lab_image_is_read_as_grey_by_its_lightness(tmp_path):
    Image.new("LAB", (6, 6), (50, 10, 10)).save(tmp_path / "lab.tif")
    grey = folder.read_image(tmp_path / "lab.tif", (6, 6), 1)
    assert grey.shape == (6, 6, 1) and (grey == 50).all()
    assert folder.read_image(tmp_path / "lab.tif", (6, 6), 3).shape == (6, 6, 3)


# ------------------------------------------------------------------------------------ streamed folders
def test_a_streamed_test_image_that_cannot_be_decoded_is_named(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    with pytest.raises(UsageError, match=r"cannot decode image .*[0-2]\.png while streaming \(.*\); the file is "
                                         r"broken or no image$"):
        stream_folder(tmp_path)


def test_a_streamed_cmyk_jpeg_is_one_line_naming_it(tmp_path, capfd):
    Image.new("CMYK", (8, 8), (0, 50, 100, 0)).save(tmp_path / "ink.jpg")
    Image.new("CMYK", (8, 8), (90, 0, 10, 0)).save(tmp_path / "more.jpg")
    code = train_cli.cli(["--dataset", f"folder:{tmp_path}", "--stream", "--arch", "dense", "--epochs", "1",
                          "--out", str(tmp_path.parent / "run")])
    one_line_error(code, capfd, "while streaming", "a CMYK image that TensorFlow cannot read",
                   "load the folder into memory instead (without --stream)")


def test_a_streamed_training_file_that_cannot_be_decoded_can_be_named(tmp_path):
    write_images(tmp_path, 10)
    test_file = sorted(tmp_path.iterdir())[np.random.default_rng(0).permutation(10)[0]]  # the split stream_folder makes
    broken = next(p for p in sorted(tmp_path.iterdir()) if p != test_file)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    data = stream_folder(tmp_path)
    assert str(broken) in str(data.undecodable()) and "while streaming" in str(data.undecodable())
    broken.unlink()
    assert stream_folder(tmp_path).undecodable() is None


# ------------------------------------------------------------------------------------ font files
@pytest.mark.parametrize("code", ["0x110000", "-0x61", "0xFFFFFFFFFFFFFFFFFFFF", "0xD800", "0xDFFF"])
def test_a_font_code_that_is_no_unicode_character_is_refused_when_read(tmp_path, capsys, code):
    lines = shipped_file("font5x7.txt").read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("0x"))
    lines[first] = code  # no name: the name would be the character
    font = tmp_path / "font.txt"
    font.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=re.escape(f"font file {font} line {first + 1}: {code} is not a Unicode "
                                                   "character")):
        read_font(font)
    code_ = font_cli.cli(["--font", str(font), "--max-epochs", "1", "--out", str(tmp_path / "run")])
    one_line_error(code_, capsys, str(font), f"line {first + 1}", code)
    assert not (tmp_path / "run").exists()


def test_a_folder_too_large_for_the_machine_at_its_image_size_is_refused_before_reading(tmp_path, monkeypatch):
    for i in range(3):
        Image.new("L", (8, 8), color=i * 40).save(tmp_path / f"{i}.png")
    monkeypatch.setattr(folder, "machine_memory", lambda: 10 * 2**20)  # a machine of 10 MiB
    monkeypatch.setattr(folder, "read_image", lambda *a: pytest.fail("an image was read"))
    with pytest.raises(UsageError, match=r"1000x1000 for 3 image\(s\) needs about 14 MiB, more than .* 10 MiB"):
        folder.load_folder(tmp_path, image_size=(1000, 1000))


def test_a_streamed_folder_whose_test_images_are_too_large_for_the_machine_is_refused_before_reading(
        tmp_path, monkeypatch, capsys):
    from keras_ae.cli import train

    (tmp_path / "images").mkdir()
    for i in range(20):
        Image.new("L", (8, 8), color=i * 10).save(tmp_path / "images" / f"{i}.png")
    monkeypatch.setattr(folder, "machine_memory", lambda: 10 * 2**20)  # a machine of 10 MiB
    code = train.cli(["--dataset", f"folder:{tmp_path / 'images'}", "--stream", "--image-size", "2000", "--epochs", "1",
                      "--out", str(tmp_path / "run")])
    one_line_error(code, capsys, "2000x2000 for 2 image(s) needs about 38 MiB", "--test-size")
    assert not (tmp_path / "run").exists()


def test_float_levels_with_fractions_and_a_resize_overshoot_are_read_as_levels_and_intensities():
    ramp = np.linspace(0, 255, 28 * 28, dtype=np.float32).reshape(1, 28, 28)  # 127.5 and the like: 8-bit levels
    np.testing.assert_allclose(scale_images(ramp), ramp[..., None] / 255.0, rtol=1e-6)
    unit = np.clip(ramp / 255.0, 0, 1)
    unit[0, 0, 0], unit[0, 0, 1] = -1e-7, 1 + 1e-7  # a float resize's overshoot
    scaled = scale_images(unit)
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert scale_images(np.ones((1, 4, 4), dtype=bool)).max() == 1.0
