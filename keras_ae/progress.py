"""Progress for long work, without TensorFlow: one self-updating line on a terminal, plain lines at a modest
rate otherwise (a log file of a long run stays readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from keras_ae import quiet


class Progress:
    """Count `done` towards `total` (None: unknown) `unit`s; `update(n, note)` adds n and shows `note` (the
    latest loss, say) after the count. `upper_bound`: `total` is a most (early stopping), the time left too.

    On a terminal the line is redrawn at most 10 times a second; into a file or a pipe a plain line is
    written at most every `every` seconds, and once at the end.
    """

    def __init__(self, total: int | None, unit: str = "row", enabled: bool = True, stream: TextIO | None = None,
                 every: float = 10.0, label: str = "", upper_bound: bool = False):
        self.total, self.unit, self.enabled = total, unit, enabled
        self.label, self.upper_bound, self.note = label, upper_bound, ""
        self.stream = stream or sys.stderr
        self.tty = quiet.stderr_isatty() if self.stream is sys.stderr else \
            bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = 0.1 if self.tty else every
        self.done, self.start, self.last, self.shown = 0, time.perf_counter(), float("-inf"), -1
        self.planned: int | None = None  # the `total` an early end fell short of

    def _line(self) -> str:
        seconds = time.perf_counter() - self.start
        rate = self.done / seconds if seconds > 0 else 0.0
        note = f", {self.note}" if self.note else ""
        if self.total:
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            speed = _rate(rate, self.unit) if rate >= 1 else f"{1 / rate:,.1f} s/{self.unit}" if rate else ""
            head = f"{self.label}{self.done:,}/{self.total:,} {self.unit}s ({100 * self.done / self.total:.0f}%){note}"
            if self.planned is not None:  # "96 epochs (stopped early, at most 100)", not "96/96 epochs (100%)"
                head = f"{self.label}{self.done:,} {self.unit}s (stopped early, at most {self.planned:,}){note}"
            if self.done >= self.total:
                return f"{head}, {speed}, done in {seconds:.0f} s"
            return f"{head}, {speed}, {'at most ' if self.upper_bound else ''}{left:.0f} s left"
        return f"{self.label}{self.done:,} {self.unit}s{note}, {_rate(rate, self.unit)}"

    def update(self, n: int, note: str | None = None) -> None:
        self.done += n
        if note is not None:
            self.note = note
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._write()

    def _write(self, end: str = "") -> None:
        self.shown = self.done
        if self.tty:
            self.stream.write("\r\x1b[K" + self._line() + end)
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def close(self, finished: bool = False) -> None:
        """The final count (on a terminal, end the line); nothing more when it was just written.
        `finished`: the work ended before `total` (early stopping): the last line says so."""
        if finished and self.total and self.done < self.total:
            self.planned, self.total, self.shown = self.total, self.done, -1
        if self.enabled and (self.tty or self.shown != self.done):
            self._write("\n" if self.tty else "")


def _rate(rate: float, unit: str) -> str:
    """`rate` per second: whole numbers from 10 on (1,176 rows/s), else one decimal (1.4 epochs/s)."""
    return f"{rate:,.0f} {unit}s/s" if rate >= 10 else f"{rate:.1f} {unit}s/s"
