"""Every numeric option of the image commands is checked once, by its `keras_ae.options.Spec`: on the command
line (the argparse type), in a --config file (values go through the same type) and in the Python API (the
config's `check`). A bad value is one line naming the option, exit 2, nothing written, and no TensorFlow."""

import argparse
import importlib
import json
import os
import re
import subprocess
import sys

import pytest

from keras_ae.errors import UsageError
from keras_ae.lectures.experiment import Config, Sweep, parse_sweep
from keras_ae.lectures.font import FontConfig
from keras_ae.runs.one_class import OneClassConfig
from keras_ae.runs.train import TrainConfig
from tests.conftest import REPO

SEEDS = ["-1", "4294967296", "2**40"]
FLAGS = {  # command -> (flag, bad value) pairs
    "train": [("--lr", v) for v in ("nan", "inf", "-1", "0")] + [("--beta", "nan"), ("--epochs", "0")]
    + [("--seed", v) for v in SEEDS] + [("--noise", "1.5"), ("--batch-size", "1.5"), ("--kl-warmup", "-1"),
                                          ("--image-size", "0"), ("--steps-per-execution", "nan"),
                                          ("--verbose", "3")],
    "anomaly": [("--lr", v) for v in ("nan", "inf", "-1", "0")] + [("--epochs", "0")]
    + [("--seed", v) for v in SEEDS] + [("--batch-size", "1.5"), ("--percentile", "nan"), ("--percentile", "100"),
                                          ("--val-fraction", "1"), ("--k", "0"), ("--blur", "-1"), ("--blur", "nan"),
                                          ("--shift", "-1"), ("--shift", "1.5"), ("--rotate", "181"),
                                          ("--filters", "8,nan"),
                                          ("--filters", "8,0"), ("--filters", "32,,16"), ("--normal", "-1")],
    "font": [("--lr", v) for v in ("nan", "inf", "-1", "0")] + [("--max-epochs", "0")]
    + [("--seed", v) for v in SEEDS] + [("--batch-size", "1.5"), ("--noise-levels", "0.2,1.5"),
                                          ("--noise-levels", "0.2,nan"), ("--hidden", "25,1e999"),
                                          ("--max-wrong", "-1"), ("--steps", "0")],
}
CONFIGS = {  # command -> (config file text, the key its message names)
    "train": [('{"epochs": NaN}', "epochs"), ('{"epochs": 1e999}', "epochs"), ('{"lr": "nan"}', "lr"),
              ('{"seed": -1}', "seed"), ('{"beta": Infinity}', "beta"), ('{"noise": 1.5}', "noise")],
    "anomaly": [('{"epochs": NaN}', "epochs"), ('{"epochs": 1e999}', "epochs"), ('{"lr": "nan"}', "lr"),
                ('{"seed": -1}', "seed"), ('{"filters": [8, NaN]}', "filters"), ('{"k": 1.5}', "k"),
                ('{"blur": -0.5}', "blur"), ('{"rotate": NaN}', "rotate"), ('{"shift": 0.5}', "shift")],
    "font": [('{"max-epochs": NaN}', "max-epochs"), ('{"max-epochs": 1e999}', "max-epochs"), ('{"lr": "nan"}', "lr"),
             ('{"seed": -1}', "seed"), ('{"hidden": [25, 0]}', "hidden"), ('{"steps": 1e999}', "steps")],
}


def sweep(text: str) -> str:
    """A sweep file: the top-level settings `text` (JSON members) with a one-point grid."""
    return "{" + text + ', "grid": {"epochs": [1]}}'


SWEEPS = [  # experiment: sweep files, and the key the message names
    (sweep('"seed": -1'), "seed"), (sweep('"seed": 4294967296'), "seed"),
    (sweep('"seed": 4294967295, "n_runs": 2'), "seed"), (sweep('"n_runs": NaN'), "n_runs"),
    (sweep('"n_runs": 1e999'), "n_runs"), (sweep('"batch_size": 1.5'), "batch_size"),
    (sweep('"train_size": 0'), "train_size"), ('{"grid": {"epochs": [NaN]}}', "grid.epochs"),
    ('{"grid": {"epochs": [1e999]}}', "grid.epochs"), ('{"grid": {"learning_rate": ["nan"]}}', "grid.learning_rate"),
    ('{"grid": {"learning_rate": [Infinity]}}', "grid.learning_rate"),
    ('{"grid": {"learning_rate": [-1]}}', "grid.learning_rate"),
    ('{"grid": {"learning_rate": [{"initial": NaN, "decay_rate": 0.5, "decay_epochs": 2}]}}',
     "grid.learning_rate.initial"),
    ('{"grid": {"layers": [[25, NaN]]}}', "grid.layers"), ('{"grid": {"latent_dim": [0]}}', "grid.latent_dim"),
]

