"""Builders for the lecture autoencoders; each returns Autoencoder(encoder, decoder, autoencoder)."""

from keras_ae.models.base import Autoencoder
from keras_ae.models.conv import build_conv, build_denoise
from keras_ae.models.dense import build_deep, build_dense
from keras_ae.models.registry import ARCHITECTURES, FLAT, VARIATIONAL, build, get_builder
from keras_ae.models.vae import VAE, Sampling, build_conv_vae, build_vae

__all__ = [
    "ARCHITECTURES", "FLAT", "VARIATIONAL", "VAE", "Autoencoder", "Sampling", "build", "build_conv",
    "build_conv_vae", "build_deep", "build_dense", "build_denoise", "build_vae", "get_builder",
]
