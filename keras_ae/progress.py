"""Progress for long work, without TensorFlow: one self-updating line on a terminal, plain lines at a modest
rate otherwise (a log file of a long run stays readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Count `done` towards `total` (None: unknown) `unit`s; `update(n)` adds n.

    On a terminal the line is redrawn at most 10 times a second; into a file or a pipe a plain line is
    written at most every `every` seconds, and once at the end.
    """

    def __init__(self, total: int | None, unit: str = "row", enabled: bool = True, stream: TextIO | None = None,
                 every: float = 10.0):
        self.total, self.unit, self.enabled = total, unit, enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = 0.1 if self.tty else every
        self.done, self.start, self.last, self.shown = 0, time.perf_counter(), float("-inf"), -1

    def _line(self) -> str:
        seconds = time.perf_counter() - self.start
        rate = self.done / seconds if seconds > 0 else 0.0
        if self.total:
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            return (f"{self.done:,}/{self.total:,} {self.unit}s ({100 * self.done / self.total:.0f}%), "
                    f"{rate:,.0f} {self.unit}s/s, {left:.0f} s left")
        return f"{self.done:,} {self.unit}s, {rate:,.0f} {self.unit}s/s"

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._write()

    def _write(self, end: str = "") -> None:
        self.shown = self.done
        if self.tty:
            self.stream.write("\r" + self._line() + end)
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """The final count (on a terminal, end the line); nothing more when it was just written."""
        if self.enabled and (self.tty or self.shown != self.done):
            self._write("\n" if self.tty else "")
