"""Rows to score, checked end to end: no row is ever silently normal.

A row cannot be scored when a feature cell is missing, NaN, infinite, not a number or beyond float32's range
(the models compute in float32), when standardising it overflows, or when its score comes out as no number.
Such a row is refused (the default: a UsageError naming its row and column) or, when the operator asks for it
(``unscorable="flag"``), scored as anomalous: score +inf, flag 1, and the reason in ``Scored.reasons``.
A row whose amount lies far outside the range of the normal training amounts (`Preprocessor.far_outside`)
scores `FAR_SCORE`, float64's largest finite value: flagged under every finite threshold, explained by the
amount (``Scored.far``), and still a number scikit-learn's metrics take.
The command, the Python API and Spark all score through `score_frame`, so the rule is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud import cells, combined, places
from keras_ae.fraud.params import UNSCORABLE  # noqa: E402,F401  (public here too)

REASON_COLUMN = "unscorable_reason"
FAR_SCORE = float(np.finfo(np.float64).max)


def score_frame(frame: pd.DataFrame, columns: Sequence[str], preprocessor, state: combined.ScoringState,
                source: str = "X", first_row: int = 1, unscorable: str = "refuse",
                ranges: bool = True) -> combined.Scored:
    """Score the `columns` of `frame` (see the module docstring); `first_row` is the table row of its first row;
    `ranges` False leaves out the range rule (the model's own score: thresholds are set on it)."""
    if unscorable not in UNSCORABLE:
        raise UsageError(f"unscorable must be one of {', '.join(UNSCORABLE)}, received {unscorable!r}")
    reasons = np.full(len(frame), "", dtype=object) if unscorable == "flag" else None
    values = cells.numeric_block(frame, columns, source, first_row, reasons)
    x = standardise(values, columns, preprocessor, source, first_row, reasons)
    with np.errstate(over="ignore", invalid="ignore"):
        scored = combined.score(state, x)
    broken = ~np.isfinite(scored.score)
    if broken.any():
        _refuse_or_note(broken, reasons, source, first_row,
                        "its score is not a finite number (the model's computation overflowed)")
    if ranges:
        _flag_far_rows(scored, preprocessor.far_outside(pd.DataFrame(values, columns=list(columns))), reasons)
    if reasons is not None:
        bad = reasons.astype(bool)
        if bad.any():
            scored.score = np.where(bad, np.inf, scored.score)
            scored.reconstruction_error = np.where(bad, np.nan, scored.reconstruction_error)
            scored.contributions[bad] = 0.0
    scored.reasons = reasons
    return scored


def _flag_far_rows(scored: combined.Scored, far: np.ndarray | None, reasons: np.ndarray | None) -> None:
    """Rows with an amount far outside the normal training rows' range (`Preprocessor.far_outside`) score
    `FAR_SCORE`, so they are flagged under every finite threshold, explained by the amount."""
    if far is None:
        return
    out = far.any(axis=1)
    if reasons is not None:
        out &= ~reasons.astype(bool)
    if out.any():
        scored.score = np.where(out, FAR_SCORE, scored.score)
        # the columns out of range explain the row; the others keep their order behind them
        scored.contributions[out] = scored.contributions[out] + 1e6 * far[out] * \
            np.maximum(scored.contributions[out].sum(axis=1, keepdims=True), 1e-6)
    scored.far = out


def standardise(values: np.ndarray, columns: Sequence[str], preprocessor, source: str = "X", first_row: int = 1,
                reasons: np.ndarray | None = None) -> np.ndarray:
    """The model inputs of checked feature `values`; a row whose standardised values overflow float32 (a huge
    value over a tiny spread of normal rows) is refused, or noted in `reasons` (its inputs then set to 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        x = preprocessor.transform(pd.DataFrame(values, columns=list(columns)))
    finite = np.isfinite(x)
    if finite.all():
        return x
    _check(~finite.all(axis=1), x, values, columns, preprocessor, reasons, source, first_row)
    return np.where(finite, x, 0.0).astype(np.float32)


def _check(bad_rows: np.ndarray, x: np.ndarray, values: np.ndarray, columns: Sequence[str], preprocessor,
           reasons: np.ndarray | None, source: str, first_row: int) -> None:
    """Rows whose standardised values overflow float32 (a huge value over a tiny spread of normal rows)."""
    if not bad_rows.any():
        return
    sources = preprocessor.source_of()
    index = {c: j for j, c in enumerate(columns)}
    for i in np.flatnonzero(bad_rows):
        if reasons is not None and reasons[i]:
            continue
        feature = int(np.flatnonzero(~np.isfinite(x[i]))[0])
        column = sources[feature]
        raw = values[i, index[column]] if column in index else float("nan")
        far = f"value {raw:g} is too far from the normal rows to be scored (standardised, it is beyond float32's range)"
        problem = f"column {column!r}: {preprocessor.hour_problem(column, raw) or far}"
        if reasons is None:
            raise UsageError(f"{source}, {places.row_place(source, first_row + i)}, {problem}")
        reasons[i] = problem


def _refuse_or_note(broken: np.ndarray, reasons: np.ndarray | None, source: str, first_row: int,
                    problem: str) -> None:
    if reasons is None:
        i = int(np.flatnonzero(broken)[0])
        raise UsageError(f"{source}, {places.row_place(source, first_row + i)}: {problem}")
    for i in np.flatnonzero(broken):
        reasons[i] = reasons[i] or problem
