"""Small file helpers: atomic writes, so no command ever leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[pathlib.Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`, on error remove it.

    The temporary name keeps the extension of `path` (or `suffix`), so writers that look at the
    extension (Keras `.keras`, matplotlib `.png`) still work.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = pathlib.Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes the file private (0600): give it the usual umask permissions
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Read a JSON file, raising UsageError with the file name when it is missing or malformed."""
    from keras_ae.errors import UsageError

    path = pathlib.Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno}") from None
