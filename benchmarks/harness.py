"""What every benchmark in benchmarks/ shares: the run record, the timer, the peak-memory measures, the table
printer and the writer of result files.

    import harness                                   # benchmarks/ is on sys.path when a script there runs

    run = harness.Run(__file__, argv)                # at the start: clock, load average, git commit
    with harness.Timer() as t:
        ...
    harness.write_result(path, {"seconds": round(t.seconds, 1), ...}, run.record())

Every result file is ``{"run": {...}, <the script's own keys>}``, the run record being:

    command              the command line ("python benchmarks/x.py --option value")
    git_commit           `git rev-parse HEAD` of the repository (None without git)
    git_dirty            True when tracked files differ from that commit (None without git)
    started_utc          ISO 8601 UTC time the run started
    wall_seconds         seconds from the start to the record
    load_average_before  1, 5 and 15-minute load average at the start
    load_average_after   the same when the record was taken
    versions             python and each installed library of PACKAGES (read from package metadata: nothing is
                         imported, so a benchmark that never loads TensorFlow does not load it here)
    machine              platform, machine, processor, cpu_count, memory_total_mb (/proc/meminfo), gpus (the
                         names `nvidia-smi` lists; [] without it)

A script that updates its file in place (re-running some parts, appending runs) passes the loaded result back:
its earlier "run" moves into "earlier_runs". Records converted from the older per-script formats carry
``"converted_from_older_format": true`` (unknown values are null) and may carry a "note".

Plain Python: importing this module loads neither numpy nor TensorFlow (numpy values are converted when a file
is written, if there are any), so a parent process that measures its children stays small. Peak memory is in
MiB (2**20 bytes), the unit of every ``peak_rss_mb`` / ``peak_rss_mib`` key.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OUT = ROOT / "benchmarks" / "out"  # run directories and pictures of benchmark runs (not committed)
SHARED = ROOT.parent / "shared"  # the data beside the repository folder (written "shared/..." in results)
if str(ROOT) not in sys.path:  # keras_ae importable from a checkout that is not installed
    sys.path.insert(0, str(ROOT))

PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "keras", "tensorflow", "pyarrow", "pyspark", "matplotlib",
            "pillow", "psutil", "keras-ae")
RECORD_KEYS = ("command", "git_commit", "git_dirty", "started_utc", "wall_seconds", "load_average_before",
               "load_average_after", "versions", "machine")
MACHINE_KEYS = ("platform", "machine", "processor", "cpu_count", "memory_total_mb", "gpus")


# ---------------------------------------------------------------- the run record
def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load average, rounded to 0.01 (None where the system has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _git(*args: str) -> str | None:
    try:  # --no-optional-locks: reading never takes the index lock from someone committing at the same time
        done = subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_commit() -> str | None:
    """`git rev-parse HEAD` of the repository, None where git or the repository is missing."""
    out = _git("rev-parse", "HEAD")
    return (out.strip() or None) if out is not None else None


def git_dirty() -> bool | None:
    """True when tracked files differ from the commit (untracked files do not count), None without git."""
    out = _git("status", "--porcelain", "--untracked-files=no")
    return None if out is None else bool(out.strip())


def versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Python's version and that of every installed package of `packages` (from its metadata, not imported)."""
    import importlib.metadata  # here, not at the top: a parent that measures its children stays small

    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def memory_total_mb() -> int | None:
    """MemTotal of /proc/meminfo in MiB (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024)  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def gpu_names() -> list[str]:
    """The GPUs `nvidia-smi` lists ([] when it is not installed or fails)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor() or None,
            "cpu_count": os.cpu_count(), "memory_total_mb": memory_total_mb(), "gpus": gpu_names()}


def display_path(path: str | os.PathLike) -> str:
    """`path` as results write it: relative to the repository when inside it, "shared/..." for the data beside
    the repository folder, else unchanged (no machine's own folder names in a committed file)."""
    p = pathlib.Path(os.path.abspath(path))
    for base, prefix in ((ROOT, ""), (SHARED, "shared/")):
        try:
            return prefix + p.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(path)


