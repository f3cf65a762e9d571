"""Synthetic transactions in the Kaggle credit-card schema (Time, V1..V28, Amount, Class).

The real file cannot be downloaded here, so the demo and the tests use this stand-in. It copies the
structure that matters to a detector: V-features driven by a few shared factors (so they are
correlated, with decreasing variance like PCA components), a day/night rhythm in Time, amounts that are
heavily right-skewed and tied to some V-features, and frauds that sit off the normal structure in a
few directions (V14, V12, V10, V17 low; V4, V11 high) with their own amount pattern.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keras_ae.fraud.schema import KAGGLE_COLUMNS

N_V = 28
N_FACTORS = 6
SECONDS_TWO_DAYS = 172_792
# (feature index 0-based, shift in units of that feature's std) for the fraud directions
FRAUD_SHIFTS = {13: -4.0, 11: -3.0, 9: -2.5, 16: -3.0, 3: 2.5, 10: 2.0, 2: -2.0}


def _structure(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Loadings of the V-features on the shared factors and their own noise scale (fixed per seed)."""
    scale = np.linspace(2.0, 0.3, N_V)  # PCA-like: early components vary most
    loadings = rng.normal(size=(N_FACTORS, N_V)) * scale / np.sqrt(N_FACTORS) * 0.8
    noise = scale * 0.45
    return loadings, noise


def synthetic_transactions(n: int, fraud_rate: float = 0.00172, seed: int = 0) -> pd.DataFrame:
    """`n` transactions with about `fraud_rate` of them frauds (Class 1), as a Kaggle-schema DataFrame.

    At least one fraud is drawn whenever `fraud_rate` > 0. Rows are sorted by Time, as in the Kaggle file.
    """
    if n <= 0:
        raise ValueError(f"Expected n > 0, received n={n}")
    if not 0 <= fraud_rate < 1:
        raise ValueError(f"Expected 0 <= fraud_rate < 1, received fraud_rate={fraud_rate}")
    structure_rng = np.random.default_rng(12345)  # the same "bank" for every seed
    loadings, noise = _structure(structure_rng)
    rng = np.random.default_rng(seed)
    n_fraud = 0 if fraud_rate == 0 else max(1, int(round(n * fraud_rate)))
    n_fraud = min(n_fraud, n - 1) if n > 1 else n_fraud

    # Normal rows: heavy-ish tails (Student t factors), like the real V-features.
    factors = rng.standard_t(df=5, size=(n, N_FACTORS)) / np.sqrt(5 / 3)
    v = factors @ loadings + rng.normal(size=(n, N_V)) * noise
    # Day/night rhythm: most transactions by day, few between 1 and 6 a.m.
    hour = np.where(rng.random(n) < 0.9, rng.normal(14, 4, n), rng.uniform(0, 24, n)) % 24
    day = rng.integers(0, 2, n)
    time = np.clip(np.round(day * 86_400 + hour * 3600 + rng.uniform(0, 1, n)), 0, SECONDS_TWO_DAYS)
    log_amount = 3.0 + 0.35 * v[:, 1] - 0.25 * v[:, 6] + rng.normal(0, 1.1, n)
    amount = np.round(np.expm1(np.clip(log_amount, 0, 10)), 2)
    labels = np.zeros(n, dtype=np.int64)

    if n_fraud:
        idx = rng.choice(n, size=n_fraud, replace=False)
        labels[idx] = 1
        std = v.std(axis=0) + 1e-9
        strength = rng.uniform(0.15, 1.0, size=(n_fraud, 1))  # many frauds are subtle
        for j, shift in FRAUD_SHIFTS.items():
            v[idx, j] += strength[:, 0] * shift * std[j] * rng.uniform(0.6, 1.2, n_fraud)
        v[idx] += rng.normal(size=(n_fraud, N_V)) * noise * 0.5  # off the shared-factor structure
        # Frauds: either a card test (about 1.00) or a larger amount; more often at night.
        small = rng.random(n_fraud) < 0.4
        amount[idx] = np.where(
            small,
            np.round(rng.uniform(0, 2, n_fraud), 2),
            np.round(np.expm1(rng.normal(4.5, 1.2, n_fraud).clip(0, 9)), 2),
        )
        night = rng.random(n_fraud) < 0.35
        time[idx] = np.where(night, day[idx] * 86_400 + rng.uniform(1, 6, n_fraud) * 3600, time[idx]).round()

    frame = pd.DataFrame(v, columns=KAGGLE_COLUMNS[1:29])
    frame.insert(0, "Time", time.astype(np.float64))
    frame["Amount"] = amount
    frame["Class"] = labels
    return frame.sort_values("Time", kind="stable").reset_index(drop=True)
