"""Builders for the lecture autoencoders; each returns Autoencoder(encoder, decoder, autoencoder).

Names are imported on first use, so reading the registry (`ARCHITECTURES`) loads no TensorFlow.
"""

import importlib

_SOURCES = {
    "Autoencoder": "base", "INITIALIZERS": "base",
    "build_conv": "conv", "build_denoise": "conv",
    "build_deep": "dense", "build_dense": "dense", "build_font": "dense",
    "VAE": "vae", "Sampling": "vae", "build_conv_vae": "vae", "build_vae": "vae",
    "ARCHITECTURES": "registry", "Architecture": "registry", "build": "registry", "get_architecture": "registry",
    "get_builder": "registry", "register_architecture": "registry",
}
__all__ = [*_SOURCES, "FLAT", "VARIATIONAL"]


def __getattr__(name):
    if name in _SOURCES:
        return getattr(importlib.import_module(f"keras_ae.models.{_SOURCES[name]}"), name)
    if name in ("FLAT", "VARIATIONAL"):  # sets of names, read from the registry at each access
        registry = importlib.import_module("keras_ae.models.registry")
        return registry.flat() if name == "FLAT" else registry.variational()
    raise AttributeError(f"module 'keras_ae.models' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
