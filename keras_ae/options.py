"""One specification per option: its type, range and finiteness, checked the same way everywhere.

A `Spec` is what an option accepts. The same object is the option's argparse ``type`` (so a config file, whose
values go through the option's type, gets the same check), and the check a config dataclass or an estimator
runs on its fields in the Python API::

    SEED.check("seed", -1)        # UsageError: seed must be an integer in [0, 4294967296), received -1
    p.add_argument("--seed", type=SEED)   # error: --seed must be an integer in [0, 4294967296), received -1

The rule text is the same in every message; only the option's name follows the caller (``--lr`` on the
command line, ``'lr'`` in a config file, ``learning_rate`` in the API).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from keras_ae.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Spec:
    """An integer or a finite number in a range; `optional` admits None (the option's "not given")."""

    kind: type = float
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # value > low instead of >= low
    high_open: bool = False  # value < high instead of <= high
    optional: bool = False

    @property
    def __name__(self) -> str:  # argparse names the type in some messages
        return "integer" if self.kind is int else "number"

    def describe(self) -> str:
        """The rule in words: 'a number > 0', 'an integer in [0, 4294967296)', 'a number in [0, 1]'."""
        what = "an integer" if self.kind is int else "a finite number"
        if self.high == FLOAT32_MAX and self.low is not None:  # a bound of the machine, not of the option's sense
            return f"{what} {'>' if self.low_open else '>='} {_num(self.low)} (at most 3.4e+38, float32's largest)"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{what} in {left}{_num(self.low)}, {_num(self.high)}{right}"
        if self.low is not None:
            return f"{what} {'>' if self.low_open else '>='} {_num(self.low)}"
        if self.high is not None:
            return f"{what} {'<' if self.high_open else '<='} {_num(self.high)}"
        return what

    def problem(self, value: Any) -> str | None:
        """None when `value` is acceptable, else the rule it breaks."""
        if value is None:
            return None if self.optional else "given"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not hasattr(value, "__float__"):
            return self.describe()
        if self.kind is int and (not _is_integral(value)):
            return self.describe()
        number = float(value) if not isinstance(value, int) else value
        if isinstance(number, float) and not math.isfinite(number):
            return self.describe()
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            return self.describe()
        if self.high is not None and (number > self.high or (self.high_open and number == self.high)):
            return self.describe()
        if self.high == FLOAT32_MAX and 0 < abs(number) < FLOAT32_TINY:  # it would be held as 0
            return f"{self.describe()} and at least {FLOAT32_TINY:.2g} (float32's smallest)"
        if self.kind is int and self.high is None and number > INT_LIMIT:  # counts, sizes: what Keras and TF hold
            return f"{self.describe()} and at most {INT_LIMIT} (2**31 - 1)"
        return None

    def check(self, name: str, value: Any) -> Any:
        """`value` converted to the spec's kind, or a UsageError "<name> must be <rule>, received <value>"."""
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
        broken = self.problem(value)
        if broken is not None:
            raise UsageError(f"{name} must be {broken}, received {_shown(value)}", param=name)
        if value is None:
            return None
        return int(value) if self.kind is int else float(value)

    def __call__(self, text: str) -> Any:
        """argparse type: the text of a command-line (or config-file) value, converted and checked."""
        value = _parse(text, self.kind)
        broken = "an integer" if value is _BAD else self.problem(value)
        if broken is not None:
            rule = self.describe() if value is _BAD else broken
            if value is _BAD and not _ascii_digits(str(text)):
                rule += " in ASCII digits, without underscores"
            raise argparse.ArgumentTypeError(f"must be {rule}, received {text}")
        return int(value) if self.kind is int else float(value)


_BAD = object()


def _ascii_digits(text: str) -> bool:
    """Written in ASCII without underscores: Python reads '١٢', '２' and '1_000' as numbers, a table's reader
    does not."""
    return text.isascii() and "_" not in text


def _parse(text: str, kind: type) -> Any:
    text = str(text).strip()
    if not _ascii_digits(text):
        return _BAD
    if kind is int:
        try:
            return int(text)
        except ValueError:
            try:  # "1e3" or "3.0" are integers written as numbers
                number = float(text)
            except ValueError:
                return _BAD
            return int(number) if math.isfinite(number) and number == int(number) else _BAD
    try:
        return float(text)
    except ValueError:
        return _BAD


def _is_integral(value: Any) -> bool:
    if isinstance(value, int):
        return True
    return math.isfinite(value) and float(value) == int(value)


def _num(x: float) -> str:
    if abs(x) >= 1e15:  # 3.40282e+38, not 39 digits
        return f"{float(x):.6g}"
    return str(int(x)) if float(x) == int(x) else repr(float(x))


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def check_fields(config: Any) -> None:
    """Check a run's configuration (a dataclass with `SPECS`) field by field, before any work: each numeric field by
    its `Spec`, converted in place (an epochs of 2.0 becomes 2, which Keras can count with); a `bool` field must be
    true or false (a string "false" is true to Python) and a `str` field a string or path (None only where the
    field's type admits it). A UsageError names the first field that breaks its rule."""
    import os

    import numpy as np

    for field in dataclasses.fields(config):
        value, kind = getattr(config, field.name), str(field.type).replace(" ", "")
        base = kind.removesuffix("|None")
        if value is None and base != kind:
            continue
        if base == "bool" and not isinstance(value, (bool, np.bool_)):
            raise UsageError(f"{field.name} must be true or false, received {_shown(value)}", param=field.name)
        if base == "str" and not isinstance(value, (str, os.PathLike)):
            raise UsageError(f"{field.name} must be a string, received {_shown(value)}", param=field.name)
    for name, spec in getattr(config, "SPECS", {}).items():
        setattr(config, name, spec.check(name, getattr(config, name)))


def check_all(specs: Mapping[str, Spec], values: Mapping[str, Any], names: Mapping[str, str] | None = None) -> dict:
    """Every `values[name]` checked by `specs[name]`, converted; messages use `names[name]` when given."""
    names = names or {}
    return {name: spec.check(names.get(name, name), values[name]) for name, spec in specs.items() if name in values}


# The specifications that several commands share.
INT_LIMIT = 2**31 - 1  # the largest count or size an integer option takes (TensorFlow counts steps in 32 bits)
FLOAT32_MAX = 3.4028234663852886e38  # the largest float32: a number a model keeps in a variable cannot exceed it
SEED = Spec(int, 0, 2**32, high_open=True)
POSITIVE_INT = Spec(int, 1)
OPTIONAL_POSITIVE_INT = Spec(int, 1, optional=True)
NON_NEGATIVE_INT = Spec(int, 0)
FLOAT32_TINY = 1.401298464324817e-45  # the smallest float32 above 0: a smaller number is held as 0
POSITIVE = Spec(float, 0, low_open=True)
LEARNING_RATE = Spec(float, 0, FLOAT32_MAX, low_open=True)  # kept by the optimiser in a float32 variable
OPTIONAL_POSITIVE = Spec(float, 0, low_open=True, optional=True)
NON_NEGATIVE = Spec(float, 0)
FRACTION_OPEN = Spec(float, 0, 1, low_open=True, high_open=True)  # a share strictly between 0 and 1
UNIT = Spec(float, 0, 1)  # an amount in [0, 1]
NUMBER = Spec(float)  # any finite number


VERBOSE = Spec(int, 0, 2)  # Keras progress output: 0 quiet, 1 progress bar, 2 one line per epoch


@dataclasses.dataclass(frozen=True)
class Each:
    """A list option whose every element `spec` accepts: ``25,10`` on the command line, ``[25, 10]`` in a config
    file or the Python API. Like a `Spec` it is the argparse ``type`` and the API check, with one message:
    ``--hidden must be a comma-separated list, each an integer >= 1, received 25,0``."""

    spec: Spec
    empty: bool = False  # whether [] is acceptable

    @property
    def __name__(self) -> str:  # argparse names the type in some messages
        return "list"

    def describe(self) -> str:
        return f"a comma-separated list{' (or none)' if self.empty else ''}, each {self.spec.describe()}"

    def problem(self, values: Any) -> str | None:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            return self.describe()
        values = list(values)
        if (not values and not self.empty) or any(self.spec.problem(_plain(v)) is not None for v in values):
            return self.describe()
        return None

    def check(self, name: str, values: Any) -> list:
        """`values` as a list of the spec's kind, or a UsageError "<name> must be <rule>, received <values>"."""
        if hasattr(values, "__iter__") and not isinstance(values, (str, bytes)):
            values = list(values)
        if self.problem(values) is not None:
            raise UsageError(f"{name} must be {self.describe()}, received {values!r}", param=name)
        return [self.spec.check(name, _plain(v)) for v in values]

    def __call__(self, text: str) -> list:
        """argparse type: ``25,10`` (or the JSON text ``[25, 10]`` of a config file), converted and checked."""
        text = str(text).strip()
        try:
            if text.startswith("["):
                items = json.loads(text)
                values = [self.spec(json.dumps(v)) for v in items] if isinstance(items, list) else None
            else:  # an empty item ("32,,16", "25,") is a slip, not a shorter list
                parts = text.split(",") if text else []
                values = None if any(not v.strip() for v in parts) else [self.spec(v) for v in parts]
            if not values and not self.empty:
                values = None
        except (ValueError, TypeError, argparse.ArgumentTypeError):
            values = None
        if values is None:
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, received {text}")
        return values


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds (what `Spec.problem` judges)."""
    return value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value


def check_verbose(verbose: Any) -> None:
    """Keras's progress setting: `VERBOSE` (0, 1, 2) or "auto"."""
    if verbose != "auto":
        VERBOSE.check("verbose", verbose)
