"""How much of a feature's spread a few rows make up: a feature whose spread is nearly all a few extreme rows (a
corrupted 1e30) or a code repeated in up to a quarter of them (-999999 for "missing") would, standardised by that
spread, be blind to every other value; fit refuses it (`Preprocessor.require_spread`)."""

from __future__ import annotations

import numpy as np

# A feature whose standard deviation over the normal training rows is more than this many times what it is without
# its few most extreme rows is refused at fit: standardised by it, every other value of the feature would look
# the same (one corrupted 1e30 makes the feature blind to 1e9). Real tables stay far below it: at most 21 over
# 34 public anomaly-detection tables of ADBench and the credit-card data (1.2).
SPREAD_LIMIT = 100.0


# A value repeated in rows (together at most this share of them) that makes up a feature's spread is a code
# (-999999 or 1e30 for "missing"), not a measurement: judged like the few most extreme rows. Real tables stay below 4
# by that measure (ADBench, credit cards).
CODE_SHARE = 0.25
# In a sparse column, a value this many times as far from the common value as the next one is taken for a stray one
# (real sparse columns: at most 25 over ADBench; fees of 0.02 beside 5, or 40 beside 5,000, are real)
SPARSE_GAP = 1e4
# Both rules judge a feature only where its other rows vary: at least this many of them differ from their most common
# value. A sparse column (a pixel that is inked in 5 of 4,000 images) has no spread of its own to swallow.
VARYING_ROWS = 10


def _varies(rest: np.ndarray) -> bool:
    if rest.std() <= 0:
        return False
    _, counts = np.unique(rest, return_counts=True)
    return len(rest) - counts.max() >= VARYING_ROWS


def dominating(x: np.ndarray) -> tuple[int, float] | None:
    """(position of the most extreme value, the multiple) when the standard deviation of `x` is more than
    `SPREAD_LIMIT` times what it is without its most extreme 1, 2, 4, ... values (up to 0.1% of them, at least 4,
    at most a tenth), or without the rows of its most extreme repeated values (`_coded`): the largest such
    multiple; None otherwise, and for values constant but for those few."""
    values, counts = np.unique(x, return_counts=True)  # the column's distinct values, once for both rules
    found = [f for f in (_extreme_rows(x), _coded(x, values, counts), _sparse(x, values, counts)) if f is not None]
    return max(found, key=lambda f: f[1]) if found else None


def _sparse(x: np.ndarray, values: np.ndarray, counts: np.ndarray) -> tuple[int, float] | None:
    """For a column constant but for a few rows (fewer than `VARYING_ROWS`), which the other rules leave alone:
    (position of its most extreme row, the multiple of the standard deviation without them) when its k most
    extreme rows lie more than `SPARSE_GAP` times as far from the common value as the next one (a stray 1e30 among a
    rare flag's 1s); None otherwise, and for a single row off the common value (nothing to compare it with). So
    few values say little of what is usual: only a gap far wider than real sparse columns show is taken for one."""
    mode = values[np.argmax(counts)]
    off = np.flatnonzero(x != mode)
    if not 2 <= len(off) < VARYING_ROWS:
        return None
    order = off[np.argsort(-np.abs(x[off] - mode), kind="stable")]
    far = np.abs(x[order] - mode)
    gaps = far[:-1] / far[1:]
    k = int(np.argmax(gaps))
    if gaps[k] <= SPARSE_GAP:
        return None
    rest = np.delete(x, order[:k + 1]).std()
    return int(order[0]), float(x.std() / rest) if rest > 0 else float(gaps[k])


def _coded(x: np.ndarray, values: np.ndarray, counts: np.ndarray) -> tuple[int, float] | None:
    """(position of the first row of the code, the multiple) when the rows holding the most extreme values of `x`
    that repeat (each in 2 rows or more, together at most `CODE_SHARE` of the rows) make its standard deviation more
    than `SPREAD_LIMIT` times that of the other rows, which vary; None otherwise."""
    n = len(x)
    order = np.argsort(-np.abs(values - np.median(x)), kind="stable")[:20]
    spread, coded, taken, worst, first = x.std(), np.zeros(n, dtype=bool), 0, None, None
    for i in order:
        if counts[i] < 2:
            continue
        taken += counts[i]
        if taken > CODE_SHARE * n:
            break
        coded |= x == values[i]
        first = int(np.flatnonzero(x == values[i])[0]) if first is None else first  # the most extreme code's row
        rest = x[~coded]
        if spread / max(rest.std(), 1e-300) > SPREAD_LIMIT and _varies(rest):
            if worst is None or spread / rest.std() > worst[1]:
                worst = (first, float(spread / rest.std()))
    return worst


def _extreme_rows(x: np.ndarray) -> tuple[int, float] | None:
    """`dominating`'s rule for the most extreme 1, 2, 4, ... values of `x`."""
    n = len(x)
    most = max(4, int(np.ceil(0.001 * n)))
    distance = np.abs(x - np.median(x))
    top = np.argpartition(-distance, min(most, n - 1))[:most] if n > most else np.arange(n)
    top = top[np.argsort(-distance[top], kind="stable")]
    spread, k, worst = x.std(), 1, None
    while k <= min(most, n // 10):  # a tenth of the rows at most: a small table has few rows to spare
        others = np.delete(x, top[:k])
        rest = others.std()
        if rest > 0 and spread / rest > SPREAD_LIMIT and (worst is None or spread / rest > worst[1]) and \
                _varies(others):
            worst = (int(top[0]), float(spread / rest))
        k *= 2
    return worst
