"""keras_ae.latent.figures and loss curves: classes named in a legend, the stages of a two-stage run marked."""

import pathlib
import warnings

import numpy as np
import pytest

from keras_ae import figures
from keras_ae.latent import figures as latent_figures


@pytest.fixture
def drawn(monkeypatch):
    """The figures the functions would save, kept open for the test to read."""
    kept = []

    def keep(fig, path):
        kept.append(fig)
        return str(path)

    monkeypatch.setattr(latent_figures, "save_figure", keep)
    monkeypatch.setattr(figures, "save_figure", keep)
    return kept


def test_few_integer_labels_get_a_legend_of_named_classes(drawn, tmp_path):
    codes = np.random.default_rng(0).normal(size=(30, 4))
    labels = np.repeat(np.arange(3), 10)
    latent_figures.latent_scatter(codes, labels, tmp_path / "a.png", label_names=["frown", "straight", "smile"],
                                  label_title="mouth class")
    fig = drawn[-1]
    assert len(fig.axes) == 1, "no colour bar beside a legend"
    legend = fig.axes[0].get_legend()
    assert legend.get_title().get_text() == "mouth class"
    assert [t.get_text() for t in legend.get_texts()] == ["0 frown", "1 straight", "2 smile"]
    latent_figures.latent_scatter(codes, labels, tmp_path / "b.png")  # no names: the numbers alone
    assert [t.get_text() for t in drawn[-1].axes[0].get_legend().get_texts()] == ["0", "1", "2"]


def test_continuous_or_many_labels_get_a_colour_bar(drawn, tmp_path):
    codes = np.random.default_rng(0).normal(size=(40, 2))
    for labels in (np.linspace(0, 1, 40), np.arange(40)):
        latent_figures.latent_scatter(codes, labels, tmp_path / "c.png")
        assert len(drawn[-1].axes) == 2 and drawn[-1].axes[0].get_legend() is None


def test_a_two_stage_loss_curve_marks_where_the_vae_stage_begins(drawn, tmp_path):
    history = {"loss": [5.0, 4.0, 9.0, 8.0, 7.5], "val_loss": [5.1, 4.2, 9.1, 8.2, 7.7]}
    figures.loss_curves(history, tmp_path / "loss.png", stages=[("autoencoder (beta 0)", 2), ("VAE", 3)])
    ax = drawn[-1].axes[0]
    assert [t.get_text() for t in ax.texts] == ["autoencoder (beta 0)", "VAE"]
    boundaries = [line.get_xdata()[0] for line in ax.lines if len(set(line.get_xdata())) == 1]
    assert boundaries == [2.5]
    figures.loss_curves(history, tmp_path / "plain.png")
    assert not drawn[-1].axes[0].texts


def test_a_title_in_a_script_the_font_lacks_saves_without_a_warning_per_character(tmp_path):
    """A folder name in Chinese in a title: boxes in the picture, not four lines of matplotlib warnings."""
    import warnings

    from keras_ae import figures

    fig, ax = figures.subplots()
    ax.set_title("folder:/data/图像")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures.save_figure(fig, tmp_path / "t.png")
    assert [str(w.message) for w in caught] == [] and (tmp_path / "t.png").stat().st_size > 0


def test_a_single_code_of_many_dimensions_is_drawn_without_a_projection(tmp_path):
    """One test image (a small folder): PCA has no direction to find; the code's first two numbers are drawn."""
    path = latent_figures.latent_scatter(np.array([[0.1, 0.2, 0.3]]), None, tmp_path / "one.png")
    assert pathlib.Path(path).stat().st_size > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PCA of identical codes divides by zero
        latent_figures.latent_scatter(np.ones((3, 5)), None, tmp_path / "same.png")
