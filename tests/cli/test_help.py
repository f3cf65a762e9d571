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
