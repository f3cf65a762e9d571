"""A stop request that survives being swallowed: long loops call `check()` between steps.

`stop_on_signals()` makes SIGTERM and SIGHUP stop a command as SIGINT does (the commands' `run_main` sets it and
`unraisable_hook` for the run).

The commands' SIGTERM/SIGINT handler records the request and raises KeyboardInterrupt at once; when that
exception lands inside C code that swallows it (a parser checking for signals, say), the next `check()`
raises it again, so a run always stops and its `with` blocks remove their temporary outputs.

Inside `deferred()` (Keras training) the handler only records the request: an exception raised while
TensorFlow runs or traces a step can crash the process, so training checks the request between batches
(`keras_ae.training.callbacks.StopOnRequest`) and raises there.
"""

import contextlib
import signal
from collections.abc import Callable

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


def unraisable_hook(previous: Callable) -> Callable:
    """An unraisable-exception hook that says nothing of the stop request our signal handler raised where Python
    cannot pass it on (a garbage-collection callback, a ``__del__``: JAX has one), instead of printing "Exception
    ignored in ..." and its traceback; the request is kept (`interrupt.requested`) and raised again at the next
    `interrupt.check()`. Anything else goes to `previous`."""
    def hook(unraisable):
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and requested):
            previous(unraisable)
    return hook


def stop_on_signals() -> dict | None:
    """SIGTERM, and SIGHUP (the terminal closed) unless it is ignored (`nohup`), raise KeyboardInterrupt like SIGINT
    does, so every `with` block that writes a temporary file removes it on the way out; returns the previous
    handlers to restore (None when not in the main thread)."""
    global requested
    requested = False

    def stop(signum, frame):
        request()

    try:
        previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, stop)}
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is not None and signal.getsignal(hangup) is signal.SIG_DFL:
            previous[hangup] = signal.signal(hangup, stop)
        signal.signal(signal.SIGINT, stop)
        return previous
    except ValueError:  # signals can only be set from the main thread
        return None


def finish_on_signals() -> None:
    """Called at exit, after the command has ended (its outputs are whole, or were removed, and its exit code is
    set): a stop request while the process shuts down (TensorFlow's teardown takes about a second, after Python's
    own signal handlers are gone) is ignored, rather than ending the process with 130 as if the run had been
    stopped (a wrapper reading 130 would take the new run for one that was put back). SIGKILL still ends it."""
    with contextlib.suppress(ValueError):  # not the main thread
        for number in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if number is not None:
                signal.signal(number, signal.SIG_IGN)
