"""Builders for the lecture autoencoders; each returns Autoencoder(encoder, decoder, autoencoder).

Names are imported on first use, so reading the registry (`ARCHITECTURES`) loads no TensorFlow.
`FLAT` and `VARIATIONAL` are the sets of architecture names the registry marks so, read at each access.
"""

from keras_ae.lazy import lazy_names

_SOURCES = {
    "Autoencoder": ".base", "encode": ".base", "INITIALIZERS": ".registry",
    "build_conv": ".conv", "build_denoise": ".conv",
    "build_deep": ".dense", "build_dense": ".dense", "build_font": ".dense",
    "VAE": ".vae", "Sampling": ".vae", "build_conv_vae": ".vae", "build_vae": ".vae",
    "ARCHITECTURES": ".registry", "Architecture": ".registry", "build": ".registry", "get_architecture": ".registry",
    "get_builder": ".registry", "register_architecture": ".registry",
}
__all__ = [*_SOURCES, "FLAT", "VARIATIONAL"]
_getattr, __dir__ = lazy_names(__name__, _SOURCES)


def __getattr__(name):
    if name in ("FLAT", "VARIATIONAL"):
        from keras_ae.models import registry

        return registry.flat() if name == "FLAT" else registry.variational()
    return _getattr(name)
