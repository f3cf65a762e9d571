"""keras_ae.cli.train: scripts/train.py end to end on the shipped sample, and every bad input."""

import json
import pathlib
import subprocess
import sys

import pandas as pd
import pytest

from keras_ae.cli import train as train_cli
from tests.conftest import REPO
from tests.helpers import fake_pneumonia, write_images

FAST = ["--epochs", "1", "--train-size", "256", "--test-size", "64", "--batch-size", "64", "--verbose", "0"]


def run_cli(argv, capsys):
    code = train_cli.cli(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_conv_denoising_run_leaves_every_artifact(tmp_path, capsys, offline):
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(["--arch", "conv", "--noise", "0.5", "--out", str(out), *FAST], capsys)
    assert code == 0, stderr
    assert "cannot be downloaded" in stderr and "mnist_sample.npz" in stderr
    for name in ("encoder.keras", "decoder.keras", "autoencoder.keras", "history.csv", "metrics.json",
                 "loss.png", "reconstruction.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parameters"] == 4385 and metrics["epochs"] == 1 and metrics["seed"] == 0
    assert metrics["dataset"]["name"] == "mnist-sample" and metrics["dataset"]["fallback_from"] == "mnist"
    assert metrics["noise"] == {"kind": "gaussian", "amount": 0.5}
    assert 0 < metrics["test_mse"] < metrics["test_bce"] < 1
    assert metrics["test_inputs"] == "gaussian noise 0.5 added, clean targets"
    assert "(inputs: gaussian noise 0.5 added, clean targets)" in stdout
    assert metrics["device"] == "CPU" and metrics["seconds"] > 0
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1]
    assert {"loss", "val_loss", "train_loss_after_epoch"} <= set(history.columns)
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_same_command_gives_same_numbers(tmp_path, capsys):
    results = []
    for name in ("a", "b"):
        code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--out", str(tmp_path / name),
                                *FAST], capsys)
        assert code == 0, err
        results.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert results[0]["test_bce"] == results[1]["test_bce"]
    assert results[0]["final_loss"] == results[1]["final_loss"]


def test_value_range_minus_one_to_one_as_the_docs_write_it(tmp_path, capsys):
    out = tmp_path / "tanh"
    code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--value-range", "-1,1", "--out", str(out),
                            *FAST], capsys)
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["options"]["value_range"] == "-1,1"


