"""The registry of architectures: each name with its builder and its lecture defaults.

Commands, runs and sweeps read everything they need about an architecture from here (default epochs,
batch size, loss, whether the lecture feeds it flat vectors, whether it is variational, which builder
argument a code size or a list of layer widths sets). Builders are named as ``"module:function"`` so
reading the registry imports no TensorFlow. A new architecture is one `register_architecture` call.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from keras_ae.registry import Registry, resolve


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One architecture and its lecture defaults.

    Attributes:
        builder: callable returning `Autoencoder(encoder, decoder, autoencoder)`, or "module:function".
        help: one line for --help.
        epochs: epochs of the lecture code (`train` default); `anomaly_epochs` for one-class runs.
        batch_size, loss: training defaults (a VAE brings its own loss).
        flat: the lecture feeds it flat vectors (it still accepts images).
        variational: a VAE (its encoder returns [z_mean, z_log_var]; `beta` and `seed` apply).
        latent_arg: builder argument that a code size sets; a sequence argument ("filters") has its
            last entry set (the code's channels).
        layers_arg: builder argument that a list of layer widths sets (sweeps, --filters), or None.
        noise: the input noise the architecture is trained with by default (a denoiser's), or None.
    """

    builder: Callable[..., Any] | str
    help: str = ""
    epochs: int = 10
    anomaly_epochs: int = 30
    batch_size: int = 128
    loss: str = "binary_crossentropy"
    flat: bool = False
    variational: bool = False
    latent_arg: str | None = "latent_dim"
    layers_arg: str | None = None
    noise: float | None = None

    def build_fn(self) -> Callable[..., Any]:
        return resolve(self.builder)

    def parameters(self) -> dict[str, inspect.Parameter]:
        return dict(inspect.signature(self.build_fn()).parameters)

    def options(self, latent_dim: int | None = None, layers: Sequence[int] | None = None,
                **extra: Any) -> dict[str, Any]:
        """Builder keyword arguments: the code size and layer widths put where this builder takes them,
        plus those of `extra` the builder accepts, all of them when it takes ``**kwargs`` (None values are
        left out)."""
        params = self.parameters()
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())  # f(..., **kwargs)
        kwargs = {k: v for k, v in extra.items() if v is not None and (takes_any or k in params)}
        if layers is not None and self.layers_arg:
            kwargs[self.layers_arg] = tuple(int(v) for v in layers)
        if latent_dim is not None and self.latent_arg:
            default = kwargs.get(self.latent_arg, params[self.latent_arg].default)
            if isinstance(default, (tuple, list)):
                kwargs[self.latent_arg] = (*default[:-1], int(latent_dim))
            else:
                kwargs[self.latent_arg] = int(latent_dim)
        return kwargs


ARCHITECTURES: Registry[Architecture] = Registry("architecture")

# The lecture's short initializer names -> Keras's.
INITIALIZERS = {"uniform": "random_uniform", "glorot": "glorot_uniform", "he": "he_uniform"}


def initializer_name(name: str) -> str:
    """A Keras initializer name for `name` ("glorot" -> "glorot_uniform"); other names, and what Keras takes
    besides names (an initializer object, a config dict), pass unchanged."""
    return INITIALIZERS.get(name, name) if isinstance(name, str) else name


def register_architecture(name: str, builder: Callable[..., Any] | str, replace: bool = False,
                          **defaults: Any) -> Architecture:
    """Register `builder` under `name` with its defaults (see `Architecture`); returns the entry."""
    return ARCHITECTURES.register(name, Architecture(builder, **defaults), replace=replace)


register_architecture("dense", "keras_ae.models.dense:build_dense", epochs=50, anomaly_epochs=50, flat=True,
                      layers_arg="hidden", help="784-32-784 dense autoencoder (50,992 parameters)")
register_architecture("deep", "keras_ae.models.dense:build_deep", epochs=100, anomaly_epochs=50, flat=True,
                      layers_arg="hidden", help="784-128-64-32-64-128-784 (222,384 parameters)")
register_architecture("conv", "keras_ae.models.conv:build_conv", epochs=10, latent_arg="filters",
                      layers_arg="filters", help="Conv16-8-8 with pooling (4,385 parameters)")
register_architecture("denoise", "keras_ae.models.conv:build_denoise", epochs=100, latent_arg="filters",
                      layers_arg="filters", noise=0.5,
                      help="Conv32-32 denoiser (28,353 parameters), noise 0.5 by default")
register_architecture("vae", "keras_ae.models.vae:build_vae", epochs=30, variational=True, layers_arg="hidden",
                      help="dense VAE 784-512-2 trained by its own train_step")
register_architecture("conv-vae", "keras_ae.models.vae:build_conv_vae", epochs=30, variational=True,
                      layers_arg="filters", help="conv VAE (keras-io layout)")
register_architecture("font", "keras_ae.models.dense:build_font", epochs=2000, anomaly_epochs=2000,
                      batch_size=8, flat=True, layers_arg="hidden",
                      help="35-25-10-2-10-25-35 tanh autoencoder of the 5x7 character exercise")


def get_architecture(name: str) -> Architecture:
    return ARCHITECTURES.get(name)


def get_builder(name: str) -> Callable[..., Any]:
    """Return the builder registered under `name`, or raise ValueError listing the known names."""
    return get_architecture(name).build_fn()


def build(name: str, **kwargs: Any):
    """Build the architecture `name` with keyword arguments passed to its builder."""
    return get_builder(name)(**kwargs)


def variational() -> set[str]:
    return {name for name, arch in ARCHITECTURES.items() if arch.variational}


def flat() -> set[str]:
    return {name for name, arch in ARCHITECTURES.items() if arch.flat}
