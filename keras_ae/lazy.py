"""Names of a package imported on first use, so that importing the package (or reading its registries)
loads no TensorFlow until a name that needs it is touched."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, sources: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for `package`: each name of `sources` is read from the
    module it maps to (relative to `package` when it starts with a dot) the first time it is used."""

    def __getattr__(name: str) -> Any:
        if name in sources:
            module = sources[name]
            return getattr(importlib.import_module(package + module if module.startswith(".") else module), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(sources)

    return __getattr__, __dir__
