"""keras_ae.data.registry: unknown datasets are named with the known ones."""

import pytest

from keras_ae import data
from keras_ae.errors import UsageError


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(UsageError, match="unknown dataset='cifar'.*mnist-sample"):
        data.load_dataset("cifar")
