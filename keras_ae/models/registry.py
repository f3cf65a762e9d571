"""One registry of architectures, name -> builder, used by every command."""

from __future__ import annotations

from collections.abc import Callable

from keras_ae.models.base import Autoencoder
from keras_ae.models.conv import build_conv, build_denoise
from keras_ae.models.dense import build_deep, build_dense
from keras_ae.models.vae import build_conv_vae, build_vae

ARCHITECTURES: dict[str, Callable[..., Autoencoder]] = {
    "dense": build_dense,
    "deep": build_deep,
    "conv": build_conv,
    "denoise": build_denoise,
    "vae": build_vae,
    "conv-vae": build_conv_vae,
}

# Architectures whose input is a flat vector in the lecture (they still accept images).
FLAT = {"dense", "deep"}
VARIATIONAL = {"vae", "conv-vae"}


def get_builder(name: str) -> Callable[..., Autoencoder]:
    """Return the builder registered under `name`, or raise ValueError listing the known names."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(ARCHITECTURES)
        raise ValueError(f"unknown architecture {name!r} (known: {known})") from None


def build(name: str, **kwargs) -> Autoencoder:
    """Build the architecture `name` with keyword arguments passed to its builder."""
    return get_builder(name)(**kwargs)
