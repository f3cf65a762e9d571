"""Image-score options reach the score; special cases live in the registries, not in the runs."""

import numpy as np
import pytest

from keras_ae.anomaly import image_scores
from keras_ae.anomaly.one_class import ImageScorer
from keras_ae.errors import UsageError


class _Identity:  # stands in for an autoencoder bundle: scores below need only the raw images
    encoder = decoder = autoencoder = None


def test_pca_variance_reaches_the_pca_score():
    x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    low = ImageScorer(_Identity(), "pca", contrast="none", pca_variance=0.3).fit(x)
    high = ImageScorer(_Identity(), "pca", contrast="none", pca_variance=0.99).fit(x)
    assert low.states_["pca"].n_components_ < high.states_["pca"].n_components_
    assert not np.allclose(low.score_samples(x), high.score_samples(x))


def test_an_option_no_part_takes_is_refused():
    with pytest.raises(ValueError, match=r"score='pca' takes no option 'k' \(it takes: pca_variance\)"):
        ImageScorer(_Identity(), "pca", contrast="none", k=3).fit(np.zeros((4, 8, 8, 1), "float32"))


def test_each_part_checks_its_options_before_training():
    assert image_scores.score_options("latent-knn+pca") == {"k": 5, "pca_variance": 0.9}
    with pytest.raises(UsageError, match=r"k=50 is more than the 10 normal training images") as err:
        image_scores.check_options("latent-knn+detail", {"k": 50, "lr": 1e-3}, 10)
    assert err.value.param == "k"


def test_the_description_gives_the_values_a_run_used():
    assert "(this run:" not in image_scores.describe_score("pixel-knn")
    used = image_scores.check_options("pixel-knn+pca", {"shift": 2, "rotate": 0.0, "lr": 1e-3}, (10, 8, 8))
    text = image_scores.describe_score("pixel-knn+pca", used)
    assert text.endswith("(this run: k=5, blur=1.0, shift=2, rotate=0.0, pca_variance=0.9)")


def test_denoising_noise_and_file_datasets_come_from_the_registries():
    from keras_ae.runs.one_class import OneClassConfig
    from keras_ae.runs.train import TrainConfig

    assert TrainConfig(arch="denoise").resolved().noise == 0.5 and TrainConfig(arch="conv").resolved().noise is None
    with pytest.raises(ValueError, match=r"data_path is for datasets read from a file \('pneumonia'\)"):
        OneClassConfig(dataset="mnist-sample", data_path="x.npz").check()
