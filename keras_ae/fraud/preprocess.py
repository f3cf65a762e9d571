"""Preprocessing learned on the normal training rows: log1p Amount, Time as hour of day, standardisation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_ae.errors import UsageError
from keras_ae.fraud.params import TIME_MODES  # noqa: F401
from keras_ae.fraud.spread import SPREAD_LIMIT, dominating  # noqa: F401

SECONDS_PER_DAY = 24 * 3600
# Beyond 2**53 seconds float64 steps by more than a second, and soon by hours: no hour of day can be read from a Time
HOUR_LIMIT = 2.0**53


class Preprocessor:
    """Turns raw feature columns into standardised model inputs (float32).

    Args:
        columns: raw feature columns, in the order the model expects them.
        time_column: seconds since the first transaction; dropped, kept, or turned into the hour of
            day (as sin/cos, so 23:59 sits next to 00:00) according to `time_mode`.
        amount_column: transaction amounts; taken as log1p when `log_amount` (amounts are heavily skewed).
    """

    def __init__(
        self,
        columns: Sequence[str],
        time_column: str | None = "Time",
        amount_column: str | None = "Amount",
        time_mode: str = "drop",
        log_amount: bool = True,
    ):
        if time_mode not in TIME_MODES:
            raise ValueError(f"time_mode must be one of {', '.join(TIME_MODES)}, received {time_mode!r}")
        self.columns = [str(c) for c in columns]
        self.time_column = time_column if time_column in self.columns else None
        self.amount_column = amount_column if amount_column in self.columns else None
        self.time_mode = time_mode
        self.log_amount = bool(log_amount)
        self.stats_: dict[str, np.ndarray] | None = None  # mean, scale, var, n_samples_seen of the features
        if self.columns == [self.time_column] and time_mode == "drop":
            raise UsageError(f"the only feature column is the time column {time_column!r}, which time_mode 'drop' "
                             "leaves out: no feature is left to learn from (time_mode 'hour' or 'keep' uses it)")

    @classmethod
    def of(cls, detector, columns: Sequence[str]) -> Preprocessor:
        """An unfitted preprocessor of `columns` with a detector's time and amount settings."""
        d = detector
        return cls(list(columns), d.time_column, d.amount_column, d.time_mode, d.log_amount)

    @property
    def features(self) -> list[str]:
        """Names of the model's input features (after the Time/Amount transforms)."""
        names = []
        for c in self.columns:
            if c == self.time_column and self.time_mode == "drop":
                continue
            if c == self.time_column and self.time_mode == "hour":
                names += [f"{c}_hour_sin", f"{c}_hour_cos"]
            elif c == self.amount_column and self.log_amount:
                names.append(f"log1p_{c}")
            else:
                names.append(c)
        return names

    def source_of(self) -> list[str]:
        """For every model feature, the raw column it comes from (explanations name raw columns)."""
        sources = []
        for c in self.columns:
            if c == self.time_column and self.time_mode == "drop":
                continue
            sources += [c, c] if c == self.time_column and self.time_mode == "hour" else [c]
        return sources

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        parts = []
        for c in self.columns:
            v = frame[c].to_numpy(dtype=np.float64)
            if c == self.time_column and self.time_mode == "drop":
                continue
            if c == self.time_column and self.time_mode == "hour":
                with np.errstate(invalid="ignore"):  # NaN (no hour: `hour_problem`) beyond HOUR_LIMIT
                    day = np.where(np.abs(v) <= HOUR_LIMIT, np.mod(v, SECONDS_PER_DAY) / SECONDS_PER_DAY, np.nan)
                angle = 2 * np.pi * day
                parts += [np.sin(angle), np.cos(angle)]
            elif c == self.amount_column and self.log_amount:
                parts.append(np.sign(v) * np.log1p(np.abs(v)))
            else:
                parts.append(v)
        return np.column_stack(parts)

    def dominated_feature(self, frame: pd.DataFrame) -> tuple[int, str, float, str] | None:
        """The feature whose standard deviation over the rows of `frame` (the normal training rows) is the largest
        multiple of what it is without its most extreme 1, 2, 4, ... rows (up to 0.1% of the rows, at least 4,
        at most a tenth),
        when that multiple is above `SPREAD_LIMIT`: (position of its most extreme row, raw column, the multiple,
        "feature"); None when no feature is dominated so. A feature constant but for those few rows is not judged:
        the other rows give no spread to compare with, and a sparse column (a rare flag, a rare count) is a real
        one. The raw values of `range_columns` are judged too ("range"): the amount is scaled as a log, but its
        range is taken from its raw values, and one stray amount of 1e30 would let every far amount pass."""
        block = self._raw(frame)
        judged = [(block[:, j], source, "feature") for j, source in enumerate(self.source_of())]
        judged += [(frame[c].to_numpy(dtype=np.float64), c, "range") for c in self.range_columns]
        worst = None
        for x, source, kind in judged:
            found = dominating(x)
            if found is not None and (worst is None or found[1] > worst[2]):
                worst = (found[0], source, found[1], kind)
        return worst

    def require_spread(self, frame: pd.DataFrame, rows: np.ndarray, source: str) -> None:
        """A UsageError naming the row and column when a few extreme rows of `frame` (the normal training rows)
        make up nearly all of a feature's spread (`dominated_feature`): standardised by it, the feature would be
        blind to every other value, so rows far outside the normal ones would pass as normal. `rows`: each row's
        number in `source`."""
        from keras_ae.fraud.places import where
        from keras_ae.fraud.schema import drop_hint

        found = self.dominated_feature(frame)
        if found is not None:
            position, column, multiple, kind = found
            harm = ("scaled by it, the model could not tell their values apart and would pass rows far outside them "
                    "as normal") if kind == "feature" else ("the range of normal amounts taken with it would pass "
                                                            "amounts far outside the others as normal")
            remedy = "transform the column (a log for a heavy tail) or leave it out" if kind == "feature" else \
                "leave the column out"
            value = frame[column].iloc[position]
            repeated = int((frame[column] == value).sum())
            also = f" (in {repeated:,} rows: a code for a missing value?)" if repeated > 1 else ""
            raise UsageError(f"{where(source, int(rows[position]), column)}: {value:g}{also} is so "
                             f"far from the other normal rows that it makes the column's standard deviation "
                             f"{multiple:.3g} times theirs: {harm}; fix or remove the row, or {remedy} "
                             f"({drop_hint(column, source)})")

    def require_hours(self, frame: pd.DataFrame, rows: np.ndarray, source: str) -> None:
        """A UsageError naming the row when the time mode is hour and a Time of `frame` has no hour of day (beyond
        `HOUR_LIMIT`); `rows`: each row's number in `source`. Fitting checks every row (each is scored, the frauds
        and the held-out rows too), before anything is learnt."""
        from keras_ae.fraud.places import where

        if self.time_column is not None and self.time_mode == "hour":
            beyond = np.flatnonzero(~(np.abs(frame[self.time_column].to_numpy(dtype=np.float64)) <= HOUR_LIMIT))
            if len(beyond):
                raise UsageError(f"{where(source, int(rows[beyond[0]]), self.time_column)}: "
                                 f"{self.hour_problem(self.time_column, frame[self.time_column].iloc[beyond[0]])}")

    def hour_problem(self, column: str, value: float) -> str | None:
        """Why `value` of `column` has no hour of day (the time column beyond `HOUR_LIMIT`, time mode hour), else
        None."""
        if column != self.time_column or self.time_mode != "hour" or abs(value) <= HOUR_LIMIT:
            return None
        return (f"value {value:g} is beyond 2**53 seconds, where float64 cannot hold the second of the day, and the "
                "time mode hour reads the hour of day from it")

    def fit(self, frame: pd.DataFrame) -> Preprocessor:
        """Learn the standardisation on (normal) rows of `frame`."""
        from sklearn.preprocessing import StandardScaler  # only fitting needs scikit-learn

        scaler = StandardScaler().fit(self._raw(frame))
        self.stats_ = {"mean": scaler.mean_, "scale": scaler.scale_, "var": scaler.var_,
                       "n_samples_seen": int(scaler.n_samples_seen_)}
        return self.fit_ranges(frame)

    def fit_ranges(self, frame: pd.DataFrame) -> Preprocessor:
        """Learn the range of each of `range_columns` on the (normal) rows of `frame` (`far_outside`)."""
        ranged = self.range_columns
        values = frame[ranged].to_numpy(dtype=np.float64) if ranged else np.zeros((len(frame), 0))
        self.stats_["low"], self.stats_["high"] = values.min(axis=0), values.max(axis=0)
        return self

    @property
    def range_columns(self) -> list[str]:
        """The raw columns whose range on the normal training rows bounds what is scored: the amount when it is
        taken as a log. Every other feature is standardised linearly, so a value far out is as far out to the model;
        the log compresses (an amount of 1e8 is only a few standard deviations above 20,000)."""
        return [self.amount_column] if self.amount_column and self.log_amount else []

    def far_outside(self, frame: pd.DataFrame) -> np.ndarray | None:
        """rows x model features, True where a row's raw value of the feature's column lies outside what the
        normal training rows allow; None for a preprocessor saved before ranges were kept.

        A column (`range_columns`: the log-scaled amount) allows its training range widened by the range's own
        width on both sides, but not across zero when every training value had one sign (a negative amount where
        none was seen is new). A new normal row exceeds the largest of n training amounts with probability at most
        1/(n + 1), whatever their distribution, and twice it far more rarely; an amount of 1e8 where training went
        up to 20,000 would otherwise come out a few standard deviations from normal, under most thresholds."""
        if "low" not in self.stats_:
            return None
        low, high = self.stats_["low"], self.stats_["high"]
        width = high - low
        lowest = np.where(low >= 0, np.maximum(low - width, 0.0), low - width)
        highest = np.where(high <= 0, np.minimum(high + width, 0.0), high + width)
        values = frame[self.range_columns].to_numpy(dtype=np.float64)
        by_column = dict(zip(self.range_columns, ((values < lowest) | (values > highest)).T))
        inside = np.zeros(len(frame), dtype=bool)
        return np.column_stack([by_column.get(c, inside) for c in self.source_of()]) if self.features else \
            np.zeros((len(frame), 0), dtype=bool)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Standardised model inputs, shape (rows, len(features)), float32 (NumPy only: executors that score
        need neither scikit-learn nor TensorFlow)."""
        return ((self._raw(frame) - self.stats_["mean"]) / self.stats_["scale"]).astype(np.float32)

    @property
    def scaler_(self):
        """The standardisation as a fitted scikit-learn StandardScaler."""
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler()
        scaler.mean_, scaler.scale_, scaler.var_ = self.stats_["mean"], self.stats_["scale"], self.stats_["var"]
        scaler.n_samples_seen_, scaler.n_features_in_ = self.stats_["n_samples_seen"], len(self.stats_["mean"])
        return scaler

    def to_dict(self) -> dict:
        return {
            "columns": self.columns,
            "time_column": self.time_column,
            "amount_column": self.amount_column,
            "time_mode": self.time_mode,
            "log_amount": self.log_amount,
            "features": self.features,
            "mean": self.stats_["mean"].tolist(),
            "scale": self.stats_["scale"].tolist(),
            "var": self.stats_["var"].tolist(),
            "n_samples_seen": int(self.stats_["n_samples_seen"]),
            "range_columns": self.range_columns,
            "low": self.stats_["low"].tolist(),
            "high": self.stats_["high"].tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        pre = cls(d["columns"], d["time_column"], d["amount_column"], d["time_mode"], d["log_amount"])
        pre.stats_ = {name: np.asarray(d[name], dtype=np.float64) for name in ("mean", "scale", "var")}
        pre.stats_["n_samples_seen"] = int(d["n_samples_seen"])
        if "low" in d:  # bundles written before ranges were kept score without the range rule
            pre.stats_["low"], pre.stats_["high"] = (np.asarray(d[k], dtype=np.float64) for k in ("low", "high"))
        return pre
