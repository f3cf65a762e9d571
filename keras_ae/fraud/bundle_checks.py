"""What the contents of a saved fraud detector (`bundle`) mean: detector.json's fields, the preprocessing, the
members' weights, the reference and validation rows, each of the type and shape scoring needs.

These checks run on contents whose files `bundle_files` has verified against the manifest, and also catch files
edited with the manifest recomputed to match: an edited bundle is refused, never loaded to score NaN, flag
nothing or flag every row. Every failure is one `UsageError` line naming the bundle file and what is wrong.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import numpy as np

from keras_ae.errors import UsageError
from keras_ae.fraud.bundle_files import (
    DETECTOR,
    FORMAT,
    KIND,
    PREPROCESSING,
    REFERENCE,
    REFIT,
    VALIDATION,
    WEIGHTS,
    fail,
    is_int,
    is_names,
    is_number,
    show,
)
from keras_ae.fraud.combined import SCORES
from keras_ae.fraud.inference import ACTIVATIONS
from keras_ae.fraud.preprocess import TIME_MODES, Preprocessor

_LAYER = re.compile(r"m(\d+)_l(\d+)_([Wb])")


def check_meta(directory: pathlib.Path, meta: Any) -> None:
    """detector.json: every field scoring, thresholds and describing the detector use, of the expected types."""
    def bad(problem: str) -> UsageError:
        return fail(directory, DETECTOR, f"{problem}; {REFIT}")

    if not isinstance(meta, dict):
        raise bad("not a JSON object")
    if meta.get("kind") != KIND or meta.get("format") != FORMAT:
        raise bad(f"not a fraud detector of format {FORMAT} (kind {show(meta.get('kind'))}, "
                  f"format {show(meta.get('format'))})")
    fields = {"columns": list, "features": list, "label_column": str, "params": dict, "scoring": dict,
              "threshold": dict, "architecture": dict, "training": dict}
    for field, kind in fields.items():
        value = meta.get(field)
        if not isinstance(value, kind) or (kind is list and not (value and is_names(value))):
            raise bad(f"{field!r} is missing or not a {'list of names' if kind is list else kind.__name__}")
    scales, acts = meta.get("member_scales"), meta.get("member_activations")
    if not isinstance(scales, list) or not scales:
        raise bad("'member_scales' must be a non-empty list")
    for k, scale in enumerate(scales):
        if not (is_number(scale) and scale > 0):
            raise bad(f"'member_scales' of member {k} is {show(scale)}, not a finite number > 0")
    if not isinstance(acts, list) or len(acts) != len(scales):
        raise bad(f"'member_activations' must list the activations of each of the {len(scales)} member(s)")
    for k, names in enumerate(acts):
        if not is_names(names):
            raise bad(f"'member_activations' of member {k} is not a list of activation names")
        for name in names:
            if name not in ACTIVATIONS:
                raise bad(f"'member_activations' of member {k}: unknown activation {show(name)} "
                          f"(known: {', '.join(ACTIVATIONS)})")
    scoring = meta["scoring"]
    components = scoring.get("components")
    if components not in [list(c) for c in SCORES.values()]:
        raise bad(f"'scoring.components' is {show(components)}, not one of {[list(c) for c in SCORES.values()]}")
    if not is_int(scoring.get("n_neighbors"), 1):
        raise bad(f"'scoring.n_neighbors' is {show(scoring.get('n_neighbors'))}, not an integer >= 1")
    weights, stats = scoring.get("weights_by_component"), scoring.get("stats")
    if not isinstance(weights, dict) or not isinstance(stats, dict):
        raise bad("'scoring.weights_by_component' and 'scoring.stats' must be JSON objects")
    for name in dict.fromkeys([*components, *weights, *stats]):  # every entry is read, used or not
        if not (is_number(weights.get(name)) and weights[name] >= 0):
            raise bad(f"'scoring.weights_by_component' of {name!r} is {show(weights.get(name))}, "
                      "not a finite number >= 0")
        pair = stats.get(name)
        if not (isinstance(pair, list) and len(pair) == 2 and all(is_number(v) for v in pair) and pair[1] > 0):
            if name in components or name in stats:
                raise bad(f"'scoring.stats' of {name!r} is {show(pair)}, not [finite median, finite spread > 0]")
    if not sum(weights[name] for name in components) > 0:
        raise bad("'scoring.weights_by_component' are all 0")
    feature_scales = scoring.get("feature_scales")
    if feature_scales is not None and not (isinstance(feature_scales, list) and
                                           len(feature_scales) == len(meta["features"]) and
                                           all(is_number(v) and v > 0 for v in feature_scales)):
        raise bad(f"'scoring.feature_scales' must list {len(meta['features'])} finite numbers > 0, one a feature")
    if not is_number(meta["threshold"].get("threshold")):
        raise bad(f"'threshold.threshold' is {show(meta['threshold'].get('threshold'))}, not a finite number")
    arch = meta["architecture"]
    members = arch.get("members")
    if not (isinstance(members, list) and len(members) == len(scales) and all(
            isinstance(m, list) and len(m) == 2 and isinstance(m[0], list) and all(is_int(h, 1) for h in m[0])
            and is_int(m[1], 1) for m in members) and is_int(arch.get("latent_dim"), 1)
            and isinstance(arch.get("hidden"), list) and all(is_int(h, 1) for h in arch["hidden"])):
        raise bad(f"'architecture' must give hidden widths and a code size for each of the {len(scales)} member(s)")
    for field in ("batch_size", "epochs_run"):
        if not is_int(arch.get(field)):
            raise bad(f"'architecture.{field}' is {show(arch.get(field))}, not an integer")
    for field in ("normal_rows", "validation_rows", "fraud_rows_held_out", "trimmed_rows"):
        if not is_int(meta["training"].get(field)):
            raise bad(f"'training.{field}' is {show(meta['training'].get(field))}, not an integer >= 0")


def check_preprocessing(directory: pathlib.Path, pre: Any, meta: dict) -> list[str]:
    """preprocessing.json, checked against detector.json; returns the model's feature names."""
    def bad(problem: str) -> UsageError:
        return fail(directory, PREPROCESSING, f"{problem}; {REFIT}")

    if not isinstance(pre, dict):
        raise bad("not a JSON object")
    if pre.get("columns") != meta["columns"]:
        raise bad(f"'columns' differ from those of {DETECTOR}")
    if pre.get("time_mode") not in TIME_MODES or not isinstance(pre.get("log_amount"), bool) or not all(
            pre.get(c) is None or isinstance(pre.get(c), str) for c in ("time_column", "amount_column")):
        raise bad("'time_mode', 'log_amount', 'time_column' or 'amount_column' is missing or of the wrong type")
    features = Preprocessor(pre["columns"], pre["time_column"], pre["amount_column"], pre["time_mode"],
                            pre["log_amount"]).features
    if not features or pre.get("features") != features or meta["features"] != features:
        raise bad(f"'features' do not follow from its columns and settings (or differ from {DETECTOR}'s)")
    for field in ("mean", "scale", "var"):
        values = pre.get(field)
        if not isinstance(values, list) or len(values) != len(features):
            raise bad(f"{field!r} must list {len(features)} numbers, one per feature")
        for feature, value in zip(features, values):
            if not is_number(value) or (field == "scale" and value <= 0) or (field == "var" and value < 0):
                need = {"mean": "a finite number", "scale": "a finite number > 0", "var": "a finite number >= 0"}
                raise bad(f"{field!r} of feature {feature!r} is {show(value)}, not {need[field]}")
    if not is_int(pre.get("n_samples_seen"), 1):
        raise bad(f"'n_samples_seen' is {show(pre.get('n_samples_seen'))}, not an integer >= 1")
    # the range of the normal amounts bounds what is scored: a model without it would pass an amount of 1e8 as
    # normal, so it is required (a model saved before ranges were kept is refitted)
    ranged = [pre["amount_column"]] if pre["amount_column"] and pre["log_amount"] else []
    if pre.get("range_columns") != ranged:
        raise bad("'range_columns' must list the amount column when it is taken as a log, else nothing")
    low, high = pre.get("low"), pre.get("high")
    if not (isinstance(low, list) and isinstance(high, list) and len(low) == len(high) == len(ranged)
            and all(is_number(a) and is_number(b) and a <= b for a, b in zip(low, high))):
        raise bad(f"'low' and 'high' must list {len(ranged)} finite numbers each, low <= high, one a column")
    return features


