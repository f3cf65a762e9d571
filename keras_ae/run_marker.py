"""The `UNFINISHED` marker of a run directory: made when a run starts, removed when it has finished, kept (saying why)
when it stopped early, so that every loader refuses a run that is not whole (`check_finished`) and a rerun knows
which files the stopped run wrote. The earlier run a new one replaces is held aside meanwhile (`keras_ae.run_dirs`)."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pathlib
import shutil
from collections.abc import Iterator

from keras_ae.errors import UsageError, disk_full, out_of_memory
from keras_ae.io import _RUNNING, UNFINISHED, _note_written, as_path, read_json, write_json


@contextlib.contextmanager
def unfinished_marker(run_dir: str | os.PathLike, what: str) -> Iterator[pathlib.Path]:
    """Create `run_dir` holding `UNFINISHED` (what runs, since when, process id) and yield it. The marker is
    removed when the block ends normally (the run has then written its final file); when the run is
    interrupted or fails it stays, saying so, and `check_finished` (every loader) refuses the directory.
    A UsageError (a bad input found late) removes a directory this run created: nothing useful is in it; so
    does running out of memory or out of disk space before the directory holds anything but its markers.

    A run into the directory of an earlier run of its kind replaces that run only when it finishes: the earlier
    run's files are held aside meanwhile (`run_hold.hold_previous_run`), and whatever ends the new run early (a
    bad input, an error, an interruption) removes what it wrote and puts them back as they were."""
    from keras_ae import locks, outputs

    run_dir = pathlib.Path(run_dir)
    from keras_ae.run_dirs import HOLDING, PREVIOUS, TRASH

    for part in run_dir.parts:  # inside the folder a run keeps an earlier one in: the next rerun would be refused
        if part in (PREVIOUS, HOLDING) or part.startswith(TRASH):
            raise UsageError(f"out={str(run_dir)!r}: {part} is the folder keras-ae holds an earlier run in while a "
                             "new one replaces it; name another path")
    outputs.check_output(run_dir, "run")  # a directory of the user's, a file, a link, unwritable: refused
    made = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    try:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        # the lock (beside the directory, as for every output) keeps a second command from starting on it
        with locks.locked(run_dir, "out", run_dir):
            yield from _marked_run(run_dir, what)
    except BaseException:  # a name the system refuses (too long), locked by another command, a failed run: the
        for parent in made[1:]:  # folders made above it go again (when empty: after the lock file has gone)
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


def _marked_run(run_dir: pathlib.Path, what: str) -> Iterator[pathlib.Path]:
    """`unfinished_marker`'s work, under the directory's lock (the folders made above `run_dir` are its to remove)."""
    from keras_ae import run_dirs, run_hold

    run_dirs.check_run_kind(run_dir, what)
    refuse_running(run_dir)
    created = not run_dir.exists()
    run_dir.mkdir(exist_ok=True)
    marked_now = not (run_dir / run_dirs.RUN_MARKER).is_file()  # an empty folder
    run_dirs.mark_run(run_dir, what)  # first: a folder whose files are held aside stays recognisably a run's
    _note_written(run_dir)  # a run inside a run's directory (a class of --normal all) is one of its files
    held = None
    if not created:  # a run directory written before: its old files may neither stay beside the new ones nor be lost
        try:
            held = run_hold.hold_previous_run(run_dir, what)
        except BaseException:
            if marked_now:
                (run_dir / run_dirs.RUN_MARKER).unlink(missing_ok=True)
            raise
    marker = run_dir / UNFINISHED
    state = {"run": what, "started": datetime.datetime.now().isoformat(timespec="seconds"), "pid": os.getpid(),
             "state": "running", "written": []}
    write_json(marker, state)
    _RUNNING[run_dir.resolve()] = state
    try:
        yield from _watched_run(run_dir, what, state, held, created, marked_now)
    finally:
        _RUNNING.pop(run_dir.resolve(), None)


def _watched_run(run_dir: pathlib.Path, what: str, state: dict, held: pathlib.Path | None, created: bool,
                 marked_now: bool) -> Iterator[pathlib.Path]:
    """The rest of `_marked_run`: yield the marked directory; on success finish replacing the earlier run, on an
    early end undo or mark it."""
    from keras_ae import run_dirs, run_hold

    marker = run_dir / UNFINISHED

    def remove_created() -> None:
        shutil.rmtree(run_dir, ignore_errors=True)

    def put_back() -> None:
        with contextlib.suppress(OSError):  # the files as written, should a stop have cut the marker's last update
            write_json(marker, state)
        run_hold.put_back(run_dir, what)
        if marked_now:
            (run_dir / run_dirs.RUN_MARKER).unlink(missing_ok=True)

    try:
        yield run_dir
    except UsageError as err:
        if created:
            remove_created()  # the command printed the directory's name when it began: say it is gone
            err.args = (f"{err} (the new run directory {run_dir} was removed)", *err.args[1:])
        else:
            put_back()
        raise
    except BaseException as err:
        from keras_ae import interrupt

        if held is not None and held.is_dir():  # the earlier run, whole, rather than a part of this one
            put_back()
            raise

        stopped = isinstance(err, KeyboardInterrupt) or interrupt.requested
        # out of memory (sizes too large for the machine) or out of disk space before this new directory held
        # anything but its markers: nothing to keep (the command says it in one line); after that, a run into a new
        # directory is marked failed (finished parts, such as the classes of --normal all, stay)
        if created and not stopped and (disk_full(err) or out_of_memory(err)) is not None and \
                {p.name for p in run_dir.iterdir()} <= {UNFINISHED, run_dirs.RUN_MARKER}:
            remove_created()
            raise
        state.update(state="interrupted" if stopped else "failed",
                     ended=datetime.datetime.now().isoformat(timespec="seconds"),
                     error="KeyboardInterrupt" if stopped else type(err).__name__ + (f": {err}" if str(err) else ""))
        if stopped and not isinstance(err, KeyboardInterrupt):
            state["surfaced_as"] = type(err).__name__  # the stop came out of library code as another exception
        with contextlib.suppress(OSError):
            write_json(marker, state)
        raise
    run_dirs.mark_run(run_dir, what, files=state["written"])  # what the run wrote: all a later run may replace
    if held is not None:  # only then: a failure to write the marker leaves the earlier run held, to be put back
        run_hold.finish_replacing(run_dir)
    marker.unlink(missing_ok=True)


def refuse_running(run_dir: pathlib.Path) -> None:
    """A UsageError when another live process is writing `run_dir` (its marker says running, its pid lives)."""
    marker = run_dir / UNFINISHED
    if not marker.is_file():
        return
    try:
        state = json.loads(marker.read_text())
        pid = int(state["pid"]) if state.get("state") == "running" else None
    except (OSError, ValueError, KeyError, TypeError):
        return
    if pid is None or pid == os.getpid() or not 0 < pid < 2**31:  # 0 and -1 would ask about other processes
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:  # the run that wrote it is gone (crashed): the directory is free
        return
    except PermissionError:
        pass
    except (OSError, OverflowError):  # no process id this system knows: not a live run's marker
        return
    raise UsageError(f"out={str(run_dir)!r} is being written by another run (process {pid}); wait for it to finish "
                     "or name another directory")


def check_finished(run_dir: str | os.PathLike) -> pathlib.Path:
    """`run_dir`, or a UsageError when it holds the `UNFINISHED` marker of a run that did not complete."""
    from keras_ae.run_dirs import HOLDING, PREVIOUS

    run_dir = as_path(run_dir, "a run directory")
    marker = run_dir / UNFINISHED
    if (run_dir / PREVIOUS).exists() or (run_dir / HOLDING).exists():
        raise UsageError(f"{run_dir} is an unfinished run: a run into it was stopped while the earlier run waited in "
                         f"{PREVIOUS}; run it again (the earlier run is put back first)")
    if marker.exists():
        try:
            state = read_json(marker, what="run marker")
            detail = f"{state.get('state', 'unfinished')} {state.get('run', 'run')} started {state.get('started')}"
        except UsageError:
            detail = "unfinished run"
        raise UsageError(f"{run_dir} is an unfinished run ({detail}; see {marker.name}): its outputs are "
                         "incomplete; run it again")
    return run_dir
