"""Which raw columns drove a row's reconstruction error: shares of the error per column, and the top ones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def column_shares(sources: Sequence[str], contrib: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each raw column's share of every row's error (model features of one column, e.g. Time -> hour sin and
    cos, are added up under that column). Returns (column names, shares of shape rows x columns)."""
    names = list(dict.fromkeys(sources))
    if len(names) != len(sources):
        index = np.array([names.index(s) for s in sources])
        summed = np.zeros((len(contrib), len(names)))
        np.add.at(summed.T, index, contrib.T)
        contrib = summed
    return names, contrib / np.maximum(contrib.sum(axis=1, keepdims=True), 1e-12)


def top_indices(share: np.ndarray, top: int) -> np.ndarray:
    """Column indices of the `top` largest shares per row, largest first (ties: leftmost first)."""
    top = max(1, min(int(top), share.shape[1]))
    return np.argsort(-share, axis=1, kind="stable")[:, :top]


def top_columns(names: Sequence[str], share: np.ndarray, top: int) -> list[list[tuple[str, float]]]:
    """The `top` largest shares per row as (column, share) pairs."""
    return [[(names[j], float(share[i, j])) for j in row] for i, row in enumerate(top_indices(share, top))]


def shown_name(name: str) -> str:
    """A column name as `format_top` writes it: in double quotes (inner ones doubled) when it holds a space, a colon
    or a double quote, so that 'name:share' pairs split back unambiguously ('"card age":0.97 V26:0.01')."""
    if any(c in name for c in ' :"') or not name or name != name.strip():
        return '"' + name.replace('"', '""') + '"'
    return name


def format_top(names: Sequence[str], share: np.ndarray, top: int) -> np.ndarray:
    """'V14:0.42 V12:0.20 V10:0.11' per row: the columns that contribute most to the error, with shares (a name
    holding a space, a colon or a quote is quoted: `shown_name`)."""
    idx = top_indices(share, top)
    rows = np.arange(len(share))[:, None]
    shown = np.asarray([shown_name(str(n)) for n in names], dtype=object)
    parts = shown[idx] + ":" + np.char.mod("%.2f", share[rows, idx]).astype(object)
    out = parts[:, 0]
    for j in range(1, idx.shape[1]):
        out = out + " " + parts[:, j]
    return out
