"""keras_ae.models.conv: the slide's conv table."""

import keras_ae


def test_conv_matches_slide_table():
    encoder, decoder, _ = keras_ae.build_conv()
    assert encoder.output_shape == (None, 4, 4, 8)
    valid = [layer for layer in decoder.layers if getattr(layer, "padding", None) == "valid"]
    assert [layer.filters for layer in valid] == [16]  # the 16 -> 14 step of the slide
    assert decoder.output_shape == (None, 28, 28, 1)
