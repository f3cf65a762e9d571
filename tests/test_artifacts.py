"""keras_ae.artifacts: models saved and loaded back give identical outputs."""

import numpy as np
import pytest

from keras_ae import models, training

ALL = list(models.ARCHITECTURES)


def default_input(name, n, seed=0):
    """Random inputs of the shape the builder's defaults expect (784 vectors for the dense ones)."""
    shape = (35,) if name == "font" else (784,) if name in models.FLAT else (28, 28, 1)
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


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
