"""The font's latent-space picture: every glyph's name is placed where it covers no other name or glyph when the
plane leaves room for it."""

from __future__ import annotations

import numpy as np


def test_crowded_names_do_not_cover_each_other(tmp_path, monkeypatch):
    from keras_ae.lectures import figures

    placed = {}
    original = figures.place_labels

    def spy(fig, ax, labels, boxes):
        original(fig, ax, labels, boxes)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        renderer = FigureCanvasAgg(fig).get_renderer()
        ax.apply_aspect()  # the shape the axes are drawn in
        placed["labels"] = [text.get_window_extent(renderer) for text, *_ in labels]
        placed["boxes"] = [box.get_window_extent(renderer) for box in boxes]

    monkeypatch.setattr(figures, "place_labels", spy)
    # a cluster of five glyphs a little more than a glyph apart (where a name always at the top right covers its
    # neighbour's glyph), and the rest of the plane far away
    codes = np.array([[6.0, -3.0], [7.0, -3.0], [8.0, -3.0], [7.0, -1.8], [6.0, -1.8], [-5, 8], [0, -8]])
    images = np.random.default_rng(0).random((len(codes), 7, 5)) > 0.5
    names = ["o", "d", "u", "n", "c", "l", "h"]
    path = figures.glyph_scatter(codes, images, names, tmp_path / "latent.png",
                                 extra={"new: m+n": (np.array([7.0, -4.2]), images[0])})
    assert (tmp_path / "latent.png").stat().st_size > 0 and path.endswith("latent.png")

    def overlap(a, b):
        return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))

    labels, boxes = placed["labels"], placed["boxes"]
    assert len(labels) == len(names) + 1
    for i, a in enumerate(labels):
        for j, b in enumerate(labels[:i]):
            assert overlap(a, b) < 1.0, f"the names {i} and {j} cover each other"
    # no name lies across a glyph of the cluster other than its own
    assert sum(overlap(a, box) for i, a in enumerate(labels) for j, box in enumerate(boxes) if i != j) < 1.0


def test_the_font_s_epoch_cap_is_whole_keras_epochs_of_ten_passes_or_fewer():
    from keras_ae.lectures.characters import epoch_cap, passes_in_an_epoch

    assert [epoch_cap(n) for n in (1, 5, 10, 25, 10_000)] == [1, 5, 10, 30, 10_000]
    assert passes_in_an_epoch(5) == 5 and passes_in_an_epoch(10_001) == 10


def test_a_code_of_one_number_is_drawn_along_one_axis(tmp_path, monkeypatch):
    """--latent-dim 1: each glyph at its code on the x axis, stacked upwards in the code's order."""
    from keras_ae.lectures import figures

    drawn = {}
    monkeypatch.setattr(figures, "place_labels", lambda fig, ax, labels, boxes: drawn.update(
        at=[(x, y) for _, x, y, *_ in labels]))
    codes = np.array([[0.5], [-1.0], [2.0]])
    images = np.zeros((3, 7, 5))
    figures.glyph_scatter(codes, images, ["a", "b", "c"], tmp_path / "latent.png",
                          extra={"new": (np.array([1.0]), images[0])})
    assert [x for x, _ in drawn["at"]] == [0.5, -1.0, 2.0, 1.0]
    heights = [y for _, y in drawn["at"]]
    assert heights[1] < heights[0] < heights[3] < heights[2]  # the order along the code


def test_names_with_dollar_signs_are_drawn_as_written(tmp_path):
    """matplotlib reads text between two '$' as maths: a glyph named '$$' or a folder 'cost$_$data' stopped the
    drawing with a parse error."""
    from keras_ae import figures as common
    from keras_ae.lectures import figures

    codes = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    figures.glyph_scatter(codes, np.zeros((3, 7, 5)), ["$$", "$_$", "C"], tmp_path / "latent.png")
    fig, ax = common.subplots()
    ax.plot([0, 1], label="a $x$ label")
    ax.set_title("dense on folder:cost$_$data")
    ax.set_xlabel("$$")
    ax.legend()
    common.save_figure(fig, tmp_path / "loss.png")
    assert ax.title.get_text() == "dense on folder:cost$_$data" and not ax.title.get_parse_math()
    assert (tmp_path / "latent.png").stat().st_size > 0 and (tmp_path / "loss.png").stat().st_size > 0


def test_a_name_that_is_not_utf8_is_drawn_with_replacement_characters(tmp_path):
    """A folder named with the bytes caf\\xe9 reaches Python as 'caf\\udce9'; the font could not draw it."""
    from keras_ae import figures as common

    fig, ax = common.subplots()
    ax.plot([0, 1], label="caf\udce9")
    ax.set_title("dense on folder:caf\udce9")
    ax.legend()
    common.save_figure(fig, tmp_path / "loss.png")
    assert ax.title.get_text() == "dense on folder:caf\ufffd" and (tmp_path / "loss.png").stat().st_size > 0
    from keras_ae.figure_text import shown

    assert shown("\ud800 x") == "? x" and shown("plain") == "plain"
