"""benchmarks/harness.py: the run record, the timer, the peak-memory measures, the table printer, the atomic writer;
and every benchmark script writes its JSON through it (a few seconds, nothing is benchmarked)."""

from __future__ import annotations

import ast
import datetime
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import convert_results  # noqa: E402
import harness  # noqa: E402

# Run by another engineer while the harness came in: to convert, then to drop from this set.
# modules the benchmarks use, writing no result of their own (their timing goes through the harness too)
NOT_YET_CONVERTED = {"fraud_peers.py", "pyod_worker.py"}
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if p.name != "harness.py" and p.name not in NOT_YET_CONVERTED)
RESULT_FILES = sorted((BENCH / "results").rglob("*.json"))
X = str(BENCH / "x.py")  # a script's path as __file__ gives it (the record writes it relative to the repository)


def python(code: str, **kwargs) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter that can import harness."""
    return subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(BENCH)!r}); {code}"],
                          capture_output=True, text=True, check=True, **kwargs)


# ---------------------------------------------------------------- the run record
def test_record_has_every_field():
    rec = harness.record([X, "--flag", "a b"])
    assert tuple(rec) == harness.RECORD_KEYS
    assert rec["command"] == "python benchmarks/x.py --flag 'a b'"
    assert rec["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", rec["git_commit"])
    assert rec["git_dirty"] in (None, True, False)
    started = datetime.datetime.fromisoformat(rec["started_utc"])
    assert started.utcoffset() == datetime.timedelta(0)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()) < 60
    assert 0 <= rec["wall_seconds"] < 30
    for key in ("load_average_before", "load_average_after"):
        assert len(rec[key]) == 3 and all(isinstance(v, float) for v in rec[key])
    assert rec["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert rec["versions"]["numpy"] == np.__version__
    assert tuple(rec["machine"]) == harness.MACHINE_KEYS
    assert rec["machine"]["cpu_count"] == os.cpu_count()
    assert isinstance(rec["machine"]["gpus"], list)
    if pathlib.Path("/proc/meminfo").exists():
        assert rec["machine"]["memory_total_mb"] > 100
    assert json.loads(json.dumps(rec)) == rec


def test_run_as_context_manager_freezes_its_end():
    with harness.Run(X, []) as run:
        time.sleep(0.05)
    first = run.record()
    time.sleep(0.05)
    assert run.record()["wall_seconds"] == first["wall_seconds"] >= 0.05
    assert first["command"] == "python benchmarks/x.py"


def test_record_imports_neither_numpy_nor_tensorflow():
    out = python("import harness; harness.record(); print(sorted({'numpy', 'tensorflow', 'keras'} & set(sys.modules)))")
    assert out.stdout.strip() == "[]"


def test_paths_in_results_are_relative():
    assert harness.display_path(ROOT / "benchmarks" / "out" / "x") == "benchmarks/out/x"
    assert harness.display_path(harness.SHARED / "data" / "p.npz") == "shared/data/p.npz"
    assert harness.display_path("/elsewhere/x.npz") == "/elsewhere/x.npz"


# ---------------------------------------------------------------- time and memory
def test_timer_measures_a_sleep():
    with harness.Timer() as t:
        time.sleep(0.2)
    assert 0.2 <= t.seconds < 0.2 + 0.5
    result, median = harness.timed(lambda x: time.sleep(0.05) or x * 2, 21, repeats=3)
    assert result == 42 and 0.05 <= median < 0.05 + 0.5
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        harness.timed(time.sleep, 0, repeats=0)


def test_peak_memory_grows_when_a_function_allocates_100_mb():
    allocate = "x = b'1' * (100 * 2**20)"  # written bytes: resident, unlike zero pages
    # In the process itself (its peak starts at its parent's: only the absolute figure is known to grow):
    assert float(python(f"import harness; {allocate}; print(harness.peak_rss_mb())").stdout) >= 100
    # A command run from the small go-between: its own peak, the difference is the allocation.
    quiet, quiet_peak = harness.run_with_peak([sys.executable, "-c", "pass"])
    busy, busy_peak = harness.run_with_peak([sys.executable, "-c", allocate], capture_output=True, text=True)
    assert quiet.returncode == busy.returncode == 0 and busy_peak - quiet_peak >= 90
    failed, _ = harness.run_with_peak([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert failed.returncode == 3


def test_run_script_returns_the_last_line_or_fails(tmp_path):
    script = tmp_path / "step.py"
    script.write_text("import sys\nprint('first')\nprint(sys.argv[1])\nsys.exit(int(sys.argv[2]))\n")
    assert harness.run_script(script, "last", "0") == "last"
    with pytest.raises(harness.StepFailed, match=r"failed \(4\)") as failed:
        harness.run_script(script, "last", "4")
    assert failed.value.returncode == 4


# ---------------------------------------------------------------- tables
def test_markdown_table():
    table = harness.markdown_table(["a", "b"], [[1, "x"], ["y", 2.5]])
    assert table == "| a | b |\n|---|---:|\n| 1 | x |\n| y | 2.5 |\n"
    assert harness.markdown_table(["a", "b", "c"], [], "lrl") == "| a | b | c |\n|---|---:|---|\n"
    with pytest.raises(ValueError, match="align 'l' must be one 'l' or 'r' for each of the 2 columns"):
        harness.markdown_table(["a", "b"], [], "l")


def test_make_docs_prints_its_tables_with_the_harness():
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "tools" / "make_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.md is harness.markdown_table


# ---------------------------------------------------------------- result files
def test_write_result_round_trips(tmp_path):
    rec = harness.record([X])
    result = {"seconds": np.float64(1.5), "count": np.int64(3), "values": np.arange(3), "where": harness.OUT / "x"}
    path = harness.write_result(tmp_path / "sub" / "r.json", result, rec)
    text = path.read_text()
    assert text.endswith("}\n") and text.startswith('{\n  "run": {\n')
    assert json.loads(text) == {"run": rec, "seconds": 1.5, "count": 3, "values": [0, 1, 2],
                                "where": "benchmarks/out/x"}
    assert harness.read_result(path) == json.loads(text) and harness.read_result(tmp_path / "none", {}) == {}
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's private mode


@pytest.mark.parametrize("failure", ["unserializable", "fsync", "replace"])
def test_write_result_is_atomic(tmp_path, monkeypatch, failure):
    path = tmp_path / "r.json"
    path.write_text('{"old": true}\n')
    result, rec = {"seconds": 1.0}, harness.record([X])
    if failure == "unserializable":
        result["bad"] = object()
    else:
        def boom(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(os, failure, boom)
    with pytest.raises((TypeError, OSError), match="disk full" if failure != "unserializable" else "serializable"):
        harness.write_result(path, result, rec)
    assert path.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


def test_a_file_updated_in_place_keeps_its_earlier_runs(tmp_path):
    path = tmp_path / "r.json"
    first = harness.record([X, "--parts", "a"])
    harness.write_result(path, {"a": 1}, first)
    second = harness.Run(X, ["--parts", "b"])
    result = harness.read_result(path)
    result["b"] = 2
    for _ in range(2):  # a script writing after each part: the earlier run is kept once
        harness.write_result(path, result, second.record())
        result = harness.read_result(path)
    assert list(result) == ["run", "a", "b", "earlier_runs"]
    assert result["run"]["command"] == "python benchmarks/x.py --parts b" and result["earlier_runs"] == [first]


# ---------------------------------------------------------------- the scripts and their files
def json_writes(tree: ast.AST) -> list[str]:
    """Ways a script writes JSON other than through the harness: json.dump, json.dumps outside print(),
    keras_ae.io.write_json."""
    found = []
    printed = {id(a) for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"
               for arg in n.args for a in ast.walk(arg)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "json":
            if node.attr == "dump" or (node.attr == "dumps" and id(node) not in printed):
                found.append(f"json.{node.attr} (line {node.lineno})")
        if isinstance(node, ast.ImportFrom) and node.module == "keras_ae.io":
            found.append(f"from keras_ae.io import ... (line {node.lineno})")
    return found


def test_the_list_of_scripts_is_complete():
    names = {p.name for p in SCRIPTS}
    assert {"anomaly.py", "fraud_speed.py", "memory.py", "throughput.py", "convert_results.py"} <= names
    assert NOT_YET_CONVERTED <= {p.name for p in BENCH.glob("*.py")}
    assert {"fraud.py", "fraud_ae.py"} <= names
    for name in NOT_YET_CONVERTED:  # they time with the harness's one timer
        assert "harness.timed(" in (BENCH / name).read_text()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_writes_through_the_harness(script):
    tree = ast.parse(script.read_text())
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "harness" in imports, f"{script.name} does not import the harness"
    assert json_writes(tree) == []
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not calls & {"sys.path.insert", "os.getloadavg", "resource.getrusage", "platform.platform"}
    assert calls & {"harness.write_result", "harness.write_json"}, f"{script.name} writes no result"


def test_the_check_sees_other_writes():
    code = "import json, pathlib\npathlib.Path('r.json').write_text(json.dumps({}))\nprint(json.dumps({}))\n"
    assert json_writes(ast.parse(code)) == ["json.dumps (line 2)"]


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda p: str(p.relative_to(BENCH / "results")))
def test_result_files_hold_a_run_record_and_no_development_notes(path):
    data = json.loads(path.read_text())
    assert tuple(k for k in data["run"] if k in harness.RECORD_KEYS) == harness.RECORD_KEYS, \
        f"{path.name}: older format (python benchmarks/convert_results.py converts it)"
    for run in [data["run"], *data.get("earlier_runs", [])]:
        assert set(run) <= {*harness.RECORD_KEYS, "converted_from_older_format", "note"}
    text = path.read_text()
    # no development notes, and no path of a machine the results were made on (temporary folders, the checkout's)
    for pattern in (r"issue \d", r"this session", r"was lent", r"engineers", r"/tmp/", r"/work/", r"/home/",
                    r"\.\./\.\./"):
        assert not re.search(pattern, text, re.I), f"{path.name}: {pattern!r}"


def test_converting_an_older_file_keeps_every_value():
    old = {"rows": 10, "results": {"a": {"seconds": 1.5}}, "cpu_count": 2, "machine": "x86_64",
           "command": "nice python benchmarks/fraud_speed.py", "load_average_at_start": [0.5, 0.4, 0.3],
           "load_average_at_end": [1.0, 0.9, 0.8], "source": str(harness.SHARED / "data" / "x.npz")}
    new = convert_results.converted("fraud_speed", old)
    assert list(new) == ["run", "rows", "results", "source"]
    assert new["results"] == old["results"] and new["source"] == "shared/data/x.npz"
    run = new["run"]
    assert run["converted_from_older_format"] is True and run["command"] == old["command"]
    assert (run["load_average_before"], run["load_average_after"]) == ([0.5, 0.4, 0.3], [1.0, 0.9, 0.8])
    assert run["machine"]["cpu_count"] == 2 and run["machine"]["machine"] == "x86_64"
    assert run["git_commit"] is None and run["started_utc"] is None
    assert convert_results.main(["--check", *map(str, RESULT_FILES)]) == 0
