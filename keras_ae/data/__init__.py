"""Data loaders (all return `Dataset`), the dataset registry, and noise for denoising.

Loaders are imported on first use, so the registry can be read without loading TensorFlow.
"""

from keras_ae.lazy import lazy_names

_SOURCES = {
    "Dataset": ".base", "scale_images": ".base",
    "load_folder": ".folder",
    "DownloadError": ".mnist", "load_fashion_mnist": ".mnist", "load_mnist": ".mnist", "load_mnist_sample": ".mnist",
    "NOISE_KINDS": ".noise", "add_noise": ".noise", "gaussian_noise": ".noise", "salt_and_pepper": ".noise",
    "load_pneumonia": ".pneumonia", "load_pneumonia_splits": ".pneumonia",
    "DATASETS": ".registry", "dataset_names": ".registry", "get_dataset": ".registry", "load_dataset": ".registry",
    "register_dataset": ".registry",
}
__all__ = list(_SOURCES)
__getattr__, __dir__ = lazy_names(__name__, _SOURCES)
