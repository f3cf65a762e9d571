"""Helpers shared by several test files: a command run in the background and read as it prints, small data
builders (fake PneumoniaMNIST, image folders, a halving model, random builder inputs), one-line error checks."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import numpy as np
import pytest


class Command:
    """`cmd` started in the background; its stdout and stderr are read line by line as they are printed.

    `wait_for(marker)` blocks until a line matches (the work has begun), `interrupt(signum)` then stops it:
    no fixed sleeps, so the signal lands inside the work on a fast machine and on a loaded one alike.
    Python children run unbuffered, so a line is seen as soon as it is printed.
    """

    def __init__(self, cmd, cwd, env=None):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                                     env=env, errors="replace")
        self._lines = {"out": [], "err": []}
        self._open = 2
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(stream, self._lines[name]), daemon=True)
                         for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines):
        for line in stream:
            with self._changed:
                lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._open -= 1
            self._changed.notify_all()

    @property
    def out(self) -> str:
        with self._changed:
            return "".join(self._lines["out"])

    @property
    def err(self) -> str:
        with self._changed:
            return "".join(self._lines["err"])

    def wait_for(self, marker: str, timeout: float = 180.0) -> str:
        """The first line of stdout or stderr that matches the regular expression `marker`; fails the test
        (and kills the command) when the command ends, or `timeout` seconds pass, before one is printed."""
        pattern = re.compile(marker)
        deadline = time.monotonic() + timeout
        seen = {"out": 0, "err": 0}
        with self._changed:
            while True:
                for name, lines in self._lines.items():
                    for line in lines[seen[name]:]:
                        if pattern.search(line):
                            return line
                    seen[name] = len(lines)
                left = deadline - time.monotonic()
                if self._open == 0 or left <= 0:
                    break
                self._changed.wait(left)
        ended = self.proc.poll() is not None or self._open == 0
        self.kill()
        pytest.fail(f"{'the command ended' if ended else f'no line in {timeout:.0f} s'} before one matching "
                    f"{marker!r}; stderr: {self.err[-800:]}")

    def interrupt(self, signum: str, timeout: float = 120.0) -> tuple[int, str, str]:
        """Send the signal named `signum` ("SIGINT", "SIGTERM"); (exit code, stdout, stderr) once it has ended."""
        assert self.proc.poll() is None, "the command ended before it could be interrupted: " + self.err[-800:]
        self.proc.send_signal(getattr(signal, signum))
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)
        return code, self.out, self.err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Command:
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def listing(path: pathlib.Path) -> list[str]:
    """The names in directory `path`, sorted."""
    return sorted(p.name for p in path.iterdir())


def one_line_error(code: int, capsys, *fragments: str) -> str:
    """A command's refusal: exit code 2 and one line ``error: ...`` on stderr holding every fragment."""
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def halving_model(shape=(6, 6, 1)):
    """A Keras model whose output is half its input: reconstruction errors known in closed form."""
    import keras

    inputs = keras.Input(shape=shape)
    return keras.Model(inputs, keras.layers.Rescaling(0.5)(inputs))


def default_input(name: str, n: int, seed: int = 0) -> np.ndarray:
    """Random inputs of the shape the builder `name`'s defaults expect (784 vectors for the dense ones)."""
    from keras_ae import models

    shape = (35,) if name == "font" else (784,) if name in models.FLAT else (28, 28, 1)
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def fake_pneumonia(path, sizes=(30, 12, 16), seed=0, drop=None, normal_test=True):
    """A file in the official PneumoniaMNIST format (train/val/test images and labels), random pixels."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
        if split == "test" and not normal_test:
            labels[:] = 1
        arrays[f"{split}_labels"] = labels
    arrays.pop(drop, None)
    np.savez_compressed(path, **arrays)
    return path


def write_images(folder, n, size=(40, 30), mode="RGB"):
    """`n` plain PNG images of `size` in `folder` (created), each of another colour."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        value = (i * 40) % 256
        Image.new(mode, size, (value, 0, 255 - value) if mode == "RGB" else value).save(folder / f"{i}.png")
