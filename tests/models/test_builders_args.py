"""The builders refuse arguments of the wrong type with a message naming the argument."""

import re

import pytest

from keras_ae.models.conv import build_conv
from keras_ae.models.dense import build_dense
from keras_ae.models.vae import build_vae


@pytest.mark.parametrize("build, kwargs, message", [
    (build_dense, {"input_shape": "784"}, "input_shape as a tuple of integers, received input_shape='784'"),
    (build_dense, {"input_shape": (28.5, 28)}, "input_shape as a tuple of integers"),
    (build_dense, {"latent_dim": True}, "latent_dim to be a positive integer"),
    (build_dense, {"latent_dim": 2.7}, "latent_dim to be a positive integer"),
    (build_conv, {"kernel_size": 2.5}, "kernel_size to be a positive integer"),
    (build_dense, {"hidden": 5}, "hidden to be a list of positive integers, received hidden=5"),
    (build_dense, {"hidden": 0}, "hidden to be a list of positive integers, received hidden=0"),
    (build_dense, {"hidden": (64, 0)}, "hidden to be a list of positive integers"),
    (build_conv, {"filters": 16}, "filters to be a list of positive integers, received filters=16"),
    (build_conv, {"filters": ()}, "filters to be a list of positive integers"),
    (build_vae, {"beta": float("nan")}, "beta to be a finite number in [0, 3.4e+38], received beta=nan"),
    (build_vae, {"beta": float("inf")}, "beta to be a finite number in [0, 3.4e+38]"),
    (build_vae, {"beta": "1"}, "beta to be a finite number in [0, 3.4e+38]"),
    (build_vae, {"free_bits": float("nan")}, "free_bits to be a finite number in [0, 3.4e+38]"),
    (build_vae, {"capacity": float("nan")}, "capacity to be a finite number in [0, 3.4e+38]"),
    (build_vae, {"capacity": -1.0}, "capacity to be a finite number in [0, 3.4e+38]"),
    (build_vae, {"seed": -1}, "seed to be None or an integer in [0, 2**32), received seed=-1"),
    (build_vae, {"seed": 1.5}, "seed to be None or an integer"),
    (build_vae, {"kind": "conv", "dense_units": 0}, "dense_units to be a positive integer, received dense_units=0"),
    (build_vae, {"hidden": 512}, "hidden to be a list of positive integers"),
])
def test_a_wrongly_typed_argument_is_named(build, kwargs, message):
    import re

    with pytest.raises(ValueError, match=re.escape(message)):
        build(**kwargs)


def test_numpy_integers_and_any_empty_sequence_are_taken_as_python_values():
    import numpy as np

    single = build_dense(latent_dim=np.int64(4), hidden=range(0))
    assert [layer.units for layer in single.encoder.layers if hasattr(layer, "units")] == [4]
    deep = build_dense(latent_dim=2, hidden=np.array([8, 4]))
    assert [layer.units for layer in deep.encoder.layers if hasattr(layer, "units")] == [8, 4, 2]
    vae = build_vae(latent_dim=np.int32(2), hidden=[np.int64(8)], seed=np.int64(3), beta=np.float32(0.5))
    assert vae.autoencoder.seed == 3 and isinstance(vae.autoencoder.seed, int)
    assert build_conv(filters=np.array([4, 2])).encoder.output_shape[-1] == 2


@pytest.mark.parametrize("build, kwargs, named", [
    (build_dense, {"latent_dim": 2**40}, "latent_dim=1099511627776"),
    (build_dense, {"hidden": [2**22]}, "hidden=[4194304]"),
    (build_conv, {"filters": [2**16]}, "filters=[65536]"),
    (build_vae, {"latent_dim": 2**31}, "latent_dim=2147483648"),
    (build_vae, {"kind": "conv", "input_shape": (28, 28, 1), "dense_units": 2**24}, "dense_units=16777216"),
])
def test_a_model_too_large_to_hold_is_refused_before_anything_is_allocated(build, kwargs, named):
    with pytest.raises(ValueError, match=r"Expected a model of at most 1,073,741,824 weights \(4 GiB as float32\), "
                                         r"received .*" + re.escape(named) + r".*: about [0-9.e+]+ weights"):
        build(**kwargs)


def test_the_weight_estimate_is_close_to_the_built_models(monkeypatch):
    """The check counts what the builders make: with the limit just below a model's own size it refuses it,
    just above it builds it."""
    from keras_ae.models import base

    for build, kwargs in ((build_dense, {}), (build_conv, {}), (build_vae, {"hidden": [64]}),
                          (build_vae, {"kind": "conv", "input_shape": (28, 28, 1), "filters": [8, 16]})):
        monkeypatch.setattr(base, "MAX_WEIGHTS", 2**30)
        bundle = build(**kwargs)
        size = bundle.encoder.count_params() + bundle.decoder.count_params()  # a VAE model counts its own trackers
        monkeypatch.setattr(base, "MAX_WEIGHTS", int(size * 1.5))
        build(**kwargs)
        monkeypatch.setattr(base, "MAX_WEIGHTS", int(size * 0.6))
        with pytest.raises(ValueError, match="Expected a model of at most"):
            build(**kwargs)
