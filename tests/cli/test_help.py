"""Every command's --help prints its usage and exits 0 (a '%' in a help string once made argparse crash)."""

import importlib

import pytest

COMMANDS = [
    ("train", []),
    ("anomaly", []),
    ("font", []),
    ("experiment", []),
    ("fraud", []),
    ("fraud", ["fit"]),
    ("fraud", ["score"]),
    ("fraud", ["evaluate"]),
    ("fraud", ["demo"]),
]


@pytest.mark.parametrize(("command", "sub"), COMMANDS, ids=[" ".join([c, *s]) for c, s in COMMANDS])
def test_help_exits_0_with_the_usage(command, sub, capsys):
    cli = importlib.import_module(f"keras_ae.cli.{command}").cli
    with pytest.raises(SystemExit, match="^0$") as caught:  # the exit code
        cli([*sub, "--help"])
    captured = capsys.readouterr()
    assert caught.value.code == 0, captured.err
    assert captured.out.startswith("usage: "), captured.out[:200]
    assert "--help" in captured.out and captured.err == ""
    for name in sub:
        assert name in captured.out.splitlines()[0]


def _parsers(parser):
    """A parser and every subcommand's parser under it."""
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


@pytest.mark.parametrize("command", sorted({c for c, _ in COMMANDS}))
def test_every_option_says_what_it_does(command):
    parser = importlib.import_module(f"keras_ae.cli.{command}").build_parser()
    silent = [f"{sub.prog} {action.option_strings[0]}" for sub in _parsers(parser) for action in sub._actions
              if action.option_strings and not action.help]
    assert silent == []


def test_the_font_help_shows_every_default(capsys):
    from keras_ae.cli.font import build_parser

    parser = build_parser()
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        given = action.default is not None and action.default is not False
        if action.option_strings and given and action.dest != "help":
            assert f"default {action.default}" in text, action.dest
