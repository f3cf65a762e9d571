"""keras_ae.cli.font: the 5x7 character command (reconstruction and denoising) and its bad options."""

import json

import pytest

from keras_ae.cli import font as font_cli
from keras_ae.data import font as font_data


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


def test_denoising_mode_reports_each_noise_level(tmp_path, capsys, monkeypatch):
    from keras_ae import figures

    drawn, real = {}, figures.image_rows

    def spy(rows, labels, path, **options):
        drawn.update(labels=list(labels), **options)
        return real(rows, labels, path, **options)

    monkeypatch.setattr(figures, "image_rows", spy)
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
    # the examples: the clean characters on top, named, then each level's noisy input and the denoiser's output
    assert drawn["labels"] == ["clean", "20% noisy", "denoised", "90% noisy", "denoised"] and drawn["title"]
    assert drawn["captions"][0][:3] == ["'`'", "a", "b"] and drawn["captions"][1:] == [None] * 4
    assert (out / "denoising_examples.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["--activation", "swish"], "--activation: unknown activation 'swish'"),
    (["--hidden", "25,x"], "--hidden must be a comma-separated list, each an integer >= 1, received 25,x"),
    (["--noise-levels", "0.2,1.5"],
     "--noise-levels must be a comma-separated list, each a finite number in [0, 1], received 0.2,1.5"),
    (["--concept", "m,A"], "unknown character 'A'"),
    (["--lr", "-1"], "--lr must be a finite number > 0 (at most 3.4e+38, float32's largest), received -1"),
    (["--lr", "1e-300"], "and at least 1.4e-45 (float32's smallest), received 1e-300"),
    (["--steps", "1"], "--steps must be an integer in [2, 100], received 1"),
])
def test_bad_font_options_give_one_line_errors(argv, message, tmp_path, capsys):
    assert font_cli.cli([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_font_file_that_is_not_text_is_one_line(tmp_path, capsys):
    picture = tmp_path / "glyphs.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert font_cli.cli(["--font", str(picture), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "glyphs.png is not UTF-8 text (byte 0x89 at position 0)" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_a_denoising_run_on_a_font_without_the_default_pair_characters(tmp_path, capsys):
    """--between and --concept (m, n, s by default) are options of the reconstruction run only."""
    glyphs = {"a": [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
              "b": ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."]}
    (tmp_path / "ab.txt").write_text("".join(f"{ord(n):#x} {n}\n" + "\n".join(rows) + "\n\n"
                                             for n, rows in glyphs.items()))
    code = font_cli.cli(["--font", str(tmp_path / "ab.txt"), "--denoise", "--denoise-epochs", "1", "--draws", "1",
                         "--copies", "1", "--noise-levels", "0.2", "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    assert list(json.loads((tmp_path / "run" / "font.json").read_text())["levels"]) == ["0.2"]
    assert font_cli.cli(["--font", str(tmp_path / "ab.txt"), "--out", str(tmp_path / "plain")]) == 2
    assert "--between: unknown character 'm'" in capsys.readouterr().err


def test_noise_levels_that_would_share_a_report_key_are_refused(capsys):
    assert font_cli.cli(["--denoise", "--noise-levels", "0.1234567,0.12345678"]) == 2
    assert "lists a level twice (to 6 significant digits)" in capsys.readouterr().err


def test_a_font_of_many_glyphs_draws_only_the_first_ones(tmp_path, capsys, monkeypatch):
    """2,000 glyphs trained in seconds, then drew for minutes (a picture 1,000 glyphs wide)."""
    import numpy as np
    from PIL import Image

    from keras_ae.lectures import font

    rng = np.random.default_rng(0)
    lines = []
    for i in range(20):
        lines += [f"{i:#06x} g{i}", *("".join("#" if b else "." for b in rng.random(5) < 0.4) for _ in range(7)), ""]
    (tmp_path / "many.txt").write_text("\n".join(lines))
    widths = {}
    for shown in (20, 8):
        monkeypatch.setattr(font, "SHOWN", shown)
        out = tmp_path / f"run{shown}"
        code = font_cli.cli(["--font", str(tmp_path / "many.txt"), "--max-epochs", "1", "--between", "g1,g2",
                             "--concept", "g3,g4", "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        assert len(json.loads((out / "font.json").read_text())["wrong_pixels"]) == 20  # every glyph is measured
        with Image.open(out / "reconstruction.png") as picture:
            widths[shown] = picture.width
    assert widths[8] < 0.8 * widths[20]  # 4 columns drawn, not 10 (the title keeps some width)
