"""keras_ae.lectures.characters: the per-character criterion and the stop-when-reconstructed callback."""

import numpy as np

from keras_ae.data import font as font_data
from keras_ae.lectures import characters


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