def test_vae_run_draws_latent_scatter_and_manifold(tmp_path, capsys):
    out = tmp_path / "vae"
    code, _, err = run_cli(["--arch", "vae", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"latent.png", "manifold.png"} <= set(metrics["pictures"])
    assert (out / "manifold.png").stat().st_size > 0
    history = pd.read_csv(out / "history.csv")
    assert {"reconstruction_loss", "kl_loss", "val_kl_loss"} <= set(history.columns)


def test_config_file_supplies_options_and_flags_win(tmp_path, capsys):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"arch": "deep", "latent-dim": 16, "dataset": "mnist-sample", "epochs": 5,
                                  "cache": False}))  # --cache/--no-cache as a JSON boolean
    out = tmp_path / "cfg"
    code, _, err = run_cli(["--config", str(config), "--out", str(out), *FAST], capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "deep" and metrics["epochs"] == 1  # --epochs 1 on the command line wins
    assert metrics["options"]["latent_dim"] == 16
    assert metrics["options"]["cache"] is False
    config.write_text(json.dumps({"jit": "yes"}))
    code, _, err = run_cli(["--config", str(config), "--out", str(tmp_path / "bad"), *FAST], capsys)
    assert code == 2 and "'jit' must be true or false, received \"yes\"" in err


def test_the_options_a_run_records_load_again_as_a_config_and_give_the_same_numbers(tmp_path, capsys):
    """metrics.json's options, builder arguments (--model-options) and the VAE options' neutral values a
    plain autoencoder records included, are a config file that repeats the run."""
    first = tmp_path / "first"
    code, _, err = run_cli(["--arch", "conv", "--dataset", "mnist-sample", "--model-options", '{"filters": [8, 4]}',
                            "--out", str(first), *FAST], capsys)
    assert code == 0, err
    metrics = json.loads((first / "metrics.json").read_text())
    assert metrics["options"]["model_options"] == {"filters": [8, 4]} and metrics["options"]["beta"] == 1.0
    config = tmp_path / "again.json"
    config.write_text(json.dumps(metrics["options"]))
    code, _, err = run_cli(["--config", str(config), "--out", str(tmp_path / "again")], capsys)
    assert code == 0, err
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert (again["parameters"], again["test_bce"]) == (metrics["parameters"], metrics["test_bce"])
    config.write_text(json.dumps({**metrics["options"], "beta": 2.0}))  # another value, ignored here: refused
    code, _, err = run_cli(["--config", str(config), "--out", str(tmp_path / "beta")], capsys)
    assert code == 2 and "beta is for a VAE" in err, err
    for arch, bad, message in (
            ("conv", "[8]", "--model-options must be a JSON object, received '[8]'"),
            ("conv", '{"filterz": 1}', "the 'conv' builder takes no argument 'filterz'"),
            ("vae", '{"latent_dim": 4}', "'latent_dim' is set by the run (by its latent_dim: give the code size"),
            ("conv", '{"output_activation": "linear"}', "'output_activation' is set by the run (by its value_range"),
            ("dense", '{"activation": "relu", "activation": "tanh"}', "gives the key 'activation' twice"),
            # the builder's own checks, once tracebacks
            ("dense", '{"hidden": -1}', '--model-options {"hidden": -1}: the \'dense\' builder refused them: Expected '
                                        'hidden to be a list of positive integers'),
            ("dense", '{"activation": "nope"}', "builder refused them: Could not interpret activation function"),
            ("conv", '{"filters": []}', "the 'conv' builder refused them: ")):
        code, _, err = run_cli(["--arch", arch, "--dataset", "mnist-sample", "--model-options", bad, "--out",
                                str(tmp_path / "bad")], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, err
        assert not (tmp_path / "bad").exists()


def test_the_default_run_directory_may_not_lie_inside_the_dataset_folder(tmp_path, capsys, monkeypatch):
    """Without --out a run writes runs/<time>-<arch> here: inside a folder:. dataset its pictures became a class
    of the next run's images."""
    write_images(tmp_path / "imgs" / "a", 4, size=(8, 8))
    monkeypatch.chdir(tmp_path / "imgs")
    code, _, err = run_cli(["--arch", "dense", "--dataset", "folder:.", "--epochs", "1", "--verbose", "0"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "the default run directory, runs/ here, lies inside the input .; give --out" in err
    assert sorted(p.name for p in (tmp_path / "imgs").iterdir()) == ["a"]


def test_a_default_run_directory_is_never_an_earlier_runs(tmp_path, monkeypatch):
    import datetime

    from keras_ae.runs import common

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 1, 1, 12, 0, 0)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common.datetime, "datetime", Frozen)
    first = common.run_directory(None, "dense")
    first.mkdir(parents=True)
    second = common.run_directory(None, "dense")
    assert (str(first), str(second)) == ("runs/20260101-120000-dense", "runs/20260101-120000-dense-2")
    assert common.run_directory("mine", "dense") == pathlib.Path("mine")


def test_folder_dataset_trains_on_rgb_images(tmp_path, capsys):
    write_images(tmp_path / "imgs", 12, size=(20, 20))
    out = tmp_path / "folder"
    code, _, err = run_cli(["--arch", "conv", "--dataset", f"folder:{tmp_path / 'imgs'}", "--image-size", "32",
                            "--channels", "3", "--out", str(out), "--epochs", "1", "--verbose", "0"], capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_images"] == 11 and metrics["dataset"]["channels"] == 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--arch", "transformer"], "unknown architecture 'transformer'"),
        (["--dataset", "cifar99", "--arch", "dense"], "unknown --dataset 'cifar99'"),
        (["--epochs", "0"], "--epochs must be an integer >= 1, received 0"),
        (["--arch", "dense", "--dataset", "mnist-sample", "--latent-dim", "2147483647"],
         "Expected a model of at most 1,073,741,824 weights (4 GiB as float32), received input_shape=(28, 28, 1), "
         "hidden=[], --latent-dim 2147483647: about 3.37e+12 weights"),
        (["--epochs", "-3"], "--epochs must be an integer >= 1, received -3"),
        (["--noise", "1.5"], "--noise must be a finite number in [0, 1], received 1.5"),
        (["--noise", "-0.2"], "--noise must be a finite number in [0, 1], received -0.2"),
        (["--lr", "0"], "--lr must be a finite number > 0 (at most 3.4e+38, float32's largest), received 0"),
        (["--kl-warmup", "-1"], "--kl-warmup must be an integer >= 0, received -1"),
        (["--beta", "-1"], "--beta must be a finite number >= 0 (at most 3.4e+38, float32's largest), received -1"),
        (["--noise-kind", "speckle"], "invalid choice: 'speckle'"),
        (["--epochs", "ten"], "--epochs must be an integer >= 1, received ten"),
        (["--config", "/nonexistent/run.json"], "cannot read config file /nonexistent/run.json"),
        (["--dataset", "mnist-sample", "--image-size", "7"], "--image-size applies to the images of folder:PATH"),
        (["--dataset", "mnist-sample", "--channels", "3"], "--channels applies to the images of folder:PATH"),
        (["--dataset", "mnist-sample", "--data-path", "x.npz"], "--data-path is for datasets read from a file"),
        (["--dataset", "folder:data", "--data-path", "x.npz"], "--data-path is for datasets read from a file"),
        (["--dataset", "pneumonia", "--data-path", "missing.npz", *FAST], "missing.npz does not exist"),
        (["--dataset", "medmnist:breastmnist", "--data-path", ".", *FAST], "MedMNIST file . is a folder"),
        (["--arch", "vae", "--value-range", "-1,1"], "--value-range '-1,1' is for the plain autoencoders"),
        (["--arch", "conv", "--no-pairs"], "--no-pairs (pairs=False) is for a VAE"),
        (["--dataset", "mnist-sample", "--stream"], "--stream reads folder:PATH or tfds:NAME, received dataset"),
        (["--arch", "dense", "--dataset", "mnist-sample", "--lr", "3e38", *FAST],
         "training diverged: the loss is not a finite number at epoch 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path):
    out = tmp_path / "never"
    # argparse's own errors (an invalid choice) are returned as 2 too, not raised as SystemExit
    code, printed, err = run_cli([*argv, "--out", str(out)], capsys)
    assert code == 2 and "Invalid loss" not in printed  # a diverged run is said once, as the error
    assert err.count("\n") == 1 and err.startswith("error:") and message in err, err
    assert not out.exists()


def test_bad_config_files(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{arch: conv")
    code, _, err = run_cli(["--config", str(broken)], capsys)
    assert code == 2 and "broken.json is not valid JSON" in err and err.count("\n") == 1
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"arch": "conv", "dropout": 0.5}))
    code, _, err = run_cli(["--config", str(unknown)], capsys)
    assert code == 2 and "unknown option 'dropout'" in err


def test_empty_image_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["--dataset", f"folder:{tmp_path / 'empty'}", *FAST, "--out", str(tmp_path / "o")],
                           capsys)
    assert code == 2 and "holds no images" in err and err.count("\n") == 1


