"""The builders refuse arguments of the wrong type with a message naming the argument."""

import pytest

from keras_ae.models.conv import build_conv
from keras_ae.models.dense import build_dense


@pytest.mark.parametrize("build, kwargs, message", [
    (build_dense, {"input_shape": "784"}, "input_shape as a tuple of integers, received input_shape='784'"),
    (build_dense, {"input_shape": (28.5, 28)}, "input_shape as a tuple of integers"),
    (build_dense, {"latent_dim": True}, "latent_dim to be a positive integer"),
    (build_dense, {"latent_dim": 2.7}, "latent_dim to be a positive integer"),
    (build_conv, {"kernel_size": 2.5}, "kernel_size to be a positive integer"),
])
def test_a_wrongly_typed_argument_is_named(build, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(**kwargs)
