"""The 5x7 font, the per-character criterion and scripts/font.py (reconstruction and denoising modes)."""

import json

import numpy as np
import pytest

from keras_ae.cli import font as font_cli
from keras_ae.data import font as font_data
from keras_ae.data import load_dataset
from keras_ae.errors import UsageError
from keras_ae.lectures import characters


def test_font_has_32_distinct_5x7_binary_glyphs_from_backtick_to_del():
    font = font_data.read_font()
    assert font.bitmaps.shape == (32, 7, 5) and font.vectors.shape == (32, 35)
    assert set(np.unique(font.vectors)) == {0.0, 1.0}
    assert list(font.codes) == list(range(0x60, 0x80))
    assert font.names[0] == "`" and font.names[1:27] == [chr(c) for c in range(ord("a"), ord("z") + 1)]
    assert font.names[27:] == ["{", "|", "}", "~", "DEL"]
    assert len({v.tobytes() for v in font.vectors}) == 32, "two characters share a bitmap"
    assert font.vectors.sum(axis=1).min() >= 3, "a glyph is (nearly) empty"
    assert font_data.glyph_text(font.bitmaps[font.index("|")]) == ["..#.."] * 7


def test_font_dataset_is_registered_as_images():
    data = load_dataset("font5x7")
    assert data.x_train.shape == (32, 7, 5, 1) and data.info["characters"][-1] == "DEL"


def test_malformed_font_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("0x61 a\n.....\n..#..\n.###\n.....\n.....\n.....\n.....\n")
    with pytest.raises(UsageError, match=r"bad.txt line 4: expected 5 of '#'/'.', received '.###'"):
        font_data.read_font(bad)
    with pytest.raises(UsageError, match="unknown character 'A'"):
        font_data.read_font().index("A")


def test_pixel_errors_count_thresholded_differences():
    target = np.array([[0, 1, 1, 0], [1, 1, 1, 1]], dtype=np.float32)
    output = np.array([[0.1, 0.9, 0.4, 0.6], [0.51, 0.7, 0.99, 0.2]], dtype=np.float32)
    assert characters.pixel_errors(output, target).tolist() == [2, 1]


def test_stop_callback_stops_training_once_every_glyph_is_within_the_target():
    x = font_data.read_font().vectors[:4]
    model = characters.build_font_autoencoder(hidden=(16,), latent_dim=2)
    # max_wrong=35 is met by any output: training must stop after the first check.
    fit = characters.train_until_reconstructed(x, model, max_epochs=500, max_wrong=35, passes_per_epoch=5)
    assert fit.reached_epoch == 5 and fit.epochs == 5 and len(fit.history["loss"]) == 1


def test_font_command_reports_every_character_and_draws_the_latent_space(tmp_path, capsys):
    out = tmp_path / "font"
    code = font_cli.cli(["--max-epochs", "40", "--out", str(out), "--concept", "m,s", "--steps", "5"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads((out / "font.json").read_text())
    assert report["architecture"] == [35, 25, 10, 2, 10, 25, 35]
    assert report["epochs_run"] == 40
    assert set(report["wrong_pixels"]) == set(font_data.read_font().names)
    assert report["total_wrong_pixels"] == sum(report["wrong_pixels"].values())
    # 40 epochs are far too few: the report says so instead of claiming the target.
    assert report["epochs_needed"] is None and "not reached in 40 epochs" in captured.out
    assert len(report["concept_vector"]["bitmaps"]) == 5 and len(report["codes"]["m"]) == 2
    assert len(report["new_character"]["bitmap"]) == 7
    for name in report["pictures"]:
        assert (out / name).stat().st_size > 1000, name


def test_denoising_mode_reports_each_noise_level(tmp_path, capsys):
    out = tmp_path / "denoise"
    code = font_cli.cli(["--denoise", "--noise-levels", "0.2,0.9", "--denoise-epochs", "2", "--copies", "2",
                         "--draws", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "font.json").read_text())
    assert set(report["levels"]) == {"0.2", "0.9"}
    low, high = report["levels"]["0.2"], report["levels"]["0.9"]
    assert len(low["output_wrong_pixels"]) == 32
    # Salt-and-pepper flips about half of the hit pixels of a binary glyph.
    assert 1.5 < low["mean_input_wrong"] < 5.5 < 10 < high["mean_input_wrong"] < 22
    assert (out / "denoising_errors.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["--activation", "swish"], "--activation: unknown activation 'swish'"),
    (["--hidden", "25,x"], "--hidden must be comma-separated integers, received '25,x'"),
    (["--noise-levels", "0.2,1.5"], "--noise-levels must be fractions in [0, 1], received [0.2, 1.5]"),
    (["--concept", "m,A"], "unknown character 'A'"),
    (["--lr", "-1"], "--lr must be > 0, received -1.0"),
])
def test_bad_font_options_give_one_line_errors(argv, message, tmp_path, capsys):
    assert font_cli.cli([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
