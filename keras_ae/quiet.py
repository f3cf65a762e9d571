"""A quiet TensorFlow on machines without a GPU, without hiding what matters.

TensorFlow writes start-up chatter straight to file descriptor 2, before its log level applies: "All log
messages before absl::InitializeLog()", "Could not find cuda drivers", CPU-feature notes, and on a machine
with no GPU at all ``failed call to cuInit: ... UNKNOWN ERROR (303)``, which reads like an error. Later,
Keras's input pipelines trigger ``NodeDef mentions attribute use_unbounded_threadpool`` (a harmless
version-skew note of TensorFlow's own tf.data), and runs that predict with many models in one process
(``--normal all``, the latent tools) meet "triggered tf.function retracing", a performance note about Keras's
predict step, dropped from TensorFlow's logger by `quiet_predict_retracing` (for that step only). On CPUs
without AVX-512, convolutions print "oneDNN supports DT_INT32 only on platforms with AVX-512. Falling back to
the default Eigen-based implementation", an E-level line about an internal fallback that changes no result.

Two tools, both TensorFlow-free until TensorFlow is needed:

* `install()` (done on ``import keras_ae``): the first ``import tensorflow`` runs with fd 2 pointed at
  /dev/null, and on a machine without GPU hardware the device probe (where cuInit fails) runs silenced
  too. Where GPU hardware is present, the probe runs in the open, so driver and library problems show.
  Python exceptions raised by the import are never hidden.
* `filtered_stderr()` (used by every command): fd 2 goes through a pipe that drops only the lines of
  `NOISE` (plus the cuInit failure when there is no GPU hardware) and passes everything else on.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator

NOISE = re.compile(
    rb"All log messages before absl::InitializeLog|cudart_stub\.cc|cpu_feature_guard\.cc|"
    rb"rebuild TensorFlow with the appropriate compiler flags|"
    rb"NodeDef mentions attribute use_unbounded_threadpool|triggered tf\.function retracing|"
    rb"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    rb"oneDNN supports DT_INT32 only on platforms with AVX-512|oneDNN custom operations are on|"
    rb"Improper call to JPEG library in state|Unsupported color conversion request")  # libjpeg, on an image the
# command then names in its error line
NO_GPU_NOISE = re.compile(rb"failed call to cuInit|cuda_executor|could not find cuda drivers", re.I)

#: whether fd 2 was a terminal before `filtered_stderr` put a pipe there (progress displays ask this)
_stderr_tty: bool | None = None


def gpu_hardware() -> bool:
    """Whether this machine shows an accelerator device (NVIDIA, WSL's GPU bridge, ROCm)."""
    return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/dxg") or os.path.exists("/dev/kfd"))


def stderr_isatty() -> bool:
    """Whether stderr is a terminal, also while `filtered_stderr` is active."""
    if _stderr_tty is not None:
        return _stderr_tty
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


@contextlib.contextmanager
def silenced_fd2() -> Iterator[None]:
    """File descriptor 2 pointed at /dev/null (C++ writes); Python's sys.stderr is flushed first."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def probe_devices(tf) -> list:
    """List the devices (this is where CUDA initialises): silenced only where there is no GPU hardware."""
    if gpu_hardware():
        return tf.config.list_physical_devices()
    with silenced_fd2():
        return tf.config.list_physical_devices()


class _PredictRetracing(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning about Keras's own predict step only: calling
    `predict` on several models, or on arrays of several sizes, retraces it by design (keras-ae's latent tools and
    scores do both). The same warning about any other function, yours included, still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and "make_predict_function" in message)


def quiet_predict_retracing() -> None:
    """Install `_PredictRetracing` on TensorFlow's logger (once)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _PredictRetracing) for f in logger.filters):
        logger.addFilter(_PredictRetracing())


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with silenced_fd2():
            self.loader.exec_module(module)
        probe_devices(module)
        quiet_predict_retracing()

    def __getattr__(self, name):  # resource readers and the like: the real loader's
        return getattr(self.loader, name)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of the first ``import tensorflow`` in `_QuietLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        uninstall()
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


_finder = _QuietTensorFlowFinder()


def install() -> None:
    """Make the first ``import tensorflow`` of this process quiet (nothing to do once it is imported)."""
    if "tensorflow" not in sys.modules and _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_finder)


def import_tensorflow():
    """``import tensorflow, keras`` quietly (see `install`); returns tensorflow, or None when Keras runs on
    another backend (JAX), where TensorFlow is not needed and may be absent."""
    install()
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow

    return tensorflow


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Route fd 2 through a filter that drops TensorFlow's harmless lines (`NOISE`, and the failed CUDA
    initialisation on a machine without GPU hardware); every other line passes, in order."""
    global _stderr_tty
    if _stderr_tty is not None:  # already filtering
        yield
        return
    noise = [NOISE] if gpu_hardware() else [NOISE, NO_GPU_NOISE]
    sys.stderr.flush()
    _stderr_tty = stderr_isatty()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def emit(data: bytes) -> None:
        try:
            os.write(saved, data)
        except OSError:  # the reader went away (`| head`): keep draining, so writers never block
            pass

    def pump() -> None:
        with os.fdopen(read_end, "rb", buffering=0) as source:
            pending = b""
            while chunk := source.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not any(p.search(line) for p in noise):
                        emit(line + b"\n")
                if pending and not _may_be_log_line(pending):  # a prompt, a self-updating progress line
                    emit(pending)
                    pending = b""
            if pending:
                emit(pending)

    thread = threading.Thread(target=pump, name="keras-ae-stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's write end held by fd 2: the pump sees the end
        thread.join(timeout=1)  # longer only where a child process (a Spark JVM) still holds the pipe
        if not thread.is_alive():
            os.close(saved)  # else left open: the pump may still write to it
        _stderr_tty = None


def _may_be_log_line(partial: bytes) -> bool:
    """Whether an unfinished line may still become one of TensorFlow's (``E0000 00:00...``, ``WARNING: All``,
    ``To enable``): those are held back until their end; anything else passes at once."""
    if re.match(rb"[EWIF]\d{4} ", partial) or (len(partial) < 6 and re.fullmatch(rb"[EWIF]\d*", partial)):
        return True
    return any(start.startswith(partial) or partial.startswith(start) for start in (b"WARNING: All", b"To enable"))
