"""A stop request that survives being swallowed: long loops call `check()` between steps.

The commands' SIGTERM/SIGINT handler records the request and raises KeyboardInterrupt at once; when that
exception lands inside C code that swallows it (a parser checking for signals, say), the next `check()`
raises it again, so a run always stops and its `with` blocks remove their temporary outputs.
"""

requested = False


def request() -> None:
    global requested
    requested = True
    raise KeyboardInterrupt


def check() -> None:
    if requested:
        raise KeyboardInterrupt