def command_line(script: str | os.PathLike, args: Sequence[str] = ()) -> str:
    """"python benchmarks/x.py ARGS" (the script's path as results write it, the arguments shell-quoted)."""
    return "python " + shlex.join([display_path(script), *map(str, args)])


class Run:
    """One run of a benchmark: created at its start, `record()` when it writes its result.

    `script` is the benchmark's file (default sys.argv[0]), `argv` its arguments (default sys.argv[1:]). The start
    takes the clock, the load average and the git commit; `record()` reads the rest then (package metadata is
    read only at the end, so the process stays as small as it was while it measured). Used as a context manager,
    the record's wall seconds and closing load average are those of the end of the block.
    """

    def __init__(self, script: str | os.PathLike | None = None, argv: Sequence[str] | None = None):
        self.script = sys.argv[0] if script is None else script
        self.args = list(sys.argv[1:] if argv is None else argv)
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self._start = time.perf_counter()
        self.load_before = load_average()
        self.commit, self.dirty = git_commit(), git_dirty()
        self._end: tuple[float, list[float] | None] | None = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self._end = (time.perf_counter(), load_average())

    @property
    def seconds(self) -> float:
        """Seconds since the start (to the end of the `with` block once it has ended)."""
        return (self._end[0] if self._end else time.perf_counter()) - self._start

    def record(self) -> dict[str, Any]:
        end, load_after = self._end or (time.perf_counter(), load_average())
        return {"command": command_line(self.script, self.args), "git_commit": self.commit, "git_dirty": self.dirty,
                "started_utc": self.started.isoformat(timespec="seconds"),
                "wall_seconds": round(end - self._start, 2), "load_average_before": self.load_before,
                "load_average_after": load_after, "versions": versions(), "machine": machine()}


