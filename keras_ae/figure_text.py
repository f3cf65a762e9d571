"""The text of a figure as it is drawn: a user's names (folders, glyphs) exactly as written, never as
matplotlib's maths, and drawable whatever bytes they came from."""

from __future__ import annotations

from matplotlib.figure import Figure


def shown(text: str) -> str:
    """`text` as a font can draw it: a name that is not UTF-8 (a folder's bytes, kept by Python as lone
    surrogates) with the replacement character for each undecodable byte."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def plain_text(fig: Figure) -> None:
    """Titles, axis labels, legends and free text of `fig` drawn as written: a user's name with two '$' in it (a
    folder, a glyph) would otherwise be read as matplotlib's maths and stop the drawing, and one that is not UTF-8
    could not be drawn at all (`shown`). Tick labels keep their maths (a log axis writes its powers of ten that
    way)."""
    texts = [*fig.texts, *(t for t in (getattr(fig, "_suptitle", None),) if t is not None)]
    for ax in fig.axes:
        texts += [getattr(ax, name) for name in ("title", "_left_title", "_right_title") if hasattr(ax, name)]
        texts += [ax.xaxis.label, ax.yaxis.label, *ax.texts]
    for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]:
        if legend is not None:
            texts += [*legend.get_texts(), legend.get_title()]
    for text in texts:
        text.set_parse_math(False)
        text.set_text(shown(text.get_text()))
