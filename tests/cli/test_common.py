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
