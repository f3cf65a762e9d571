"""The lock beside every output (`.<name>.lock`): held while a command writes the output, so that a second command
started on the same path is refused instead of writing over the first one's work."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import stat
from collections.abc import Iterator

from keras_ae.errors import UsageError


def lock_path(target: pathlib.Path) -> pathlib.Path:
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def locked(target: pathlib.Path, name: str, out) -> Iterator[None]:
    """Hold `lock_path(target)` while the block runs; a UsageError when another command holds it."""
    lock = lock_path(target)
    for _ in range(5):  # a lock file removed by its holder between our open and our lock: open the new one
        try:
            fd = os.open(lock, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as err:  # a symbolic link planted as the lock file, or an unwritable place
            raise UsageError(f"{name}={str(out)!r}: cannot create the lock file {lock} ({err.strerror or err})") \
                from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip().rsplit(" ", 1)[-1] or "unknown"
            os.close(fd)
            raise UsageError(f"{name}={str(out)!r} is being written by another command (process {holder}); wait for "
                             "it to finish or name another path") from None
        try:
            if os.fstat(fd).st_ino == os.stat(lock, follow_symlinks=False).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    else:
        raise UsageError(f"{name}={str(out)!r}: its lock file {lock} keeps changing; try again")
    try:
        if not _our_lock(fd):
            os.close(fd)
            fd = -1
            raise UsageError(f"{name}={str(out)!r}: {lock} is in the way, a file that is not a keras-ae lock file; "
                             "move it or name another path (it was not touched)")
        # a holder's number is left only when its process was killed: what it left half written goes (only what
        # was made while it held the lock, never anything older)
        since = os.fstat(fd).st_mtime if _holder_text(fd) != "" else None
        os.ftruncate(fd, 0)
        os.write(fd, f"{LOCK_TEXT}{os.getpid()}".encode())
        if since is not None:
            remove_leftovers(target, since)
        yield
    finally:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)


LOCK_TEXT = "keras-ae lock, process "


def _holder_text(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode(errors="replace").strip()
    os.lseek(fd, 0, os.SEEK_SET)
    return text


def remove_leftovers(target: pathlib.Path, since: float) -> list[pathlib.Path]:
    """Remove the temporary files and folders a killed command left beside `target` while writing it (the names
    `io.atomic_path`, `io.atomic_dir` and the table writers give them: ``.<stem>.<8 random>.tmp<suffixes>``,
    ``.<name>.<8 random>.tmp[.old]``), made at `since` (when it took the lock) or later; called under the target's
    lock, which no live writer of it holds. An earlier output a kill caught between the two renames that replace
    it (set aside as ``.tmp.old``, the target gone) is put back first. Returns what went."""
    import re
    import shutil

    random = r"[a-z0-9_]{8}"
    names = [re.escape(f".{target.stem}.") + random + re.escape(f".tmp{target.suffix}"),
             re.escape(f".{target.stem}.") + random + re.escape(f".tmp{''.join(target.suffixes)}"),
             re.escape(f".{target.name}.") + random + r"\.tmp(\.old)?"]
    gone = []
    with contextlib.suppress(OSError):
        found = [path for path in target.parent.iterdir() if path.name.startswith(f".{target.stem}.")
                 and not path.is_symlink()
                 and any(re.fullmatch(pattern, path.name) for pattern in names)
                 and path.lstat().st_ctime >= since]  # made, or renamed, since (both times are rounded alike)
        earlier = [path for path in found if path.name.endswith(".tmp.old")]
        if earlier and not (target.exists() or target.is_symlink()):
            os.rename(earlier[0], target)
        for path in found:
            if not path.exists():
                continue
            with contextlib.suppress(OSError):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                gone.append(path)
    return gone


def _our_lock(fd: int) -> bool:
    """The open lock file is one keras-ae writes: empty (just made, or its writer stopped before writing) or
    `LOCK_TEXT` and a process number; anything else (a number alone too) is a file of the user's."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return False
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode(errors="replace").strip()
    os.lseek(fd, 0, os.SEEK_SET)
    return text == "" or (text.startswith(LOCK_TEXT) and text[len(LOCK_TEXT):].isdigit())