def member_weights(directory: pathlib.Path, arrays: dict, meta: dict, n_features: int) -> list:
    """The members' (kernel, bias, activation) layers from weights.npz, their shapes chained from the features
    back to the features and matching detector.json's activations and architecture."""
    acts = meta["member_activations"]
    layers: dict[int, set[int]] = {}
    for key in arrays:
        match = _LAYER.fullmatch(key)
        if not match or int(match[1]) >= len(acts):
            raise fail(directory, WEIGHTS, f"unexpected array {key!r} ({DETECTOR} lists {len(acts)} member(s)); "
                                           f"{REFIT}")
        layers.setdefault(int(match[1]), set()).add(int(match[2]))
    weights = []
    for k, names in enumerate(acts):
        count = len(layers.get(k, ()))
        if len(names) != count:
            raise fail(directory, DETECTOR, f"'member_activations' of member {k} lists {len(names)} activation(s), "
                                            f"{WEIGHTS} holds {count} layer(s); {REFIT}")
        member, d_in = [], n_features
        for i, act in enumerate(names):
            kernel, bias = arrays.get(f"m{k}_l{i}_W"), arrays.get(f"m{k}_l{i}_b")
            if kernel is None or bias is None:
                missing = f"m{k}_l{i}_W" if kernel is None else f"m{k}_l{i}_b"
                raise fail(directory, WEIGHTS, f"array {missing!r} is missing; {REFIT}")
            if kernel.ndim != 2 or kernel.shape[0] != d_in or kernel.dtype.kind != "f":
                raise fail(directory, WEIGHTS, f"array 'm{k}_l{i}_W' has shape {list(kernel.shape)} "
                                               f"({kernel.dtype.name}); layer {i} of member {k} needs a float "
                                               f"kernel of {d_in} rows; {REFIT}")
            if bias.shape != (kernel.shape[1],) or bias.dtype.kind != "f":
                raise fail(directory, WEIGHTS, f"array 'm{k}_l{i}_b' has shape {list(bias.shape)} "
                                               f"({bias.dtype.name}); layer {i} of member {k} needs "
                                               f"{kernel.shape[1]} float biases; {REFIT}")
            member.append((kernel, bias, act))
            d_in = kernel.shape[1]
        if d_in != n_features:
            raise fail(directory, WEIGHTS, f"member {k} outputs {d_in} values, the model has {n_features} "
                                           f"features; {REFIT}")
        hidden, latent = meta["architecture"]["members"][k]
        if [w.shape[1] for w, _, _ in member] != [*hidden, latent, *hidden[::-1], n_features]:
            raise fail(directory, DETECTOR, f"'architecture' of member {k} ({hidden}, {latent}) does not match "
                                            f"the layers of {WEIGHTS}; {REFIT}")
        weights.append(member)
    return weights


