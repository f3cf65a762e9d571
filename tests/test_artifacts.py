"""keras_ae.artifacts: models saved and loaded back give identical outputs."""

import numpy as np
import pytest

from keras_ae import models, training
from tests.helpers import default_input

ALL = list(models.ARCHITECTURES)


@pytest.mark.parametrize("name", ALL)
def test_save_load_round_trip_gives_identical_outputs(name, tmp_path):
    from keras_ae import artifacts

    bundle = models.build(name)
    training.compile_model(bundle.autoencoder)
    x = default_input(name, 5, seed=3)
    expected = [m.predict(x if i != 1 else bundle.encoder.predict(x, verbose=0), verbose=0)
                for i, m in enumerate(bundle) if i != 1]
    artifacts.save_models(bundle, tmp_path)
    loaded = artifacts.load_models(tmp_path)
    assert type(loaded.autoencoder) is type(bundle.autoencoder)
    got = [m.predict(x if i != 1 else loaded.encoder.predict(x, verbose=0), verbose=0)
           for i, m in enumerate(loaded) if i != 1]
    for e, g in zip(expected, got):
        for a, b in zip(e if isinstance(e, list) else [e], g if isinstance(g, list) else [g]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_missing_or_damaged_model_file_is_named_as_such(tmp_path):
    import re

    from keras_ae import artifacts
    from keras_ae.errors import UsageError

    (tmp_path / "every" / "normal-0").mkdir(parents=True)
    artifacts.save_models(models.build("dense"), tmp_path / "every" / "normal-0")
    with pytest.raises(UsageError, match=re.escape("holds no encoder.keras; the models of a run of every class are in "
                                                   "its normal-* folders (normal-0, ...)")):
        artifacts.load_models(tmp_path / "every")
    with pytest.raises(UsageError, match="holds no encoder.keras; load a run directory of train.py or anomaly.py"):
        artifacts.load_models(tmp_path)
    run = tmp_path / "every" / "normal-0"
    (run / "decoder.keras").write_bytes((run / "decoder.keras").read_bytes()[:100])
    with pytest.raises(UsageError, match=re.escape(f"cannot load {run / 'decoder.keras'}: not a Keras model file (a "
                                                   ".keras file is a zip archive; this one of 100 bytes is not")):
        artifacts.load_models(run)  # Keras's own words: "File not found"


def test_model_files_from_two_runs_are_refused(tmp_path):
    import re
    import shutil

    import keras

    from keras_ae import artifacts
    from keras_ae.errors import UsageError

    for run, seed in (("a", 0), ("b", 1)):
        keras.utils.set_random_seed(seed)
        artifacts.save_models(models.build("conv"), tmp_path / run)
    assert artifacts.load_models(tmp_path / "a").encoder is not None
    shutil.copy(tmp_path / "b" / "encoder.keras", tmp_path / "a" / "encoder.keras")
    with pytest.raises(UsageError, match=re.escape(f"the models in {tmp_path / 'a'} are not from one run")):
        artifacts.load_models(tmp_path / "a")
    artifacts.save_models(models.build("dense", latent_dim=16), tmp_path / "c")
    shutil.copy(tmp_path / "c" / "decoder.keras", tmp_path / "b" / "decoder.keras")
    with pytest.raises(UsageError, match="are not from one run"):
        artifacts.load_models(tmp_path / "b")


@pytest.mark.parametrize("name", ["dense", "vae"])
def test_swapped_encoder_and_decoder_files_are_refused(name, tmp_path):
    """The file names swapped, the model names inside swap with them: the decoder came back as the encoder."""
    from keras_ae import artifacts
    from keras_ae.errors import UsageError

    artifacts.save_models(models.build(name), tmp_path)
    assert artifacts.load_models(tmp_path).encoder.input_shape[1:] == models.build(name).encoder.input_shape[1:]
    (tmp_path / "encoder.keras").rename(tmp_path / "t.keras")
    (tmp_path / "decoder.keras").rename(tmp_path / "encoder.keras")
    (tmp_path / "t.keras").rename(tmp_path / "decoder.keras")
    with pytest.raises(UsageError, match=r"encoder.keras holds the model named 'decoder' and decoder.keras the one "
                                         r"named 'encoder': the two files are swapped"):
        artifacts.load_models(tmp_path)


def test_roles_are_checked_by_shape_where_names_say_nothing_and_any_size_fits(tmp_path):
    import keras

    from keras_ae import artifacts
    from keras_ae.errors import UsageError

    def part(name, shape, width, pool=False):
        x = keras.Input(shape)
        y = keras.layers.GlobalAveragePooling2D()(x) if pool else x
        return keras.Model(x, keras.layers.Dense(width)(y), name=name)

    def save(encoder, decoder, autoencoder, run):
        artifacts.save_models(models.base.Autoencoder(encoder, decoder, autoencoder), run)

    encoder, decoder = part("enc", (None, None, 1), 4, pool=True), part("dec", (4,), 16)  # for any image size
    x = keras.Input((4, 4, 1))
    save(encoder, decoder, keras.Model(x, decoder(encoder(x)), name="ae"), tmp_path / "any")
    assert artifacts.load_models(tmp_path / "any").encoder.name == "enc"
    encoder = part("enc", (16,), 4)
    x = keras.Input((16,))
    save(decoder, encoder, keras.Model(x, decoder(encoder(x)), name="ae"), tmp_path / "swapped")
    with pytest.raises(UsageError, match=r"encoder.keras does not take what the autoencoder takes in"):
        artifacts.load_models(tmp_path / "swapped")


def test_a_model_file_with_weights_that_are_not_numbers_is_named(tmp_path):
    from keras_ae import artifacts
    from keras_ae.errors import UsageError

    bundle = models.build("dense")
    artifacts.save_models(bundle, tmp_path)
    weights = bundle.autoencoder.get_weights()
    weights[0][0, 0] = np.nan
    bundle.autoencoder.set_weights(weights)
    bundle.autoencoder.save(tmp_path / "autoencoder.keras")
    with pytest.raises(UsageError, match=r"autoencoder.keras: some of its weights are not numbers"):
        artifacts.load_models(tmp_path)


@pytest.mark.parametrize("name", ["conv", "vae"])
def test_loaded_models_share_weights_as_built_ones_do(name, tmp_path):
    """Training the loaded autoencoder moves its encoder and decoder (they were loaded as three separate models)."""
    from keras_ae import artifacts

    artifacts.save_models(models.build(name), tmp_path)
    loaded = artifacts.load_models(tmp_path)
    x = default_input(name, 16, seed=1)
    before = [w.numpy().copy() for w in loaded.encoder.trainable_weights]
    if name == "vae":
        loaded.autoencoder.fit(x, epochs=1, verbose=0)
    else:
        loaded.autoencoder.fit(x, x, epochs=1, verbose=0)
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, loaded.encoder.trainable_weights))
    if name == "conv":
        np.testing.assert_allclose(loaded.autoencoder.predict(x, verbose=0),
                                   loaded.decoder.predict(loaded.encoder.predict(x, verbose=0), verbose=0),
                                   rtol=1e-5, atol=1e-6)
