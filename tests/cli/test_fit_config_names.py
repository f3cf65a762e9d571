"""The fit command's config uses the detector's parameter names; flags keep their short names; a library message
naming a parameter is reworded as the flag that sets it."""

import json

import pytest

from keras_ae.cli.common import as_flags, option_flags
from keras_ae.cli.fraud import build_parser, cli
from keras_ae.fraud import FraudDetector
from keras_ae.runs.fraud import FraudFitConfig


def test_fit_options_are_the_detectors_parameters():
    args = build_parser().parse_args(["fit", "--input", "t.csv", "--out", "m", "--trim", "0.01", "--neighbors", "3",
                                      "--time", "hour", "--no-log-amount"])
    config = FraudFitConfig(**{k: v for k, v in vars(args).items() if k not in ("config", "command")})
    det = config.detector("Class")
    assert (det.trim_fraction, det.n_neighbors, det.time_mode, det.log_amount) == (0.01, 3, "hour", False)


def test_library_names_become_flags():
    flags = option_flags(build_parser())
    assert flags["trim_fraction"] == "--trim" and flags["n_neighbors"] == "--neighbors"
    assert as_flags("n_neighbors=9 is more than the 5 normal rows", flags) == "--neighbors 9 is more than the 5 " \
                                                                             "normal rows"


@pytest.mark.parametrize("key", ["trim_fraction", "trim"])
def test_a_config_file_takes_the_parameter_name_or_the_flag(key, tmp_path, capsys):
    from keras_ae.fraud import synthetic_transactions

    synthetic_transactions(600, fraud_rate=0.0, seed=2).drop(columns="Class").to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "c.json").write_text(json.dumps({key: 0.02, "n_neighbors": 2, "epochs": 1, "n_models": 1,
                                                 "verbose": 0}))
    assert cli(["fit", "--input", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"),
                "--config", str(tmp_path / "c.json")]) == 0
    det = FraudDetector.load(tmp_path / "m")
    assert det.trim_fraction == 0.02 and det.n_neighbors == 2


def test_an_error_carries_its_parameter_and_the_command_names_the_flag(tmp_path, capsys):
    from keras_ae.errors import UsageError
    from keras_ae.options import POSITIVE_INT

    try:
        POSITIVE_INT.check("n_neighbors", 0)
    except UsageError as err:
        assert err.param == "n_neighbors"
        assert err.about({"n_neighbors": "--neighbors"}) == "--neighbors must be an integer >= 1, received 0"
    code = cli(["fit", "--input", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"), "--neighbors", "0"])
    assert code == 2 and "--neighbors must be" in capsys.readouterr().err
