"""One small registry class: name -> entry, with the help text commands show.

Every kind of thing the package can be extended with (architectures, datasets, image anomaly
scores, threshold rules, distribution strategies) lives in one `Registry`. Commands read their
choices, defaults and help from it, so a new entry is one `register` call and nothing else.
Entries may name their implementation as ``"module:attribute"`` so that reading a registry never
imports TensorFlow.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def resolve(target: Any) -> Any:
    """A callable given as ``"package.module:attribute"`` imported on first use; anything else as is."""
    if isinstance(target, str):
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)
    return target


class Registry(Generic[T]):
    """Named entries of one kind, in registration order.

    Args:
        kind: what the entries are, as error messages name it ("architecture", "score").
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T, replace: bool = False) -> T:
        """Add `entry` under `name`; ValueError if the name is taken (unless `replace`)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"Expected a non-empty {self.kind} name, received name={name!r}")
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered (pass replace=True to change it)")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry `name`; ValueError listing the known names otherwise."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.kind} {name!r} (known: {', '.join(self._entries)})") from None

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def help(self, describe: Callable[[T], str] | None = None) -> str:
        """'name: help; name: help' for a command's --help (entries' `help` attribute by default)."""
        describe = describe or (lambda entry: getattr(entry, "help", ""))
        return "; ".join(f"{name}: {describe(entry)}" if describe(entry) else name for name, entry in self.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, name: str) -> T:
        return self.get(name)
