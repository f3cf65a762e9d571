"""keras_ae.quiet: no TensorFlow start-up noise on a machine without a GPU; GPU problems and real errors
still show."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_ae import quiet  # noqa: E402

NO_GPU = pytest.mark.skipif(quiet.gpu_hardware(), reason="this machine has GPU hardware: its messages must show")
TF_NOISE = ("cuInit", "absl::InitializeLog", "cudart_stub", "cpu_feature_guard", "NodeDef", "oneDNN")


def run(args, cwd, level="unset"):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level != "unset":
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    env.pop("CUDA_VISIBLE_DEVICES", None)  # as on a user's machine
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@NO_GPU
@pytest.mark.parametrize("level", ["unset", "2"])
def test_a_training_command_writes_only_its_own_lines(level, tmp_path):
    # conv: on CPUs without AVX-512 its int32 ops print a oneDNN fallback notice (E-level) that must not show
    result = run(["-m", "keras_ae.cli.train", "--arch", "conv", "--dataset", "mnist-sample", "--epochs", "1",
                  "--train-size", "256", "--test-size", "64", "--out", str(tmp_path / "r")], tmp_path, level)
    assert result.returncode == 0, result.stderr[-1000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == []  # the shipped sample: no download, no offline note, nothing from TensorFlow
    assert (tmp_path / "r" / "metrics.json").exists()


@NO_GPU
def test_importing_and_using_the_package_in_python_is_silent(tmp_path):
    code = ("import keras_ae\nfrom keras_ae import build_dense\nb = build_dense()\n"
            "import numpy as np\nprint(b.autoencoder.predict(np.zeros((600, 784)), verbose=0).shape)\n")
    result = run(["-c", code], tmp_path)
    assert result.returncode == 0 and "(600, 784)" in result.stdout, result.stderr[-1000:]
    assert not any(word in result.stderr for word in TF_NOISE), result.stderr
    assert result.stderr.strip() == ""


def test_python_errors_of_the_import_still_show(tmp_path):
    (tmp_path / "tensorflow.py").write_text("raise ImportError('a broken TensorFlow install')\n")
    result = run(["-c", "import keras_ae.quiet as q; q.import_tensorflow()"], tmp_path)
    assert result.returncode == 1 and "a broken TensorFlow install" in result.stderr


def test_the_filter_drops_only_tensorflow_noise(capfd, monkeypatch):
    monkeypatch.setattr(quiet, "gpu_hardware", lambda: False)
    with quiet.filtered_stderr():
        os.write(2, b"W0000 00:00:1 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n")
        os.write(2, b"E0000 00:00:1 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n")
        os.write(2, b"E0000 00:00:1 node_def_util.cc:682] NodeDef mentions attribute use_unbounded_threadpool\n")
        os.write(2, b"WARNING:tensorflow:5 out of the last 8 calls to <function f> triggered tf.function retracing. "
                    b"Tracing is expensive\n")
        os.write(2, b"E0000 00:00:1 util.cc:131] oneDNN supports DT_INT32 only on platforms with AVX-512. Falling "
                    b"back to the default Eigen-based implementation if present.\n")
        os.write(2, b"E0000 00:00:1 some_kernel.cc:1] a real TensorFlow error\n")
        os.write(2, b"50/100 rows")  # a progress line without its newline yet: passes at once
        os.write(2, b"\rdone\n")
    err = capfd.readouterr().err
    assert err == "E0000 00:00:1 some_kernel.cc:1] a real TensorFlow error\n50/100 rows\rdone\n", err


def test_with_gpu_hardware_cuda_problems_still_show(capfd, monkeypatch):
    monkeypatch.setattr(quiet, "gpu_hardware", lambda: True)
    with quiet.filtered_stderr():
        os.write(2, b"E0000 00:00:1 cuda_platform.cc:52] failed call to cuInit: CUDA_ERROR_NO_DEVICE\n")
    assert "failed call to cuInit" in capfd.readouterr().err

    silenced = []
    monkeypatch.setattr(quiet, "silenced_fd2", lambda: silenced.append(1))

    class FakeTF:
        class config:
            @staticmethod
            def list_physical_devices():
                return ["GPU:0"]

    assert quiet.probe_devices(FakeTF) == ["GPU:0"] and silenced == []  # the device probe runs in the open


def test_the_log_level_is_left_as_the_user_set_it(tmp_path):
    result = run(["-c", "import keras_ae.quiet as q, os; q.import_tensorflow(); print(os.environ.get("
                  "'TF_CPP_MIN_LOG_LEVEL'))"], tmp_path, level="1")
    assert result.stdout.strip() == "1"


def test_progress_knows_the_terminal_behind_the_filter(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with quiet.filtered_stderr():
        assert quiet.stderr_isatty() and not os.isatty(2)
    assert quiet._stderr_tty is None


def test_a_closed_stderr_reader_never_blocks_the_command(tmp_path):
    code = ("import os\nfrom keras_ae import quiet\nwith quiet.filtered_stderr():\n"
            "    for _ in range(4000):\n        os.write(2, b'x' * 100 + b'\\n')\nprint('done')\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    proc.stderr.close()  # like `2>&1 | head -1` once head has its line
    out, _ = proc.communicate(timeout=60)  # 400 kB through a closed pipe: a blocked writer would hang here
    assert b"done" in out


def test_the_retracing_note_is_dropped_for_keras_predict_only():
    import logging

    from keras_ae import quiet

    quiet.quiet_predict_retracing()
    quiet.quiet_predict_retracing()  # once, however often asked
    logger = logging.getLogger("tensorflow")
    assert sum(isinstance(f, quiet._PredictRetracing) for f in logger.filters) == 1
    note = "5 out of the last 10 calls to <function {}> triggered tf.function retracing. Tracing is expensive"

    def record(name):
        return logging.LogRecord("tensorflow", logging.WARNING, __file__, 1, note.format(name), None, None)

    keras_step = "TensorFlowTrainer.make_predict_function.<locals>.one_step_on_data_distributed at 0x7f"
    assert not logger.filter(record(keras_step))
    assert logger.filter(record("my_function at 0x7f"))  # the user's own functions still warn
