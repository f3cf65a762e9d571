"""Small file helpers: atomic writes, so no command ever leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from keras_ae.errors import UsageError
from keras_ae.run_dirs import RUN_MARKER, UNFINISHED  # noqa: F401  (UNFINISHED: public here too)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[pathlib.Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`, on error remove it.

    The temporary name keeps the extension of `path` (or `suffix`), so writers that look at the
    extension (Keras `.keras`, matplotlib `.png`) still work.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is an existing directory; name a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = pathlib.Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes the file private (0600): give it the usual umask permissions
            os.chmod(tmp_path, 0o666 & ~_umask())
        _note_written(path)  # first: a run stopped between the two never leaves a file it did not list
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


_RUNNING: dict[pathlib.Path, dict] = {}  # run directory (resolved) -> its UNFINISHED state, for this process's runs


def _note_written(path: pathlib.Path) -> None:
    """Record a file about to be written into a run directory this process is writing, in its `UNFINISHED` marker:
    should the run stop early, a rerun then knows which files are the stopped run's (`run_dirs.run_outputs`) and
    leaves any other file of a run file's name alone (a listed file that was never written is no harm)."""
    state = _RUNNING.get(path.parent.resolve()) if _RUNNING else None
    if state is None or path.name in (UNFINISHED, RUN_MARKER) or path.name in state["written"]:
        return
    state["written"].append(path.name)
    with contextlib.suppress(OSError):
        write_json(path.parent / UNFINISHED, state)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[pathlib.Path]:
    """Yield a temporary directory beside `path`; on success it replaces `path` (an older directory there
    is removed only then), on error or interrupt it is removed: `path` is never seen half-written."""
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is an existing file, not a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private (0700)
    try:
        yield tmp
        if path.exists():
            old = tmp.with_name(tmp.name + ".old")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _to_builtin(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pathlib.PurePath):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def write_json(path: str | os.PathLike, data: Any) -> pathlib.Path:
    """Write `data` as indented JSON atomically (numpy scalars and arrays are converted)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_to_builtin) + "\n")
    return pathlib.Path(path)


def as_path(value: object, what: str) -> pathlib.Path:
    """`value` as a path, or a UsageError naming `what` when it is none (None, a number)."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise UsageError(f"Expected {what} as a path, received {value!r}")
    return pathlib.Path(value)


def not_a_file(path: pathlib.Path) -> str:
    """Why `path`, which is not a regular file, cannot be read as one: missing, a folder, a device or a pipe."""
    if path.is_dir():
        return "is a folder, not a file"
    if path.is_char_device() or path.is_block_device():
        return "is a device, not a file"
    if path.exists():
        return "is a pipe or socket, not a file"
    return "does not exist"


def keys_once(refuse: Callable[[str], Exception]) -> Callable[[list], dict]:
    """A `json.loads` object_pairs_hook that raises `refuse(key)` for a key an object gives twice (json would keep
    the last silently: which one was meant is not known)."""
    def hook(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise refuse(key)
            out[key] = value
        return out
    return hook


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Read a JSON file, raising UsageError with the file name when it is missing or malformed."""
    from keras_ae.errors import UsageError

    path = pathlib.Path(path)
    if path.is_char_device():  # /dev/zero, /dev/urandom: no end to read to (a pipe, <(jq ...), ends)
        raise UsageError(f"cannot read {what} {path}: a device, not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {err.object[err.start]:#04x} at position "
                         f"{err.start}); JSON files are UTF-8") from None
    once = keys_once(lambda key: UsageError(f"{what} {path} gives the key {key!r} twice"))

    def number(literal: str) -> float:
        value = float(literal)
        if value == 0 and any(c in "123456789" for c in literal.lower().split("e")[0]):
            raise UsageError(f"{what} {path} holds the number {literal}, too small for a float (it would read as 0)")
        return value

    try:
        return json.loads(text, object_pairs_hook=once, parse_float=number)
    except json.JSONDecodeError as err:
        raise UsageError(f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno}") from None
    except RecursionError:
        raise UsageError(f"{what} {path} nests its values too deeply to be read") from None
    except UsageError:
        raise
    except ValueError as err:  # Python's limit on the digits of an integer (4300)
        raise UsageError(f"{what} {path} holds a value that cannot be read: {str(err).split(';')[0]}") from None


