"""keras_ae.cli.common and every command module: importing a command loads no TensorFlow."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["train", "anomaly", "fraud", "font", "experiment"])
def test_command_modules_import_no_tensorflow(module):
    code = (f"import sys, keras_ae.cli.{module} as m; m.build_parser(); "
            "print(sorted(n for n in ('tensorflow', 'keras') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_stop_request_that_surfaces_as_another_exception_is_still_an_interruption(capsys):
    from keras_ae import interrupt
    from keras_ae.cli.common import run_main

    def main(argv):
        interrupt.requested = True  # as the signal handler leaves it
        raise AssertionError("Nesting violated for default stack")  # what TensorFlow turned the stop into

    assert run_main(main, []) == 130
    assert capsys.readouterr().err.strip() == "error: interrupted"

    def broken(argv):
        raise AssertionError("a real bug")

    with pytest.raises(AssertionError, match="a real bug"):  # without a stop request it is not hidden
        run_main(broken, [])


def test_a_stop_request_raised_inside_a_garbage_collection_callback_prints_no_traceback(capsys):
    """A signal that lands in a callback Python cannot raise from (JAX's gc callback, a __del__) was printed as
    "Exception ignored in ..." with a traceback; now the command just stops at its next check, with one line."""
    import gc
    import sys

    from keras_ae import interrupt
    from keras_ae.cli.common import run_main

    class Finalised:
        def __del__(self):
            interrupt.request()  # what the signal handler does: record the request and raise KeyboardInterrupt

    def main(argv):
        Finalised()  # dropped at once: the KeyboardInterrupt of its __del__ is unraisable
        gc.collect()
        interrupt.check()  # where a long loop looks again
        return 0

    def other(argv):  # any other unraisable exception is still reported
        class Broken:
            def __del__(self):
                raise ValueError("a real bug in a finaliser")
        Broken()
        return 0

    hook, seen = sys.unraisablehook, []
    sys.unraisablehook = seen.append  # what Python would print "Exception ignored in" for
    try:
        assert run_main(main, []) == 130
        assert capsys.readouterr().err == "error: interrupted\n" and seen == []
        assert sys.unraisablehook == seen.append  # restored
        assert run_main(other, []) == 0
    finally:
        sys.unraisablehook = hook
    assert [type(u.exc_value) for u in seen] == [ValueError]


def test_a_value_starting_with_a_dash_is_taken_as_the_options_value(capsys):
    from keras_ae.cli.common import ArgumentParser
    from keras_ae.options import Spec

    p = ArgumentParser(prog="x")
    p.add_argument("--value-range")
    p.add_argument("--threshold-value", type=Spec(float))
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(["--value-range", "-1,1", "--threshold-value", "-0.5", "--quiet"])
    assert args.value_range == "-1,1" and args.threshold_value == -0.5 and args.quiet
    for following in (["--quiet"], ["--epochs=5"], ["-o"]):  # an option, or a word shaped like one: not a value
        with pytest.raises(SystemExit) as stop:
            p.parse_known_args(["--value-range", *following])
        assert stop.value.code == 2 and "--value-range: expected one argument" in capsys.readouterr().err
    assert p.parse_args(["--threshold-value", "-.5"]).threshold_value == -0.5
    with pytest.raises(SystemExit):
        p.parse_args(["--threshold-value", "-inf"])
    assert "--threshold-value must be a finite number, received -inf" in capsys.readouterr().err


def test_a_model_too_deep_to_build_is_one_line(capsys):
    from keras_ae.cli.common import run_main

    def main(argv):
        def deeper(n):
            return deeper(n + 1)
        deeper(0)

    assert run_main(main, []) == 2
    assert capsys.readouterr().err.strip() == ("error: too deep to build (Python's recursion limit was reached); "
                                               "use fewer layers")


@pytest.mark.parametrize("key", ["h", "help", "config", "version"])
@pytest.mark.parametrize("command", ["train", "anomaly", "font", "fraud"])
def test_a_config_key_naming_help_or_the_config_itself_is_an_unknown_option(key, command, tmp_path, capsys):
    """"h" is the -h flag's own name: it reached the run's config as help=... (a traceback)."""
    import importlib
    import json

    config = tmp_path / "c.json"
    config.write_text(json.dumps({key: None}))
    cli = importlib.import_module(f"keras_ae.cli.{command}").cli
    argv = ["--config", str(config), "--out", str(tmp_path / "out")]
    code = cli(["fit", "--input", "x.csv", *argv] if command == "fraud" else argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"unknown option {key!r}" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("key", "value", "expected"), [("no-jit", True, False), ("no_jit", False, True),
                                                        ("jit", True, True), ("no-pairs", True, False),
                                                        ("pairs", False, False), ("no-cache", True, False)])
def test_a_config_key_naming_a_negative_flag_means_what_the_flag_means(key, value, expected, tmp_path):
    """"no-jit": true is --no-jit (jit off); it turned XLA on, the value stored as it was under jit."""
    import argparse
    import json

    from keras_ae.cli.common import parse_with_config
    from keras_ae.cli.train import build_parser

    config = tmp_path / "c.json"
    config.write_text(json.dumps({key: value}))
    args = parse_with_config(build_parser(), ["--config", str(config)])
    assert getattr(args, key.replace("-", "_").removeprefix("no_")) is expected
    assert isinstance(args, argparse.Namespace)
