"""keras_ae.cli.train: strategy, precision and XLA options recorded, and refused in one line."""

import json

import keras
import numpy as np

from keras_ae import artifacts, training


# ---- the train command's options -----------------------------------------------------------------------------
def test_train_command_records_strategy_precision_and_xla_and_its_models_reload(tmp_path, capsys):
    from keras_ae.cli import train as train_cli

    out = tmp_path / "run"
    code = train_cli.cli(["--arch", "conv", "--dataset", "mnist-sample", "--epochs", "1", "--train-size", "128",
                          "--test-size", "32", "--batch-size", "32", "--verbose", "0", "--out", str(out),
                          "--mixed-precision", "--jit", "--strategy", "mirrored", "--steps-per-execution", "2"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["strategy"] == "MirroredStrategy" and metrics["replicas"] >= 1
    assert metrics["mixed_precision"] is True and metrics["jit_compile"] is True and metrics["deterministic"] is False
    assert metrics["images_per_second"] > 0 and np.isfinite(metrics["test_bce"])
    assert keras.mixed_precision.global_policy().name == "float32"  # the command put the policy back
    loaded = artifacts.load_models(out, compile=False)
    assert loaded.decoder.get_layer("reconstruction").compute_dtype == "float32"
    assert loaded.decoder.get_layer("decoder_conv_0").compute_dtype == "float16"
    training.set_seed(0)  # op determinism back on for the tests that follow


def test_train_command_rejects_bad_speed_options_in_one_line(capsys):
    from keras_ae.cli import train as train_cli

    assert train_cli.cli(["--strategy", "ring"]) == 2  # argparse's own errors are returned as 2 too
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--strategy: invalid choice: 'ring'" in err and len(err.splitlines()) == 1
    assert train_cli.cli(["--steps-per-execution", "0"]) == 2
    err = capsys.readouterr().err
    assert "--steps-per-execution must be an integer in [1, 2147483647], received 0" in err
    assert len(err.splitlines()) == 1
