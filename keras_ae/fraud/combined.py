"""The fraud detector's score: reconstruction error and nearest-neighbour distance, on one robust scale.

Two components, each computed on the standardised rows:
- "ae": the autoencoder ensemble's reconstruction error (1.0 = a typical normal row's error); it sees rows
  that break the correlations of normal rows;
- "knn": the mean squared distance to the k nearest normal rows of a stored reference sample; it sees rows that
  are far from every normal row even when they lie along the normal structure (which reconstruction misses).

Each component is put on one scale by robust statistics of held-out normal rows (validation rows, whose
distances are leave-one-out): (value - median) / interquartile range. The score is their weighted mean, so 0
is a typical normal row and 1 is one interquartile range of normal rows above it. Both components are squared
deviations (the mean squared reconstruction error; the mean squared distance to the k nearest normal rows),
so their tails are alike. NumPy only: executors that score need neither scikit-learn nor TensorFlow.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_ae import neighbours
from keras_ae.anomaly.scores import robust_scale
from keras_ae.fraud import inference

SCORES = {"ae+knn": ("ae", "knn"), "ae": ("ae",), "knn": ("knn",)}


@dataclasses.dataclass
class ScoringState:
    """What scoring needs: members' Dense weights and scales, the neighbour reference, component statistics."""

    weights: list
    member_scales: list[float]
    components: tuple[str, ...]
    reference: np.ndarray | None = None
    n_neighbors: int = 1
    weights_by_component: dict[str, float] = dataclasses.field(default_factory=dict)
    stats: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    feature_scales: list[float] | None = None  # each feature's mean reconstruction error on normal training rows

    def to_dict(self) -> dict:
        """Everything but the arrays (weights, reference), as JSON-ready values."""
        out = {"components": list(self.components), "n_neighbors": self.n_neighbors,
               "weights_by_component": dict(self.weights_by_component),
               "stats": {k: list(v) for k, v in self.stats.items()}}
        if self.feature_scales is not None:
            out["feature_scales"] = [float(v) for v in self.feature_scales]
        return out


@dataclasses.dataclass
class Scored:
    score: np.ndarray  # the combined score (or the component's raw value while stats are unknown)
    reconstruction_error: np.ndarray  # the "ae" component (1.0 = typical), always computed
    contributions: np.ndarray  # rows x features, each row's parts of its score (shares explain a flag)
    parts: dict[str, np.ndarray]  # every component's raw value
    reasons: np.ndarray | None = None  # why a row could not be scored ("" when it was), with unscorable="flag"
    far: np.ndarray | None = None  # rows flagged for an amount far outside the normal training amounts


def components(state: ScoringState, x: np.ndarray, self_index: np.ndarray | None = None):
    """Raw component values and per-feature parts: {name: (values, parts rows x features)}."""
    errors = inference.ensemble_errors(state.weights, state.member_scales, x)
    if state.feature_scales is not None:  # each feature's error in units of its typical error on normal rows
        errors /= np.asarray(state.feature_scales, dtype=np.float64)
    out = {"ae": (errors.mean(axis=1), errors)}
    if "knn" in state.components:
        index, dist = neighbours.nearest(state.reference, x, state.n_neighbors, self_index)
        out["knn"] = ((dist ** 2).mean(axis=1), neighbours.feature_parts(state.reference, x, index))
    return out


def combine(state: ScoringState, parts: dict, n_features: int) -> Scored:
    """The weighted mean of the robustly scaled components of `components` output, with contributions."""
    total = 0.0
    contributions = np.zeros((len(parts["ae"][0]), n_features))
    for name in state.components:
        values, per_feature = parts[name]
        median, spread = state.stats.get(name, (0.0, 1.0))
        z = (values - median) / spread
        total = total + state.weights_by_component.get(name, 1.0) * z
        # Each component explains the row in proportion to how far above normal it puts the row.
        share = per_feature / np.maximum(per_feature.sum(axis=1, keepdims=True), 1e-12)
        contributions += share * (np.maximum(z, 0.0) + 1e-6)[:, None]
    weight = sum(state.weights_by_component.get(name, 1.0) for name in state.components)
    return Scored(total / weight, parts["ae"][0], contributions, {name: value for name, (value, _) in parts.items()})


def score(state: ScoringState, x: np.ndarray, self_index: np.ndarray | None = None) -> Scored:
    """Score the standardised rows `x` (see the module docstring)."""
    return combine(state, components(state, x, self_index), x.shape[1])


def feature_scales(weights: list, member_scales: list[float], x_normal: np.ndarray, validation: np.ndarray,
                   seed: int, max_rows: int = 20_000) -> list[float]:
    """Each feature's mean reconstruction error on the normal training rows (at most `max_rows` of them, drawn
    with `seed`), floored at 1e-6 of the mean over features: the per-feature error normalisation.

    Measured on the training rows, not on the held-out validation rows: the validation rows calibrate the
    threshold and the p-values, which stay valid only if nothing of the score was fitted on them (a scale
    fitted on them shrinks exactly their own rare errors, and new normal rows then score higher than they do).
    """
    train = np.setdiff1d(np.arange(len(x_normal)), validation)
    if len(train) == 0:
        train = np.arange(len(x_normal))
    if len(train) > max_rows:
        train = np.sort(np.random.default_rng(seed).choice(train, max_rows, replace=False))
    errors = inference.ensemble_errors(weights, member_scales, x_normal[train]).mean(axis=0)
    return np.maximum(errors, 1e-6 * max(float(errors.mean()), 1e-12)).tolist()


def fit_state(weights: list, member_scales: list[float], score_kind: str, x_normal: np.ndarray,
              validation: np.ndarray, n_neighbors: int, ae_weight: float, max_reference: int,
              seed: int, feature_scaling: bool = True) -> tuple[ScoringState, np.ndarray]:
    """The scoring state of a fitted ensemble, and the validation rows' scores.

    `x_normal` holds every normal row (standardised; training and validation), `validation` the indices of
    the validation rows in it. The neighbour reference is `x_normal` (a random `max_reference` of its rows
    when larger); validation rows in the reference are scored leave-one-out, so their distances are those
    of unseen normal rows and the component statistics and thresholds carry over to new rows.
    """
    if score_kind not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}, received {score_kind!r}")
    # one component alone has weight 1 (its weight against the other means nothing then, 0 included)
    ae_weight = float(ae_weight) if score_kind == "ae+knn" else 1.0
    state = ScoringState(weights, list(member_scales), SCORES[score_kind], n_neighbors=int(n_neighbors),
                         weights_by_component={"ae": ae_weight, "knn": 1.0})
    if feature_scaling:
        state.feature_scales = feature_scales(weights, member_scales, x_normal, validation, seed)
    self_index = None
    if "knn" in state.components:
        chosen = np.arange(len(x_normal))
        if len(x_normal) > max_reference:
            chosen = np.sort(np.random.default_rng(seed).choice(len(x_normal), max_reference, replace=False))
        state.reference = np.asarray(x_normal[chosen], dtype=np.float32)
        position = np.full(len(x_normal), -1)
        position[chosen] = np.arange(len(chosen))
        self_index = position[validation]
    parts = components(state, x_normal[validation], self_index)  # computed once: stats, then scores
    state.stats = {name: robust_scale(parts[name][0]) for name in state.components}
    return state, combine(state, parts, x_normal.shape[1]).score
