"""Holding an earlier run aside while a new run replaces it: its files wait in `PREVIOUS` until the new run has
finished (then they go), and are put back as they were when the new run stops early; what a killed run left
undone is finished by the next run (`recover`). Nothing of yours is ever put back over or through
(`_check_way_clear`)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil

from keras_ae.errors import UsageError
from keras_ae.io import write_json
from keras_ae.run_dirs import (
    HELD,
    HOLDING,
    PREVIOUS,
    RESTORING,
    RUN_FILES,
    RUN_MARKER,
    TRASH,
    UNFINISHED,
    _plain_file,
    _refuse_what_is_in_the_way,
    json_or_none,
    mark_run,
    run_outputs,
)


def hold_previous_run(run_dir: pathlib.Path, what: str) -> pathlib.Path:
    """Move what an earlier run of the kind `what` left in `run_dir` (`run_outputs`, and its unfinished-run marker)
    into `run_dir / PREVIOUS`, so that the new run writes beside none of it and a failed one can put it back
    (`put_back`); returns that folder (absent when there was nothing to hold). What a killed run left undone is
    finished first (`recover`). A failure or a stop request while holding puts every file back before it is raised."""
    from keras_ae import interrupt

    recover(run_dir, what)
    part, held = run_dir / HOLDING, run_dir / PREVIOUS
    moved = [*run_outputs(run_dir, what), *[p for p in [run_dir / UNFINISHED] if _plain_file(p)]]
    _refuse_what_is_in_the_way(run_dir, what, moved)
    if not moved:
        return held
    try:
        with interrupt.deferred():  # a stop request waits until every file is held, then undoes it below
            part.mkdir()
            names = [p.relative_to(run_dir).as_posix() for p in moved]
            write_json(part / HELD, {"kind": "keras_ae.held", "files": names})
            for path in moved:
                target = part / path.relative_to(run_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                path.replace(target)
            _remove_emptied(run_dir, moved)  # one-class runs left empty go (they come back on restore)
            part.rename(held)
    except BaseException:
        with interrupt.deferred():
            for folder in (part, held):
                if folder.is_dir():
                    _move_back(folder, run_dir)
        raise
    return held


def recover(run_dir: pathlib.Path, what: str) -> None:
    """Finish what a run into `run_dir` that was killed (no chance to clean up) left undone: an earlier run half
    held aside, or held while the killed run wrote its own files (those go), or half put back; removed leftovers."""
    for folder in (run_dir / HOLDING, run_dir / PREVIOUS):
        if (folder.exists() or folder.is_symlink()) and _held_files(folder) is None:
            raise UsageError(f"{folder} is not the folder keras-ae keeps an earlier run in; move it away (nothing "
                             "was touched)")
    for trash in run_dir.glob(TRASH + "-*"):  # an earlier run renamed for removal, which a kill left behind
        if re.fullmatch(re.escape(TRASH) + r"-\d+", trash.name) and _held_files(trash) is not None:
            shutil.rmtree(trash, ignore_errors=True)
    for name in (*RUN_FILES.get(what, ()), UNFINISHED, RUN_MARKER):  # a file half written when the kill came
        stem, suffix = os.path.splitext(name)
        for part in run_dir.glob(f".{stem}.*.tmp{suffix}"):  # `io.atomic_path`'s name: mkstemp's 8 characters
            if re.fullmatch(re.escape(f".{stem}.") + r"[a-z0-9_]{8}" + re.escape(f".tmp{suffix}"), part.name) and \
                    _plain_file(part):
                part.unlink()
    if (run_dir / HOLDING).is_dir():  # killed while holding: nothing new was written yet
        _move_back(run_dir / HOLDING, run_dir)
    held = run_dir / PREVIOUS
    if held.is_dir():
        # killed while the new run went on: what it wrote goes (nothing, when it was killed before it began, or
        # while its files were already going: RESTORING)
        _restore(run_dir, what, [] if (held / RESTORING).exists() or not (run_dir / UNFINISHED).is_file() else
                 run_outputs(run_dir, what), relist=True)


def put_back(run_dir: pathlib.Path, what: str) -> None:
    """A run of the kind `what` stopped early: remove what it wrote and its marker, and put the earlier run's files
    held aside back as they were (a stop request meanwhile waits until this is done)."""
    from keras_ae import interrupt

    with interrupt.deferred():
        _restore(run_dir, what, run_outputs(run_dir, what))


def _restore(run_dir: pathlib.Path, what: str, going: list[pathlib.Path], relist: bool = False) -> None:
    """Remove `going` (what the stopped run wrote) and its marker, then move the earlier run's files held aside back
    (`_check_way_clear` first, before anything is removed: a file of yours in the way is refused); with `relist`
    (after a kill), list them in the run marker again where the killed run had listed its own."""
    held = run_dir / PREVIOUS
    if held.is_dir():
        _check_way_clear(held, run_dir, going)
    discard_run(run_dir, going)
    (run_dir / UNFINISHED).unlink(missing_ok=True)
    if not held.is_dir():
        return
    files = _held_files(held) or []
    (held / RESTORING).touch()
    _move_back(held, run_dir)
    marker = json_or_none(run_dir / RUN_MARKER)
    if relist and isinstance(marker, dict) and isinstance(marker.get("files"), list):
        mark_run(run_dir, what, files=[pathlib.PurePosixPath(f).parts[0] for f in files])


def discard_run(run_dir: pathlib.Path, going: list[pathlib.Path]) -> None:
    """Remove `going`, what a failed run wrote into `run_dir` (`run_outputs`), and the folders it leaves empty."""
    for path in going:
        path.unlink(missing_ok=True)
    _remove_emptied(run_dir, going)


def _remove_emptied(run_dir: pathlib.Path, removed: list[pathlib.Path]) -> None:
    """The folders below `run_dir` that held `removed` files and now hold nothing."""
    for folder in dict.fromkeys(p.parent for p in removed if p.parent != run_dir):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _held_files(folder: pathlib.Path) -> list[str] | None:
    """The files a holding folder keras-ae made lists (`HELD`); None for anything else (a link, a file, a folder
    without the list, a list naming a path outside it)."""
    if folder.is_symlink() or not folder.is_dir():
        return None
    content = json_or_none(folder / HELD)
    files = content.get("files") if isinstance(content, dict) and content.get("kind") == "keras_ae.held" else None
    if not isinstance(files, list) or not all(isinstance(f, str) and f and not pathlib.PurePosixPath(f).is_absolute()
                                              and ".." not in pathlib.PurePosixPath(f).parts for f in files):
        return None
    return files


def _check_way_clear(folder: pathlib.Path, run_dir: pathlib.Path, going: list[pathlib.Path]) -> None:
    """A UsageError, before anything is moved, when a file `folder` holds cannot go back to its place in `run_dir`
    without replacing something that is not about to go (`going`: what the stopped run wrote), or only through a
    symbolic link or a file where a folder should be (a link planted at normal-5 would lead outside)."""
    going = set(going)
    for name in _held_files(folder) or []:
        if not _plain_file(folder / name):  # not held (any more): nothing goes back there
            continue
        target = run_dir / name
        for step in [*reversed(target.relative_to(run_dir).parents[:-1]), target.relative_to(run_dir)][:-1]:
            place = run_dir / step
            if place.is_symlink() or (place.exists() and not place.is_dir()):
                raise UsageError(f"{place} is {'a symbolic link' if place.is_symlink() else 'a file'} where the "
                                 f"earlier run's folder goes back from {folder.name}; move it away (nothing was "
                                 "changed)")
        if (target.exists() or target.is_symlink()) and target not in going:
            if target.name in (RUN_MARKER, UNFINISHED):  # a stopped run's folder kept for a file of yours in it
                yours = sorted(p.name for p in target.parent.iterdir()
                               if p not in going and p.name not in (RUN_MARKER, UNFINISHED))
                if yours:
                    raise UsageError(f"{target.parent / yours[0]} is not the stopped run's, so its folder cannot make "
                                     f"way for the earlier run's, which waits in {folder.name}; move it away and run "
                                     "again (nothing was changed)")
            raise UsageError(f"{target} is in the way of the earlier run's file that waits in {folder.name}; move it "
                             "away and run again (nothing was changed)")


def _move_back(folder: pathlib.Path, run_dir: pathlib.Path) -> None:
    """The files `folder` lists (`HELD`) back to their places in `run_dir` (`_check_way_clear` first: nothing of
    yours is replaced); then `folder` goes."""
    _check_way_clear(folder, run_dir, [])
    for name in _held_files(folder) or []:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            target = run_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
    shutil.rmtree(folder)


def finish_replacing(run_dir: pathlib.Path) -> None:
    """The new run finished: the earlier run's files held aside go (renamed first, so that a folder that cannot be
    removed whole is never taken for a held run)."""
    held = run_dir / PREVIOUS
    if held.is_dir():
        trash = run_dir / f"{TRASH}-{os.getpid()}"
        held.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
