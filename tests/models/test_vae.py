"""keras_ae.models.vae: losses, beta as a variable, training again after loading."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import training


def test_vae_losses_are_finite_and_kl_non_negative(tiny_images):
    x_train, x_val = tiny_images
    training.set_seed(0)
    bundle = keras_ae.build_vae()
    training.compile_model(bundle.autoencoder)
    history = training.fit(bundle, x_train, x_val, epochs=2, batch_size=32, verbose=0).history
    for key in ("loss", "reconstruction_loss", "kl_loss", "val_loss", "val_kl_loss"):
        assert np.all(np.isfinite(history[key])), key
    assert min(history["kl_loss"] + history["val_kl_loss"]) >= 0
    # loss = reconstruction + beta * KL with beta = 1, per batch, so the epoch means add up too
    np.testing.assert_allclose(history["val_loss"],
                               np.add(history["val_reconstruction_loss"], history["val_kl_loss"]), rtol=1e-4)


def test_vae_beta_is_a_variable_a_callback_can_change(tiny_images):
    x_train, x_val = tiny_images

    class WarmUp(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.beta.assign(0.0 if epoch == 0 else 0.5)

    bundle = keras_ae.build_vae()
    training.compile_model(bundle.autoencoder)
    history = training.fit(bundle, x_train, x_val, epochs=2, batch_size=64, verbose=0,
                           callbacks=[WarmUp()]).history
    assert history["val_loss"][0] == pytest.approx(history["val_reconstruction_loss"][0], rel=1e-5)
    assert history["val_loss"][1] == pytest.approx(
        history["val_reconstruction_loss"][1] + 0.5 * history["val_kl_loss"][1], rel=1e-4)


def test_loaded_vae_keeps_training_in_a_fresh_process(tmp_path, tiny_images):
    x_train, _ = tiny_images
    bundle = keras_ae.build_vae(beta=0.5)
    training.compile_model(bundle.autoencoder)
    bundle.autoencoder.fit(x_train, epochs=2, batch_size=64, verbose=0)
    first = bundle.autoencoder.evaluate(x_train, batch_size=64, verbose=0, return_dict=True)["loss"]
    bundle.autoencoder.save(tmp_path / "vae.keras")
    np.save(tmp_path / "x.npy", x_train)
    script = textwrap.dedent(f"""
        import os, json
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, keras
        import keras_ae.models.vae
        vae = keras.saving.load_model({str(tmp_path / "vae.keras")!r})
        x = np.load({str(tmp_path / "x.npy")!r})
        start = vae.evaluate(x, batch_size=64, verbose=0, return_dict=True)["loss"]
        history = vae.fit(x, epochs=2, batch_size=64, verbose=0).history
        print(json.dumps({{"beta": float(vae.beta.numpy()), "start": start, "loss": history["loss"]}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["beta"] == 0.5
    # the loaded model starts where the saved one stopped (not from scratch, ~540 for random weights)
    assert result["start"] == pytest.approx(first, rel=0.05)
    assert result["loss"][-1] < result["start"] * 1.02


def test_kl_warmup_raises_beta_linearly_then_restores_it(tiny_images):
    from keras_ae.models.vae_schedules import KLWarmup

    x_train, x_val = tiny_images
    bundle = keras_ae.build_vae(beta=3.0)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(self.model.beta.numpy()))

    training.compile_model(bundle.autoencoder)
    history = training.fit(bundle, x_train[:64], x_val[:32], epochs=4, batch_size=32, verbose=0,
                           callbacks=[KLWarmup(2), Record()]).history
    assert seen == pytest.approx([0.0, 1.5, 3.0, 3.0])
    # epoch 0 trained on reconstruction alone: its validation loss has no KL part
    assert history["val_loss"][0] == pytest.approx(history["val_reconstruction_loss"][0], rel=1e-5)
    assert float(bundle.autoencoder.beta.numpy()) == 3.0
    with pytest.raises(ValueError, match="kl_warmup"):
        KLWarmup(-1)


@pytest.mark.parametrize("shape", [(64, 64, 3), (28, 28, 1)])
def test_conv_vae_64px_layout_shapes_and_parameters(shape):
    bundle = keras_ae.build_conv_vae(input_shape=shape, latent_dim=4, filters=(32, 32, 64, 64), kernel_size=4,
                                     dense_units=256, decoder_dense=256, output_layer="deconv")
    x = np.zeros((2, *shape), "float32")
    assert bundle.autoencoder.predict(x, verbose=0).shape == (2, *shape)
    z_mean, z_log_var = bundle.encoder.predict(x, verbose=0)
    assert z_mean.shape == z_log_var.shape == (2, 4)
    names = [layer.name for layer in bundle.decoder.layers]
    assert "decoder_hidden" in names and names[-1] == "reconstruction"
    assert bundle.decoder.layers[-1].dtype_policy.compute_dtype == "float32"
    if shape == (64, 64, 3):
        side = 4  # 64 / 2**4
        convs = (4 * 4 * 3 + 1) * 32 + (16 * 32 + 1) * 32 + (16 * 32 + 1) * 64 + (16 * 64 + 1) * 64
        encoder = convs + (side * side * 64 + 1) * 256 + 2 * (256 + 1) * 4
        deconvs = (16 * 64 + 1) * 64 + (16 * 64 + 1) * 32 + (16 * 32 + 1) * 32 + (16 * 32 + 1) * 3
        decoder = (4 + 1) * 256 + (256 + 1) * side * side * 64 + deconvs
        assert bundle.encoder.count_params() == encoder
        assert bundle.decoder.count_params() == decoder
    with pytest.raises(ValueError, match="output_layer"):
        keras_ae.build_conv_vae(input_shape=shape, output_layer="dense")


def test_free_bits_floor_each_dimensions_kl_in_the_loss_only():
    from keras_ae.models.vae_losses import kl_per_dimension

    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    plain = keras_ae.build_vae(latent_dim=3, seed=0)
    floored = keras_ae.build_vae(latent_dim=3, seed=0, free_bits=5.0)
    floored.autoencoder.set_weights(plain.autoencoder.get_weights())
    total_plain, recon_plain, kl_plain = (float(v) for v in plain.autoencoder.losses_of(x, training=False))
    total, recon, kl = (float(v) for v in floored.autoencoder.losses_of(x, training=False))
    assert recon == pytest.approx(recon_plain, rel=1e-5) and kl == pytest.approx(kl_plain, rel=1e-5)
    per_dim = np.asarray(kl_per_dimension(*plain.encoder(x))).mean(axis=0)
    assert per_dim.max() < 5.0  # an untrained encoder: every dimension below the floor
    assert total == pytest.approx(recon + 3 * 5.0, rel=1e-4)  # the reported KL is the true one
    assert total_plain == pytest.approx(recon_plain + kl_plain, rel=1e-4)
    with pytest.raises(ValueError, match="free_bits"):
        keras_ae.build_vae(free_bits=-1.0)


def test_conv_vae_batch_normalization_layout_training_and_reload(tmp_path):
    shape = (28, 28, 1)
    options = {"latent_dim": 3, "filters": (8, 16), "dense_units": 16, "decoder_dense": 16, "seed": 0}
    plain = keras_ae.build_conv_vae(input_shape=shape, **options)
    normed = keras_ae.build_conv_vae(input_shape=shape, normalization="batch", **options)
    names = {layer.name for model in (normed.encoder, normed.decoder) for layer in model.layers}
    hidden = {"encoder_conv_0", "encoder_conv_1", "encoder_dense", "decoder_hidden", "decoder_dense",
              "decoder_deconv_0", "decoder_deconv_1"}
    assert {f"{name}_bn" for name in hidden} <= names and {f"{name}_act" for name in hidden} <= names
    assert not any(name.endswith("_bn") for name in (layer.name for layer in plain.encoder.layers))
    for name in hidden:  # no bias before a batch normalisation: its shift replaces it
        layer = normed.encoder.get_layer(name) if name.startswith("encoder") else normed.decoder.get_layer(name)
        assert not layer.use_bias
    x = np.random.default_rng(0).random((64, *shape)).astype("float32")
    bn = normed.encoder.get_layer("encoder_conv_0_bn")
    before = np.asarray(bn.moving_mean).copy()
    training.compile_model(normed.autoencoder)
    history = training.fit(normed, x, x[:16], epochs=2, batch_size=16, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert not np.allclose(np.asarray(bn.moving_mean), before)  # training updated the moving statistics
    first = normed.encoder.predict(x[:8], verbose=0)[0]
    np.testing.assert_allclose(normed.encoder.predict(x[:8], verbose=0)[0], first)  # inference: deterministic
    normed.autoencoder.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    np.testing.assert_allclose(loaded.encoder.predict(x[:8], verbose=0)[0], first, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="normalization"):
        keras_ae.build_conv_vae(input_shape=shape, normalization="layer")
    with pytest.raises(ValueError, match="conv VAE only"):
        keras_ae.build_vae(normalization="batch")


@pytest.mark.parametrize("shape, filters, output_layer", [((64, 64, 3), (8, 8, 16, 16), "deconv"),
                                                           ((28, 28, 1), (8, 16, 16), "conv"),
                                                           ((28, 20, 1), (8, 16), "deconv")])
def test_conv_vae_broadcast_decoder_tiles_code_with_coordinates_and_reloads(tmp_path, shape, filters, output_layer):
    from keras_ae.models.vae_layers import SpatialBroadcast

    bundle = keras_ae.build_conv_vae(input_shape=shape, latent_dim=3, filters=filters, dense_units=16, seed=0,
                                     decoder_input="broadcast", output_layer=output_layer)
    assert bundle.decoder.output_shape == (None, *shape)
    assert not any(layer.name.startswith("decoder_dense") for layer in bundle.decoder.layers)
    grid = bundle.decoder.get_layer("decoder_broadcast")
    levels = len(filters)
    rows, cols = (-(-side // 2**levels) * 2 for side in shape[:2])  # one level above the smallest map
    z = np.array([[0.5, -1.0, 2.0]], dtype="float32")
    tiled = np.asarray(grid(z))
    assert tiled.shape == (1, rows, cols, 3 + 2)
    np.testing.assert_allclose(tiled[0, :, :, :3], np.broadcast_to(z[0], (rows, cols, 3)))
    np.testing.assert_allclose(tiled[0, 0, :, 3], np.linspace(-1, 1, cols), atol=1e-6)  # x runs along a row
    np.testing.assert_allclose(tiled[0, :, 0, 4], np.linspace(-1, 1, rows), atol=1e-6)  # y down a column
    x = np.random.default_rng(0).random((32, *shape)).astype("float32")
    training.compile_model(bundle.autoencoder)
    history = training.fit(bundle, x, x[:8], epochs=1, batch_size=16, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    first = bundle.autoencoder.predict(x[:4], verbose=0)
    bundle.autoencoder.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    assert isinstance(loaded.decoder.get_layer("decoder_broadcast"), SpatialBroadcast)
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), first, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options, message", [
    ({"decoder_input": "tiled"}, "decoder_input one of dense, broadcast"),
    ({"decoder_input": "broadcast", "decoder_dense": 16}, "no decoder_dense"),
    ({"decoder_input": "broadcast", "filters": (8,)}, "at least 2 conv levels"),
    ({"decoder_input": "broadcast", "filters": 8}, "at least 2 conv levels"),
])
def test_conv_vae_decoder_input_refuses_what_it_cannot_build(options, message):
    with pytest.raises(ValueError, match=message):
        keras_ae.build_conv_vae(input_shape=(28, 28, 1), **options)


def test_broadcast_decoder_is_refused_for_the_dense_vae():
    with pytest.raises(ValueError, match="conv VAE only"):
        keras_ae.build_vae(decoder_input="broadcast")


@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_a_vae_output_other_than_sigmoid_is_refused(activation):
    """Binary cross-entropy against targets outside [0, 1] has no lower bound: the loss ran to -6,570."""
    with pytest.raises(ValueError, match=f"output_activation 'sigmoid'.*received output_activation='{activation}'"):
        keras_ae.build_vae(output_activation=activation)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"beta": 1e39}, "Expected beta to be a finite number in [0, 3.4e+38]"),
    ({"free_bits": 1e39}, "Expected free_bits to be a finite number in [0, 3.4e+38]"),
    ({"kind": "conv", "decoder_dense": -1}, "Expected decoder_dense to be an integer >= 0"),
])
def test_vae_sizes_beyond_what_the_model_holds_are_named(kwargs, message):
    """beta=1e39 failed in TensorFlow's conversion, free_bits=1e39 trained to an infinite loss, decoder_dense=-1
    gave Keras's message about `units`."""
    import re

    with pytest.raises(ValueError, match=re.escape(message)):
        keras_ae.build_vae(**kwargs)
