"""keras-ae: the autoencoder lectures as a Keras 3 package.

``from keras_ae import build_conv`` and go. Names are imported lazily, so command-line tools can
check their options (and fail fast on bad ones) before TensorFlow loads.
"""

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_MODEL_NAMES = (
    "ARCHITECTURES", "VAE", "Autoencoder", "Sampling", "build", "build_conv", "build_conv_vae",
    "build_deep", "build_dense", "build_denoise", "build_vae", "get_builder",
)
__all__ = [*_MODEL_NAMES, "__version__"]


def __getattr__(name):
    if name in _MODEL_NAMES:
        return getattr(importlib.import_module("keras_ae.models"), name)
    raise AttributeError(f"module 'keras_ae' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_MODEL_NAMES])
