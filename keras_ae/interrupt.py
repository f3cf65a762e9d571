"""A stop request that survives being swallowed: long loops call `check()` between steps.

The commands' SIGTERM/SIGINT handler records the request and raises KeyboardInterrupt at once; when that
exception lands inside C code that swallows it (a parser checking for signals, say), the next `check()`
raises it again, so a run always stops and its `with` blocks remove their temporary outputs.

Inside `deferred()` (Keras training) the handler only records the request: an exception raised while
TensorFlow runs or traces a step can crash the process, so training checks the request between batches
(`keras_ae.training.callbacks.StopOnRequest`) and raises there.
"""

import contextlib

requested = False
deferring = False


def request() -> None:
    global requested
    requested = True
    if not deferring:
        raise KeyboardInterrupt


def check() -> None:
    if requested:
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred():
    """Within the block a stop request is recorded, not raised; it is raised at the next `check()`."""
    global deferring
    before = deferring
    deferring = True
    try:
        yield
    finally:
        deferring = before
    check()
