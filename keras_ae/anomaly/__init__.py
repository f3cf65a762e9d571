"""Anomaly detection: threshold rules and metrics (shared by images and fraud), image scores and their
registry, one-class splits.

- `thresholds`: the registry `THRESHOLD_RULES`, `choose_threshold`, the O(n log n) best-threshold search
- `metrics`: `detection_metrics` (ROC-AUC, AP, accuracy, confusion at a threshold), `roc_auc_standard_error`
- `scores`: reconstruction errors, SSIM, VAE -ELBO, latent density, detail energy, contrast normalisation
- `image_scores`: the registry `IMAGE_SCORES` that `--score` chooses from
- `texture`: `band_energies`, the local texture energy the `texture` score measures
- `one_class`: `one_class_splits`, `ImageScorer`, `compare_scores` and `choose_score` (which score, on validation)
- `figures`: histograms, confusion matrix, ranked images
"""

from keras_ae.anomaly.metrics import detection_metrics, roc_auc_standard_error
from keras_ae.anomaly.scores import (
    CONTRAST_NORMS,
    ERROR_METRICS,
    LatentDensity,
    combine_scores,
    detail_energy,
    normalize_contrast,
    predict_reconstructions,
    reconstruction_errors,
    ssim,
    typicality_distance,
    vae_negative_elbo,
)
from keras_ae.anomaly.thresholds import (
    THRESHOLD_RULES,
    ThresholdRule,
    check_rule,
    choose_threshold,
    register_threshold_rule,
    threshold_fpr,
    threshold_max_accuracy,
    threshold_max_f1,
    threshold_percentile,
    threshold_quartile_gap,
    threshold_youden,
)

__all__ = [
    "CONTRAST_NORMS", "ERROR_METRICS", "THRESHOLD_RULES", "LatentDensity", "ThresholdRule", "check_rule",
    "choose_threshold", "combine_scores", "detail_energy", "detection_metrics", "normalize_contrast",
    "predict_reconstructions", "reconstruction_errors", "register_threshold_rule", "roc_auc_standard_error", "ssim",
    "threshold_fpr", "threshold_max_accuracy", "threshold_max_f1", "threshold_percentile", "threshold_quartile_gap",
    "threshold_youden", "typicality_distance", "vae_negative_elbo",
]
