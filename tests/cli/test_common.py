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
