"""The argument parser of every command: a bad option is one line (``error: ...``) and exit code 2."""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

EXIT_USAGE = 2
_NEGATIVE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)  # how a negative number (or a list of them) starts


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (``error: ...``) and exits 2, and takes a value that
    starts with '-' (``--value-range -1,1``, ``--threshold-value -0.5``) as the option's value."""

    def parse_known_args(self, args=None, namespace=None):
        args = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args(self._dashed_values_joined(args), namespace)

    def _dashed_values_joined(self, args: list[str]) -> list[str]:
        """``--opt -1,1`` as ``--opt=-1,1`` where --opt takes one value and the next word is a negative number (or
        starts like one: ``-1,1``, ``-.5``, ``-inf``) that is no option of this command; argparse would otherwise
        read it as an option and say --opt expected one argument. Any other word starting with '-' stays an
        option (``--out --epochs=5`` is still refused)."""
        options: dict[str, argparse.Action] = {}

        def collect(parser: argparse.ArgumentParser) -> None:
            for action in parser._actions:
                options.update(dict.fromkeys(action.option_strings, action))
                if isinstance(action, argparse._SubParsersAction):
                    for sub in action.choices.values():
                        collect(sub)

        collect(self)
        out: list[str] = []
        for token in args:
            action = options.get(out[-1]) if out else None
            if action is not None and action.nargs is None and _NEGATIVE.match(token) and token not in options:
                out[-1] = f"{out[-1]}={token}"
            else:
                out.append(token)
        return out

    def error(self, message: str) -> NoReturn:
        # "argument --lr: must be a finite number > 0, received nan" -> "--lr must be ..." (an options.Spec type)
        message = re.sub(r"^argument ([-\w/]+): must (not )?be ", r"\1 must \2be ", message)
        self.exit(EXIT_USAGE, f"error: {message}\n")  # the same form as every other refusal
