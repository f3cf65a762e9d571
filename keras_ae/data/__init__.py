"""Data loaders (all return `Dataset`) and noise for denoising."""

from keras_ae.data.base import Dataset, scale_images
from keras_ae.data.folder import load_folder
from keras_ae.data.mnist import DownloadError, load_fashion_mnist, load_mnist, load_mnist_sample
from keras_ae.data.noise import NOISE_KINDS, add_noise, gaussian_noise, salt_and_pepper
from keras_ae.data.pneumonia import load_pneumonia, load_pneumonia_splits
from keras_ae.data.registry import DATASETS, dataset_names, load_dataset

__all__ = [
    "DATASETS", "NOISE_KINDS", "Dataset", "DownloadError", "add_noise", "dataset_names", "gaussian_noise",
    "load_dataset", "load_fashion_mnist", "load_folder", "load_mnist", "load_mnist_sample", "load_pneumonia",
    "load_pneumonia_splits", "salt_and_pepper",
    "scale_images",
]
