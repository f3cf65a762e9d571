"""keras-ae: the autoencoder lectures as a Keras 3 package."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_ae.models import (  # noqa: E402
    ARCHITECTURES,
    VAE,
    Autoencoder,
    Sampling,
    build,
    build_conv,
    build_conv_vae,
    build_deep,
    build_dense,
    build_denoise,
    build_vae,
    get_builder,
)

__version__ = "0.1.0"

__all__ = [
    "ARCHITECTURES", "VAE", "Autoencoder", "Sampling", "build", "build_conv", "build_conv_vae",
    "build_deep", "build_dense", "build_denoise", "build_vae", "get_builder", "__version__",
]