def test_script_prints_no_traceback(tmp_path):
    """The real script in a fresh process: one line on stderr, exit 2."""
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--arch", "nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown architecture 'nope' (known: dense, deep, conv, denoise, vae, conv-vae, font)"]


def test_out_of_memory_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    from keras_ae import training

    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 4.37 TiB for an array with shape (100000000000, 6)")

    monkeypatch.setattr(training, "fit", too_big)
    out = tmp_path / "run"
    code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: out of memory (Unable to allocate 4.37 TiB") and "smaller sizes" in err
    assert not out.exists()


def test_out_of_memory_names_only_allocation_failures():
    from keras_ae.errors import UsageError, out_of_memory

    class ResourceExhaustedError(Exception):  # TensorFlow's, by name
        message = "OOM when allocating tensor with shape[3,3,100000,100000]\nmore"

    assert isinstance(out_of_memory(MemoryError()), UsageError)
    assert "shape[3,3,100000,100000])" in str(out_of_memory(ResourceExhaustedError()))
    assert out_of_memory(ValueError("x")) is None and out_of_memory(KeyboardInterrupt()) is None


def test_a_full_disk_is_one_line_and_a_run_with_nothing_written_yet_is_removed(tmp_path, capsys, monkeypatch):
    import errno

    from keras_ae import artifacts
    from keras_ae.errors import disk_full

    out = tmp_path / "run"

    def full(bundle, run_dir):  # the models are the first files a run writes, after training
        raise OSError(errno.ENOSPC, "No space left on device", str(pathlib.Path(run_dir) / "encoder.keras"))

    monkeypatch.setattr(artifacts, "save_models", full)
    code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 2 and err.count("\n") == 1 and not out.exists()  # nothing but its markers: removed
    assert err.startswith(f"error: no space left on the device (writing {out / 'encoder.keras'})")

    def full_later(bundle, run_dir):  # something written already: the run stays, marked failed, as any failure
        (pathlib.Path(run_dir) / "encoder.keras").write_bytes(b"part")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts, "save_models", full_later)
    code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 2 and err.strip() == "error: no space left on the device; free some space or write elsewhere (--out)"
    assert json.loads((out / "UNFINISHED.json").read_text())["state"] == "failed"

    class H5Error(RuntimeError):  # a library's error that carries the OS error in its text only, or in its cause
        pass

    assert disk_full(H5Error("Unable to synchronously write data (file write failed: errno = 28, error message = "
                             "'No space left on device')")) is not None
    chained = H5Error("could not save")
    chained.__cause__ = OSError(errno.ENOSPC, "No space left on device", "w.h5")
    assert "(writing w.h5)" in str(disk_full(chained))
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None and disk_full(ValueError()) is None


