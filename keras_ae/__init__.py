"""keras-ae: the autoencoder lectures as a Keras 3 package.

``from keras_ae import build_conv`` and go. Names are imported lazily, so command-line tools can
check their options (and fail fast on bad ones) before TensorFlow loads.
"""

import os
import sys

from keras_ae import quiet
from keras_ae.lazy import lazy_names

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
quiet.install()  # TensorFlow's start-up chatter hidden, GPU problems shown where there is a GPU
if "tensorflow" in sys.modules:  # imported before keras_ae: the start-up is over, the predict note still applies
    quiet.quiet_predict_retracing()

__version__ = "0.1.0"

_MODEL_NAMES = (
    "ARCHITECTURES", "VAE", "Autoencoder", "Sampling", "build", "build_conv", "build_conv_vae",
    "build_deep", "build_dense", "build_denoise", "build_font", "build_vae", "get_builder", "register_architecture",
)
__all__ = [*_MODEL_NAMES, "__version__"]
__getattr__, _dir = lazy_names(__name__, dict.fromkeys(_MODEL_NAMES, "keras_ae.models"))


def __dir__():
    return sorted([*globals(), *_MODEL_NAMES])
