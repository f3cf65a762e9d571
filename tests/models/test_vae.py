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