@pytest.mark.parametrize("stream", [[], ["--stream"]])
def test_a_folder_of_one_image_is_refused_streamed_or_not(tmp_path, capsys, stream):
    write_images(tmp_path / "one", 1, size=(20, 20))
    out = tmp_path / "run"
    code, _, err = run_cli(["--arch", "conv", "--dataset", f"folder:{tmp_path / 'one'}", *stream, "--out", str(out),
                            *FAST], capsys)
    assert code == 2 and "1 training image(s); at least 2 are needed" in err and not out.exists()


def test_a_second_run_into_the_same_directory_leaves_none_of_the_first_runs_pictures(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(["--arch", "vae", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 0, err
    assert (out / "latent.png").is_file()
    (out / "notes.txt").write_text("mine")
    code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 0, err
    assert not (out / "latent.png").exists() and not (out / "manifold.png").exists()
    assert (out / "loss.png").is_file() and (out / "notes.txt").read_text() == "mine"


def test_a_vae_streamed_from_a_folder_trains_on_single_images(tmp_path, capsys):
    write_images(tmp_path / "faces", 8, size=(16, 16))
    out = tmp_path / "run"
    code, printed, err = run_cli(["--arch", "conv-vae", "--dataset", f"folder:{tmp_path / 'faces'}", "--stream",
                                  "--image-size", "16", "--out", str(out), *FAST], capsys)
    assert code == 0, err
    assert "latent dimensions used:" in printed and "prior samples" not in printed  # none for streamed data
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["weak_supervision"] is None and metrics["dataset"]["streamed"] is True


def test_pneumonia_trains_from_a_local_copy_of_its_file(tmp_path, capsys):
    path = fake_pneumonia(tmp_path / "pneumoniamnist.npz")
    out = tmp_path / "run"
    code, _, err = run_cli(["--dataset", "pneumonia", "--data-path", str(path), "--arch", "dense",
                            "--out", str(out), *FAST], capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["options"]["data_path"] == str(path)
    assert metrics["train_images"] == 30


def test_a_rerun_leaves_what_is_not_the_earlier_runs_and_refuses_what_is_in_its_way(tmp_path, capsys):
    """A conv run does not draw samples.png: one of yours there is no picture of the earlier run (it was held and
    deleted because a VAE run would draw it). A link or a folder under a name the run writes is refused before
    training (the link was replaced; the folder failed the run after training)."""
    import os
    import time

    out = tmp_path / "run"
    argv = ["--arch", "dense", "--dataset", "mnist-sample", "--out", str(out), *FAST]
    assert run_cli(argv, capsys)[0] == 0
    (out / "notes.png").write_text("mine")
    assert run_cli(argv, capsys)[0] == 0
    assert (out / "notes.png").read_text() == "mine"
    for name, make in (("samples.png", lambda p: p.write_text("mine")),
                       ("history.csv", lambda p: (p.unlink(), os.symlink(tmp_path / "elsewhere.csv", p))),
                       ("loss.png", lambda p: (p.unlink(), p.mkdir()))):
        make(out / name)
        before = sorted(p.name for p in out.iterdir())
        start = time.perf_counter()
        code, _, err = run_cli(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and f"{out / name} is a" in err and "nothing was changed" in err
        assert sorted(p.name for p in out.iterdir()) == before and time.perf_counter() - start < 10
        path = out / name
        path.unlink() if path.is_symlink() or path.is_file() else path.rmdir()
        if name != "samples.png":  # the earlier run's own file, taken away above: the next rerun makes it again
            assert run_cli(argv, capsys)[0] == 0


def test_an_out_inside_the_folder_that_holds_an_earlier_run_is_refused(tmp_path, capsys):
    """A run written into run/.keras-ae-previous made the next rerun of run/ refuse to start."""
    out = tmp_path / "run" / ".keras-ae-previous"
    code, _, err = run_cli(["--arch", "dense", "--dataset", "mnist-sample", "--out", str(out), *FAST], capsys)
    assert code == 2 and ".keras-ae-previous is the folder keras-ae holds an earlier run in" in err
    assert not (tmp_path / "run").exists()


def test_model_options_add_to_a_datasets_preset_rather_than_replace_it():
    from keras_ae.data.smileys import TRAIN_DEFAULTS
    from keras_ae.runs.train import TrainConfig

    config = TrainConfig(dataset="smileys", model_options={"kernel_size": 3})
    config.check()
    assert config.resolved().model_options == {**TRAIN_DEFAULTS["model_options"], "kernel_size": 3}
    assert TrainConfig(dataset="smileys").resolved().model_options == TRAIN_DEFAULTS["model_options"]


def test_a_bad_value_a_config_file_gave_is_said_to_come_from_it(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"dataset": "mnist-sample", "image_size": 8}))
    code, _, err = run_cli(["--config", str(config), "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and err.strip().endswith(f"(set in config file {config})"), err
    code, _, err = run_cli(["--config", str(config), "--image-size", "9", "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and "--image-size applies" in err and "config file" not in err, err  # typed: the flag's