CASES = [(cmd, ["--out", "run", flag, value], flag) for cmd, pairs in FLAGS.items() for flag, value in pairs]
CASES += [(cmd, ["--out", "run", "--config", "c.json"], (text, key)) for cmd, items in CONFIGS.items()
          for text, key in items]
CASES += [("experiment", ["--out", "run", "--config", "c.json"], (text, key)) for text, key in SWEEPS]


def run(command, argv):
    """The command's exit code: run_main's return, or argparse's SystemExit (a bad option type)."""
    cli = importlib.import_module(f"keras_ae.cli.{command}").cli
    try:
        return cli(argv)
    except SystemExit as stop:
        return stop.code


def everything(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize(("command", "argv", "what"), CASES,
                         ids=[f"{c} {' '.join(a[2:]) if isinstance(w, str) else w[0]}" for c, a, w in CASES])
def test_a_bad_value_is_one_line_exit_2_and_nothing_written(command, argv, what, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if isinstance(what, tuple):
        text, key = what
        (tmp_path / "c.json").write_text(text)
        named = [f"'{key}'", f"'--{key.replace('_', '-')}'"]  # run_main may reword a dest as its flag
    else:
        named = [f"{what} must be "]
    argv = [str(tmp_path / a) if a in ("run", "c.json") else a for a in argv]
    before = everything(tmp_path)
    code = run(command, argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert any(name in err for name in named), err
    assert " must be " in err and "Traceback" not in err, err
    assert everything(tmp_path) == before


SAME_RULE = [  # (command argv, the API call that must break the same rule)
    ("train", ["--lr", "nan"], lambda: TrainConfig(lr=float("nan")).check()),
    ("train", ["--seed", "-1"], lambda: TrainConfig(seed=-1).check()),
    ("train", ["--epochs", "0"], lambda: TrainConfig(epochs=0).check()),
    ("train", ["--beta", "nan"], lambda: TrainConfig(beta=float("nan")).check()),
    ("train", ["--noise", "1.5"], lambda: TrainConfig(noise=1.5).check()),
    ("anomaly", ["--lr", "inf"], lambda: OneClassConfig(lr=float("inf")).check()),
    ("anomaly", ["--seed", "4294967296"], lambda: OneClassConfig(seed=2**32).check()),
    ("anomaly", ["--val-fraction", "1"], lambda: OneClassConfig(val_fraction=1.0).check()),
    ("anomaly", ["--filters", "8,0"], lambda: OneClassConfig(filters=(8, 0)).check()),
    ("font", ["--lr", "-1"], lambda: FontConfig(lr=-1.0).check()),
    ("font", ["--noise-levels", "0.2,1.5"], lambda: FontConfig(noise_levels=[0.2, 1.5]).check()),
    ("font", ["--hidden", "25,0"], lambda: FontConfig(hidden=[25, 0]).check()),
]


@pytest.mark.parametrize(("command", "argv", "api"), SAME_RULE, ids=[f"{c} {' '.join(a)}" for c, a, _ in SAME_RULE])
def test_the_api_breaks_the_same_rule_as_the_command(command, argv, api, tmp_path, capsys):
    assert run(command, [*argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    rule = err.split(" must be ", 1)[1].rsplit(", received ", 1)[0]
    with pytest.raises(UsageError, match=re.escape(f" must be {rule}, received ")):
        api()
    assert not (tmp_path / "run").exists()


def test_the_api_messages_name_the_field():
    with pytest.raises(UsageError, match=r"^lr must be a finite number > 0 \(at most 3.4e\+38, float32's largest\), "
                                         r"received nan$"):
        TrainConfig(lr=float("nan")).check()
    with pytest.raises(UsageError, match=r"^seed must be an integer in \[0, 4294967296\), received 1099511627776$"):
        OneClassConfig(seed=2**40).check()
    with pytest.raises(UsageError, match=r"^noise_levels must be .*each a finite number in \[0, 1\]"):
        FontConfig(noise_levels=[float("nan")]).check()
    with pytest.raises(UsageError, match=r"^verbose must be an integer in \[0, 2\], received 3$"):
        TrainConfig(verbose=3).check()
    TrainConfig(verbose="auto", seed=2**32 - 1).check()
    FontConfig(hidden=[3], denoise=True, noise_levels=[0.0, 1.0]).check()
    with pytest.raises(UsageError, match=r"'grid.epochs' must be an integer >= 1, received nan"):
        parse_sweep({"grid": {"epochs": [float("nan")]}})


@pytest.mark.parametrize(("command", "specs"), [("train", TrainConfig.SPECS), ("anomaly", OneClassConfig.SPECS),
                                                ("font", FontConfig.SPECS)])
def test_every_numeric_option_uses_the_spec_of_its_field(command, specs):
    parser = importlib.import_module(f"keras_ae.cli.{command}").build_parser()
    actions = {a.dest: a for a in parser._actions}
    for field, spec in specs.items():
        if field == "normal":  # anomaly --normal: the spec's label, or "all"
            assert actions[field].type("all") == "all" and actions[field].type("3") == 3
        elif field in actions:
            assert actions[field].type is spec, field
    numeric = [a.dest for a in parser._actions if a.type in (int, float)]
    assert numeric == [], f"options still typed int/float (no range, NaN passes): {numeric}"


def test_every_numeric_field_has_a_spec():
    import dataclasses

    for config, skip in ((TrainConfig, {"verbose"}), (OneClassConfig, {"verbose"}), (FontConfig, set()),
                         (Config, set())):
        for field in dataclasses.fields(config):
            numeric = any(word in str(field.type) for word in ("int", "float"))
            if numeric and field.name not in skip:
                assert field.name in config.SPECS, (config.__name__, field.name)
    assert {"seed", "n_runs", "batch_size"} <= set(Sweep.SPECS)


def test_list_specs_read_text_and_json_lists():
    spec = FontConfig.SPECS["hidden"]
    assert spec("25, 10") == [25, 10] and spec("[25, 10]") == [25, 10] and spec("1e1") == [10]
    for bad in ("", ",", "25,x", "[]", "[25, true]", "{}", "25,-1"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be a comma-separated list, each an integer >= 1"):
            spec(bad)


def test_the_checks_come_before_tensorflow_is_imported(tmp_path):
    """In a fresh process: a bad value of each command, then TensorFlow must still be unimported."""
    code = f"""
import sys
from keras_ae.cli import train, anomaly, font, experiment
out = {str(tmp_path / 'run')!r}
codes = []
for cli, argv in ((train.cli, ["--lr", "nan"]), (anomaly.cli, ["--seed", "-1"]), (font.cli, ["--hidden", "0"]),
                  (train.cli, ["--config", {str(tmp_path / 'c.json')!r}]),
                  (anomaly.cli, ["--config", {str(tmp_path / 'c.json')!r}]),
                  (experiment.cli, ["--config", {str(tmp_path / 's.json')!r}])):
    try:
        codes.append(cli([*argv, "--out", out]))
    except SystemExit as stop:
        codes.append(stop.code)
print(codes, "tensorflow" in sys.modules, "keras" in sys.modules)
"""
    (tmp_path / "c.json").write_text('{"epochs": NaN}')
    (tmp_path / "s.json").write_text(json.dumps({"seed": -1, "grid": {"epochs": [1]}}))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[2,", "2,", "2,", "2,", "2,", "2]", "False", "False"], result.stderr
    assert len(result.stderr.strip().splitlines()) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "s.json"]


def test_integer_options_stop_at_2_31_and_take_ascii_digits_only():
    """TensorFlow could not hold --batch-size 1e30 (a crash), --epochs 1e20 trained forever; Python's int()
    reads '١٢', '２' and '1_000', which no table reader here takes."""
    import argparse

    from keras_ae.options import INT_LIMIT, POSITIVE_INT

    assert POSITIVE_INT(str(INT_LIMIT)) == INT_LIMIT
    for text in (str(INT_LIMIT + 1), "1e30", "\u0661\u0662", "\uff12", "1_000"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"received {re.escape(text)}$"):
            POSITIVE_INT(text)
    with pytest.raises(argparse.ArgumentTypeError, match="in ASCII digits, without underscores"):
        POSITIVE_INT("1_000")
    with pytest.raises(UsageError, match=r"^batch_size must be an integer >= 1 and at most 2147483647"):
        TrainConfig(batch_size=2**40).check()


@pytest.mark.parametrize(("cls", "field", "value", "message"), [
    (TrainConfig, "mixed_precision", "false", "mixed_precision must be true or false, received 'false'"),
    (TrainConfig, "pairs", "no", "pairs must be true or false"),
    (TrainConfig, "dataset", None, "dataset must be a string, received None"),
    (TrainConfig, "out", 123, "out must be a string, received 123"),
    (OneClassConfig, "dataset", 5, "dataset must be a string"),
    (FontConfig, "denoise", "yes", "denoise must be true or false"),
    (TrainConfig, "model_options", {"bogus": 1}, "the 'conv' builder takes no argument 'bogus'"),
    (TrainConfig, "model_options", {"input_shape": (4,)}, "'input_shape' is set by the run"),
])
def test_the_python_api_checks_flags_text_and_builder_options(cls, field, value, message):
    """A string "false" switched mixed precision on; model_options={"bogus": 1} was ignored."""
    with pytest.raises(UsageError, match=re.escape(message)):
        cls(**{field: value}).check()


def test_a_whole_number_given_as_a_float_is_converted():
    """epochs=2.0 passed the check and failed inside Keras ('float' object cannot be interpreted as an integer)."""
    config = TrainConfig(epochs=2.0, train_size=300.0)
    config.check()
    assert (config.epochs, config.train_size) == (2, 300) and isinstance(config.epochs, int)
