"""A JSON value from a config file checked as the command line checks the option it sets (`config_value`)."""

from __future__ import annotations

import argparse

from keras_ae.errors import UsageError


def config_value(action: argparse.Action, value, where: str):
    """A JSON value for `action` checked as the command line would check it: the option's type (an integer
    is not 1.5 nor [1] nor true), one value or a list by its nargs, its choices; null keeps the default."""
    if value is None:
        return action.default
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)):
        if not isinstance(value, bool):
            raise UsageError(f"{where} must be true or false, received {json_text(value)}")
        return value
    if action.nargs in ("*", "+") or isinstance(action.nargs, int):
        if not isinstance(value, list):
            raise UsageError(f"{where} must be a list, received {json_text(value)}")
        return [_one_value(action, item, where) for item in value]
    return _one_value(action, value, where)


def json_text(value) -> str:
    import json

    return json.dumps(value)


def _one_value(action: argparse.Action, value, where: str):
    from keras_ae.options import Spec

    kind = action.type
    if isinstance(kind, Spec):  # a number in JSON, checked by the option's one specification
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where} must be {kind.describe()}, received {json_text(value)}")
        value = kind.check(where, value)
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise UsageError(f"{where} must be an integer, received {json_text(value)}")
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where} must be a number, received {json_text(value)}")
        value = float(value)
    elif kind is None or kind is str:
        if not isinstance(value, str):
            raise UsageError(f"{where} must be a string, received {json_text(value)}")
    else:  # a converting type (a path, a list of numbers): it reads the text form, as from the command line
        try:
            value = kind(value if isinstance(value, str) else json_text(value))
        except (TypeError, ValueError, argparse.ArgumentTypeError) as err:
            text = str(err)
            raise UsageError(f"{where} {text}" if text.startswith("must be ") else f"{where}: {text}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise UsageError(f"{where} must be one of {choices}, received {json_text(value)}")
    return value
