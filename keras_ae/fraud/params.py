"""The fraud detector's numeric parameters, one specification each (`keras_ae.options`): `FraudDetector`, the fit
command's options and config files all check them with these (light: importing it loads no NumPy or Keras)."""

from __future__ import annotations

from keras_ae import options

SPECS = {
    "n_models": options.POSITIVE_INT, "epochs": options.POSITIVE_INT, "patience": options.POSITIVE_INT,
    "learning_rate": options.POSITIVE, "validation_fraction": options.FRACTION_OPEN,
    "noise": options.NON_NEGATIVE, "weight_decay": options.NON_NEGATIVE, "clip": options.POSITIVE,
    "trim_fraction": options.Spec(float, 0, 0.5, high_open=True), "batch_size": options.OPTIONAL_POSITIVE_INT,
    "latent_dim": options.OPTIONAL_POSITIVE_INT, "n_neighbors": options.POSITIVE_INT,
    "ae_weight": options.Spec(float, 0, 1e6), "max_reference": options.Spec(int, 2), "seed": options.SEED,
}
TIME_MODES = ("drop", "hour", "keep")
METHODS = ("ae+knn", "ae", "knn")
UNSCORABLE = ("refuse", "flag")  # what a detector does with a row it cannot score (see `keras_ae.fraud.rows`)
