"""Training: the tf.data pipeline, strategies and devices, and the one `fit` every run uses.

Names are imported on first use, so the strategy registry can be read without loading TensorFlow.
"""

import importlib

_SOURCES = {
    "make_dataset": "pipeline",
    "STRATEGIES": "strategy", "configure_gpus": "strategy", "device_name": "strategy", "get_strategy": "strategy",
    "_tf_config_workers": "strategy",
    "FitResult": "loop", "TRAIN_EVAL_LIMIT": "loop", "TrainLossAfterEpoch": "loop", "compile_model": "loop",
    "evaluate_reconstruction": "loop", "fit": "loop", "global_state": "loop", "set_determinism": "loop",
    "set_seed": "loop",
}
__all__ = [name for name in _SOURCES if not name.startswith("_")]


def __getattr__(name):
    if name in _SOURCES:
        return getattr(importlib.import_module(f"keras_ae.training.{_SOURCES[name]}"), name)
    raise AttributeError(f"module 'keras_ae.training' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