def record(command_argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The run record of a command (sys.argv-style: the script, then its arguments; default sys.argv) at once."""
    argv = list(sys.argv if command_argv is None else command_argv)
    return Run(argv[0] if argv else "", argv[1:]).record()


def converted_record(note: str | None = None, **known: Any) -> dict[str, Any]:
    """A run record for a result written in an older format: the values it kept (`known`, machine keys inside
    `machine=`), null for the others, and ``converted_from_older_format: true``."""
    machine_known = known.pop("machine", {}) or {}
    unknown = set(known) - set(RECORD_KEYS) | set(machine_known) - set(MACHINE_KEYS)
    if unknown:
        raise ValueError(f"not run-record keys: {sorted(unknown)}")
    out = {k: known.get(k) for k in RECORD_KEYS}
    out["versions"] = known.get("versions") or None
    out["machine"] = {k: machine_known.get(k) for k in MACHINE_KEYS}
    out["converted_from_older_format"] = True
    if note:
        out["note"] = note
    return out


# ---------------------------------------------------------------- time and memory
class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (time.perf_counter; while the block runs, the time so far)."""

    def __enter__(self) -> Timer:
        self._start, self._end = time.perf_counter(), None
        return self

    def __exit__(self, *exc) -> None:
        self._end = time.perf_counter()

    @property
    def seconds(self) -> float:
        return (self._end if self._end is not None else time.perf_counter()) - self._start


def timed(fn: Callable[..., Any], *args: Any, repeats: int = 1, **kwargs: Any) -> tuple[Any, float]:
    """Call ``fn(*args, **kwargs)`` `repeats` times: (the last call's result, the median of the seconds taken)."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    seconds, result = [], None
    for _ in range(repeats):
        with Timer() as t:
            result = fn(*args, **kwargs)
        seconds.append(t.seconds)
    seconds.sort()
    middle = len(seconds) // 2
    return result, seconds[middle] if len(seconds) % 2 else (seconds[middle - 1] + seconds[middle]) / 2


def _maxrss_mb(maxrss: int) -> float:
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS, KiB on Linux


def peak_rss_mb(who: str = "self") -> float:
    """Peak resident memory in MiB (getrusage) of this process ("self") or of its largest waited-for child
    ("children"). On Linux a child that is started holds at least the parent's peak at that moment: measure a
    child from a small parent (see run_with_peak)."""
    scope = {"self": resource.RUSAGE_SELF, "children": resource.RUSAGE_CHILDREN}[who]
    return _maxrss_mb(resource.getrusage(scope).ru_maxrss)


# A small go-between: runs the command, writes its peak (ru_maxrss of its only child) to the file argv[1].
_MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[2:]).returncode; "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
            "sys.exit(code if code >= 0 else 128 - code)")


def run_with_peak(cmd: Sequence[str], **kwargs: Any) -> tuple[subprocess.CompletedProcess, float]:
    """Run `cmd` as a fresh process (subprocess.run keyword arguments, e.g. capture_output, env, cwd) started by a
    small go-between, so its peak is its own and not the caller's: (the completed process, its peak RSS in MiB).
    The returncode is the command's (128 + N when a signal N ended it)."""
    fd, peak_file = tempfile.mkstemp(prefix="peak-", suffix=".txt")
    os.close(fd)
    try:
        proc = subprocess.run([sys.executable, "-c", _MEASURE, peak_file, *map(str, cmd)], **kwargs)
        text = pathlib.Path(peak_file).read_text().strip()
        if not text:
            raise RuntimeError(f"the peak of {list(cmd)[:3]} was not measured (returncode {proc.returncode})")
        return proc, _maxrss_mb(int(text))
    finally:
        os.unlink(peak_file)


class StepFailed(RuntimeError):
    """A step run by run_script failed; `returncode` is its exit status."""

    def __init__(self, message: str, returncode: int):
        super().__init__(message)
        self.returncode = returncode


def run_script(script: str | os.PathLike, *args: str, **kwargs: Any) -> str:
    """Run ``python script args...`` in a fresh process (a benchmark's own worker mode, so that what it imports
    and its peak memory are its own) and return the last line it printed; StepFailed with the end of its stderr
    when it fails."""
    proc = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise StepFailed(f"{[str(a) for a in args[:2]]} failed ({proc.returncode}): {proc.stderr[-3000:]}",
                         proc.returncode)
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else ""


# ---------------------------------------------------------------- tables
def markdown_table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A Markdown table ending in a newline: `align` has one letter a column, "l" (left) or "r" (right);
    by default the first column left and the others right."""
    headers = [str(h) for h in headers]
    align = align or "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers) or set(align) - {"l", "r"}:
        raise ValueError(f"align {align!r} must be one 'l' or 'r' for each of the {len(headers)} columns")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]) + "\n"


# ---------------------------------------------------------------- result files
def _to_builtin(value: Any) -> Any:
    if isinstance(value, pathlib.PurePath):
        return display_path(value)
    if type(value).__module__ == "numpy":  # numpy is loaded already if a value is one of its types
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> str:
    """The stable text of a JSON file: indent 2, keys in the order given, a trailing newline."""
    return json.dumps(data, indent=2, default=_to_builtin) + "\n"


def write_json(path: str | os.PathLike, data: Any) -> pathlib.Path:
    """Write `data` as JSON (`dumps`) atomically: a temporary file beside `path`, renamed onto it once complete.
    When anything fails, `path` is left as it was and no temporary file remains."""
    path = pathlib.Path(path)
    text = dumps(data)  # a value that cannot be written fails here, before any file is touched
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _same_run(a: dict, b: dict) -> bool:
    return (a.get("started_utc"), a.get("command")) == (b.get("started_utc"), b.get("command"))


def write_result(path: str | os.PathLike, result: dict, run_record: dict) -> pathlib.Path:
    """Write a benchmark's result file: ``{"run": run_record, **result}`` (atomic, `write_json`).

    When `result` was read from an earlier file (it holds a "run" of another run), that record moves to the end
    of "earlier_runs", so a file updated in place keeps every run that made it.
    """
    earlier = list(result.get("earlier_runs", []))
    previous = result.get("run")
    if previous and not _same_run(previous, run_record):
        earlier.append(previous)
    data = {"run": run_record, **{k: v for k, v in result.items() if k not in ("run", "earlier_runs")}}
    if earlier:
        data["earlier_runs"] = earlier
    return write_json(path, data)


def read_result(path: str | os.PathLike, default: Any = None) -> Any:
    """The JSON of `path`, or `default` when there is no such file."""
    path = pathlib.Path(path)
    return json.loads(path.read_text()) if path.exists() else default
