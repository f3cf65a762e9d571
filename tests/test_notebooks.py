"""The notebooks in notebooks/: stored clean (nbformat 4 JSON, no outputs, the install cell first, in step with
notebooks/make_notebooks.py), and each runs top to bottom on tiny settings (KERAS_AE_NOTEBOOK_QUICK=1) in a fresh
Python process, its code cells executed in order with IPython magics and shell lines skipped."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("lectures", "fraud", "latent")
MARKER = "NOTEBOOK_SUMMARY "

# Executes the code cells of the notebook argv[1] in one namespace, as a kernel would (magics, shell lines become
# `pass`), closes figures after each cell, and prints the notebook's `summary` as JSON after a marker.
RUNNER = r"""
import json, re, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

path = sys.argv[1]
with open(path, encoding="utf-8") as handle:
    cells = [c for c in json.load(handle)["cells"] if c["cell_type"] == "code"]
namespace = {"__name__": "__main__"}
for number, cell in enumerate(cells, start=1):
    source = "".join(cell["source"])
    if source.lstrip().startswith("%%"):
        continue
    source = re.sub(r"(?m)^([ \t]*)[%!].*$", r"\1pass", source)
    print(f"--- code cell {number}", flush=True)
    exec(compile(source, f"{path} code cell {number}", "exec"), namespace)
    plt.close("all")
print("MARKER" + json.dumps(namespace.get("summary"), default=str), flush=True)
""".replace("MARKER", MARKER)


def load(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"])


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_clean_nbformat4(name):
    nb = load(name)
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 4
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    ids = [c.get("id") for c in nb["cells"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code")
        assert isinstance(cell["metadata"], dict)
        assert isinstance(cell["source"], list) and all(isinstance(line, str) for line in cell["source"])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "stored outputs"
    assert nb["cells"][0]["cell_type"] == "markdown" and source(nb["cells"][0]).startswith("# ")
    # markdown between the steps: no two code cells in a row more than twice
    kinds = "".join("c" if c["cell_type"] == "code" else "m" for c in nb["cells"])
    assert "ccc" not in kinds, kinds


@pytest.mark.parametrize("name", NAMES)
def test_first_code_cell_installs_then_parameters(name):
    install, parameters = (source(c) for c in code_cells(load(name))[:2])
    assert 'find_spec("keras_ae") is None' in install
    assert "%pip install -q -e" in install and '%pip install -q "keras-ae @ git+{REPO_URL}"' in install
    assert re.search(r'^REPO_URL = ""', install, re.M), "the URL is the user's to set, none is invented"
    assert 'QUICK = os.environ.get("KERAS_AE_NOTEBOOK_QUICK") == "1"' in parameters
    # magics only in the install cell (the runner skips them; a kernel runs them)
    for cell in code_cells(load(name))[1:]:
        assert not re.search(r"(?m)^\s*[%!]", source(cell)), source(cell)[:80]


def test_generator_makes_the_stored_notebooks():
    result = subprocess.run([sys.executable, str(NOTEBOOKS / "make_notebooks.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def started(tmp_path_factory) -> dict:
    """The three notebooks started at once, each in its own process and folder: their single-threaded stretches
    (imports, graph tracing) overlap, so the three take about the time of the longest plus a third."""
    env = {**os.environ, "KERAS_AE_NOTEBOOK_QUICK": "1", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONUNBUFFERED": "1"}
    runs = {}
    for name in NAMES:
        folder = tmp_path_factory.mktemp(name)
        with open(folder / "stdout.txt", "w") as stdout, open(folder / "stderr.txt", "w") as stderr:  # no pipe fills
            process = subprocess.Popen([sys.executable, "-c", RUNNER, str(NOTEBOOKS / f"{name}.ipynb")],
                                       cwd=folder, env=env, stdout=stdout, stderr=stderr)
        runs[name] = (process, folder)
    yield runs
    for process, _ in runs.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def run_notebook(name: str, started: dict) -> tuple[dict, pathlib.Path]:
    """The `summary` the notebook computed, and the folder it ran in (it fails with the notebook's output)."""
    process, folder = started[name]
    try:
        process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stdout, stderr = ((folder / f"{kind}.txt").read_text() for kind in ("stdout", "stderr"))
    assert process.returncode == 0, (f"{name}.ipynb failed (exit {process.returncode}; -9: over 300 s):\n"
                                     f"{stdout[-3000:]}\n{stderr[-5000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    assert lines, stdout[-2000:]
    summary = json.loads(lines[-1][len(MARKER):])
    assert isinstance(summary, dict), summary
    return summary, folder


def test_lectures_notebook_runs(started):
    summary, _ = run_notebook("lectures", started)
    assert summary["dataset"] == "mnist-sample" and summary["train_images"] == 1000
    assert summary["parameters"] == {"dense": 50_992, "deep": 222_384, "conv": 4_385, "denoise": 28_353,
                                     "vae": 807_701}
    bce = summary["test_bce_per_pixel"]
    assert set(bce) == set(summary["parameters"])
    assert all(0 < value < 0.75 for value in bce.values()), bce


def test_fraud_notebook_runs(started):
    summary, folder = run_notebook("fraud", started)
    assert summary["rows"] == {"past": 3000, "new": 3000} and summary["frauds_in_new"] >= 10
    assert summary["roc_auc"] > 0.75, summary  # synthetic frauds are far off the normal structure
    assert 0 <= summary["caught"] <= summary["flagged"] < 3000
    assert (folder / "fraud_model").is_dir()


def test_latent_notebook_runs(started):
    summary, folder = run_notebook("latent", started)
    assert summary["codes_shape"] == [500, 2] and summary["codes_finite"]
    assert summary["samples_shape"] == [16, 28, 28, 1]
    low, high = summary["sample_range"]
    assert 0 <= low <= high <= 1
    assert summary["prior_sample_ratio"] > 0
    for figure in summary["figures"]:
        assert (folder / figure).stat().st_size > 1000
