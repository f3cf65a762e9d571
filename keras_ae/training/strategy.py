"""Devices and distribution strategies: which GPUs TensorFlow sees, and the registry of `tf.distribute`
strategies that `--strategy` chooses from. TensorFlow is imported inside the functions, so the registry
can be read (for a command's choices) without loading it."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from keras_ae.registry import Registry


class _NoStrategy:
    """Another Keras backend than TensorFlow: no tf.distribute strategy; `scope()` does nothing."""

    num_replicas_in_sync = 1

    def scope(self):
        import contextlib

        return contextlib.nullcontext()


def _backend() -> str:
    import keras

    return keras.backend.backend()


def device_name() -> str:
    """'GPU: <name>' when TensorFlow (or JAX, on that backend) sees a GPU, else 'CPU'."""
    if _backend() == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return f"GPU: {gpus[0].device_kind} x{len(gpus)}" if gpus else "CPU"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU: {details.get('device_name', gpus[0].name)} x{len(gpus)}"


def configure_gpus() -> list[str]:
    """Let TensorFlow grow GPU memory as needed (instead of taking it all); returns the GPUs it sees.

    Must run before TensorFlow initialises its devices; later calls change nothing. Nothing to do (an empty
    list) on another backend.
    """
    if _backend() != "tensorflow":
        return []
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # devices already initialised: keep TensorFlow's setting
            pass
    return [gpu.name for gpu in gpus]


def _tf_config_workers() -> int:
    """Number of workers in the TF_CONFIG cluster (0 when TF_CONFIG is unset)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (ValueError, AttributeError):
        raise ValueError(f"TF_CONFIG is not a JSON object with a 'cluster', received {raw!r}") from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


@dataclasses.dataclass(frozen=True)
class StrategyEntry:
    make: Callable[[list[str] | None], Any]
    help: str = ""


def _auto(devices: list[str] | None):
    import tensorflow as tf

    if _tf_config_workers() > 1:
        return _multi_worker(devices)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return _mirrored(devices)
    return tf.distribute.get_strategy()


def _mirrored(devices: list[str] | None):
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices)


def _multi_worker(devices: list[str] | None):
    import tensorflow as tf

    if _tf_config_workers() == 0:  # a malformed TF_CONFIG is reported here, not deep inside TensorFlow
        why = "is not set" if not os.environ.get("TF_CONFIG") else "names no workers"
        print(f"warning: strategy multi-worker: TF_CONFIG {why}, so this process trains alone, as a cluster of "
              "one worker", file=sys.stderr)
    return tf.distribute.MultiWorkerMirroredStrategy()


STRATEGIES: Registry[StrategyEntry] = Registry("strategy")
STRATEGIES.register("auto", StrategyEntry(_auto, "several workers in TF_CONFIG -> multi-worker, several GPUs "
                                                 "-> mirrored, else the default one-device strategy"))
STRATEGIES.register("mirrored", StrategyEntry(_mirrored, "every GPU of this machine"))
STRATEGIES.register("multi-worker", StrategyEntry(_multi_worker, "the cluster in TF_CONFIG"))


def get_strategy(name: str = "auto", devices: list[str] | None = None):
    """The tf.distribute strategy to build and train under (a name of `STRATEGIES`).

    Args:
        name: "auto" (MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored when
            TensorFlow sees several GPUs, else the default one-device strategy), "mirrored" (every
            GPU of this machine, or `devices`), or "multi-worker" (the cluster in TF_CONFIG; one
            worker without it).
        devices: devices for "mirrored", e.g. ``["/cpu:0", "/cpu:1"]``.

    On another Keras backend than TensorFlow only "auto" exists (one device, no tf.distribute strategy).
    """
    entry = STRATEGIES.get(name)
    if _backend() != "tensorflow":
        if name != "auto":
            from keras_ae.errors import UsageError

            raise UsageError(f"strategy={name!r} is a tf.distribute strategy: it needs the TensorFlow backend "
                             f"(KERAS_BACKEND=tensorflow); Keras runs on {_backend()}", param="strategy")
        return _NoStrategy()
    return entry.make(devices)