def reference_rows(directory: pathlib.Path, arrays: dict, meta: dict, n_features: int) -> np.ndarray | None:
    """reference.npz's normal rows when the score has a neighbour part (None otherwise)."""
    scoring = meta["scoring"]
    if "knn" not in scoring["components"]:
        return None
    rows = arrays.get("reference")
    if rows is None or rows.ndim != 2 or rows.dtype.kind != "f" or rows.shape[1] != n_features or len(rows) < 1:
        shape = "no array 'reference'" if rows is None else f"array 'reference' of shape {list(rows.shape)}"
        raise fail(directory, REFERENCE, f"{shape}; the neighbour part needs at least 1 float row of {n_features} "
                                         f"features; {REFIT}")
    if scoring["n_neighbors"] > len(rows):
        raise fail(directory, REFERENCE, f"{len(rows)} row(s), fewer than the {scoring['n_neighbors']} neighbours "
                                         f"of {DETECTOR}; {REFIT}")
    return rows


def validation_rows(directory: pathlib.Path, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """validation.npz's (scores, labels): as many finite scores as 0/1 labels, with at least one normal row."""
    scores, labels = arrays.get("scores"), arrays.get("labels")
    if scores is None or labels is None:
        raise fail(directory, VALIDATION, f"no array {'scores' if scores is None else 'labels'!r}; {REFIT}")
    if scores.ndim != 1 or scores.dtype.kind != "f":
        raise fail(directory, VALIDATION, f"'scores' must be a 1-D float array (shape {list(scores.shape)}, "
                                          f"{scores.dtype.name}); {REFIT}")
    if labels.shape != scores.shape or labels.dtype.kind not in "iub" or not np.isin(labels, (0, 1)).all():
        raise fail(directory, VALIDATION, f"'labels' must be {len(scores)} labels of 0 or 1, one per score; {REFIT}")
    if not (labels == 0).any():
        raise fail(directory, VALIDATION, f"no normal (0) row: the threshold needs held-out normal rows; {REFIT}")
    return scores, labels


def check_rows(directory: pathlib.Path, arrays: dict, n_columns: int, count: Any) -> tuple[np.ndarray, np.ndarray]:
    """validation.npz's (check_rows, check_scores): raw rows of the table's `n_columns` columns and their scores,
    as many as detector.json's `count` says (a bundle of an earlier version has neither)."""
    rows, scores = arrays.get("check_rows"), arrays.get("check_scores")
    if count is not None and not (is_int(count) and (0 if rows is None else len(rows)) == count):
        raise fail(directory, VALIDATION, f"holds {'no' if rows is None else len(rows)} check rows where "
                                          f"{DETECTOR} counts {show(count)}; {REFIT}")
    if rows is None and scores is None:
        return np.zeros((0, n_columns)), np.zeros(0)
    if rows is None or scores is None or rows.ndim != 2 or rows.shape[1] != n_columns or rows.dtype.kind != "f" \
            or scores.shape != (len(rows),) or scores.dtype.kind != "f":
        raise fail(directory, VALIDATION, f"'check_rows' and 'check_scores' must be float rows of {n_columns} "
                                          f"columns and one score each; {REFIT}")
    return rows, scores
