"""Training: the tf.data pipeline, strategies and devices, and the one `fit` every run uses.

Names are imported on first use, so the strategy registry can be read without loading TensorFlow.
"""

from keras_ae.lazy import lazy_names

_SOURCES = {
    "make_dataset": ".pipeline",
    "STRATEGIES": ".strategy", "configure_gpus": ".strategy", "device_name": ".strategy", "get_strategy": ".strategy",
    "_tf_config_workers": ".strategy",
    "EpochProgress": ".callbacks", "FitResult": ".loop", "keras_verbose": ".loop", "TRAIN_EVAL_LIMIT": ".loop",
    "TrainLossAfterEpoch": ".callbacks", "compile_model": ".loop",
    "evaluate_reconstruction": ".loop", "fit": ".loop", "global_state": ".loop", "set_determinism": ".loop",
    "set_seed": ".loop",
}
__all__ = [name for name in _SOURCES if not name.startswith("_")]
__getattr__, __dir__ = lazy_names(__name__, _SOURCES)
