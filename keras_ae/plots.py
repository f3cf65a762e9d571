"""Old import path of every figure (``from keras_ae import plots`` keeps working).

The figures now live beside their domain; this module only forwards names, imported on first use.
"""

from keras_ae.lazy import lazy_names

_SOURCES = {
    "keras_ae.figures": ("as_image", "correlation_heatmap", "grouped_bars", "image_grid", "image_rows",
                         "image_strip", "loss_curves", "mean_std_bars", "overlaid_curves", "roc_curves",
                         "save_figure"),
    "keras_ae.anomaly.figures": ("confusion_matrix", "ranked_images", "score_histograms"),
    "keras_ae.latent.figures": ("latent_scatter", "traversal_grid"),
    "keras_ae.lectures.figures": ("glyph_scatter",),
    "keras_ae.fraud.figures": ("error_histogram", "precision_recall_curve"),
}
_WHERE = {name: module for module, names in _SOURCES.items() for name in names}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
