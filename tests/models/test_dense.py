"""keras_ae.models.dense: the slide's dense layer split."""

import keras_ae


def test_dense_layer_split_matches_slide():
    encoder, decoder, _ = keras_ae.build_dense(input_shape=(784,))
    assert encoder.count_params() == 25_120 and decoder.count_params() == 25_872
