"""The saved fraud detector: one directory, written file by file (atomically), `detector.json` last.

member_<k>.keras (the Keras members), weights.npz (their Dense weights, what scoring reads),
reference.npz (the standardised normal rows of the neighbour part), preprocessing.json, validation.npz
(validation scores and labels, so threshold rules can be re-derived)
and detector.json (parameters, columns, architecture, threshold, metrics, versions). Loading reads JSON
and NumPy files only: scoring a loaded detector never imports TensorFlow.
"""

from __future__ import annotations

import os
import pathlib
import platform
from typing import Any

import numpy as np

from keras_ae.errors import UsageError
from keras_ae.io import atomic_path, read_json, write_json

FORMAT = 1
KIND = "keras_ae.fraud.FraudDetector"


def save(detector: Any, directory: str | os.PathLike, metrics: dict | None = None) -> pathlib.Path:
    """Write `detector` (fitted) into `directory`; returns the directory."""
    import keras
    import pandas as pd

    from keras_ae import __version__

    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for k, net in enumerate(detector.models_):
        with atomic_path(directory / f"member_{k}.keras") as tmp:
            net.save(tmp)
    write_json(directory / "preprocessing.json", detector.preprocessor_.to_dict())
    arrays = {f"m{k}_l{i}_{name}": value for k, member in enumerate(detector.weights_)
              for i, (w, b, _) in enumerate(member) for name, value in (("W", w), ("b", b))}
    with atomic_path(directory / "weights.npz") as tmp:
        np.savez(tmp, **arrays)
    with atomic_path(directory / "validation.npz") as tmp:
        np.savez(tmp, scores=detector.validation_scores_, labels=detector.validation_labels_)
    reference = detector.scoring_.reference
    with atomic_path(directory / "reference.npz") as tmp:
        np.savez(tmp, reference=np.zeros((0, 0), np.float32) if reference is None else reference)
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in detector.get_params().items()}
    meta = {
        "format": FORMAT,
        "kind": KIND,
        "columns": detector.columns_,
        "features": detector.preprocessor_.features,
        "label_column": detector.label_column,
        "params": params,
        "architecture": {"hidden": list(detector.hidden_), "latent_dim": detector.latent_dim_,
                         "members": detector.architectures_, "batch_size": detector.batch_size_,
                         "epochs_run": detector.epochs_run_},
        "member_scales": detector.member_scales_,
        "scoring": detector.scoring_.to_dict(),
        "member_activations": [[act for _, _, act in member] for member in detector.weights_],
        "threshold": detector.threshold_info(),
        "training": {"normal_rows": detector.n_train_rows_, "validation_rows": detector.n_validation_rows_,
                     "fraud_rows_held_out": detector.n_fraud_rows_, "trimmed_rows": detector.trimmed_rows_},
        "metrics": metrics or {},
        "versions": {"keras_ae": __version__, "keras": keras.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "python": platform.python_version()},
    }
    write_json(directory / "detector.json", meta)  # last: its presence marks a complete bundle
    return directory


def read(directory: str | os.PathLike) -> dict:
    """Everything a detector needs from a bundle, checked: metadata, preprocessing, weights, validation."""
    directory = pathlib.Path(directory)
    if not (directory / "detector.json").is_file():
        raise UsageError(f"{directory}: not a fraud detector bundle (no detector.json)")
    meta = read_json(directory / "detector.json", what="detector bundle file")
    if not isinstance(meta, dict) or meta.get("kind") != KIND or meta.get("format") != FORMAT:
        raise UsageError(f"{directory}/detector.json: not a FraudDetector bundle of format {FORMAT}")
    preprocessing = read_json(directory / "preprocessing.json", what="detector bundle file")
    try:
        with np.load(directory / "weights.npz") as w:
            weights = [[(w[f"m{k}_l{i}_W"], w[f"m{k}_l{i}_b"], act) for i, act in enumerate(acts)]
                       for k, acts in enumerate(meta["member_activations"])]
        with np.load(directory / "validation.npz") as val:
            scores, labels = val["scores"], val["labels"]
        with np.load(directory / "reference.npz") as ref:
            reference = ref["reference"]
    except (OSError, ValueError, KeyError) as err:
        raise UsageError(f"{directory}: damaged detector bundle ({type(err).__name__}: {err})") from None
    return {"meta": meta, "preprocessing": preprocessing, "weights": weights, "scores": scores, "labels": labels,
            "reference": reference}


def load(cls: type, directory: str | os.PathLike, columns: Any = None, source: str = "the data") -> Any:
    """A fitted `cls` (FraudDetector) from a bundle; with `columns` (of `source`), checked to fit them."""
    parts = read(directory)
    meta = parts["meta"]
    try:
        params = dict(meta["params"])
        params["hidden"] = tuple(params["hidden"]) if params["hidden"] is not None else None
        params["drop"] = tuple(params["drop"])
        det = cls(**params)
        det.columns_ = list(meta["columns"])
        det.n_features_in_ = len(det.columns_)
        if columns is not None:
            check_columns(det, columns, directory, source)
        from keras_ae.fraud.preprocess import Preprocessor

        det.preprocessor_ = Preprocessor.from_dict(parts["preprocessing"])
        det.weights_, det.member_scales_ = parts["weights"], [float(s) for s in meta["member_scales"]]
        det.validation_scores_, det.validation_labels_ = parts["scores"], parts["labels"]
        det.scoring_ = scoring_state(meta["scoring"], det.weights_, det.member_scales_, parts["reference"])
        arch, rows = meta["architecture"], meta["training"]
        det.hidden_, det.latent_dim_ = tuple(arch["hidden"]), arch["latent_dim"]
        det.architectures_, det.batch_size_, det.epochs_run_ = arch["members"], arch["batch_size"], arch["epochs_run"]
        det.n_train_rows_, det.n_validation_rows_ = rows["normal_rows"], rows["validation_rows"]
        det.n_fraud_rows_, det.trimmed_rows_ = rows["fraud_rows_held_out"], rows["trimmed_rows"]
        det.threshold_ = det._threshold(det.threshold_rule, det.threshold_value)
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        if isinstance(err, UsageError):
            raise
        raise UsageError(f"{directory}/detector.json: incomplete detector bundle ({err!r})") from None
    det.metadata_ = meta
    return det


def scoring_state(meta: dict, weights: list, scales: list[float], reference: np.ndarray):
    """The detector's `combined.ScoringState` from its JSON description and arrays."""
    from keras_ae.fraud.combined import ScoringState

    return ScoringState(weights, list(scales), tuple(meta["components"]),
                        reference if "knn" in meta["components"] else None, int(meta["n_neighbors"]),
                        {k: float(v) for k, v in meta["weights_by_component"].items()},
                        {k: (float(v[0]), float(v[1])) for k, v in meta["stats"].items()})


def check_columns(detector: Any, columns: Any, directory: Any, source: str) -> None:
    """The data's `columns` must be those the bundle was made for (one line naming the first missing one)."""
    from keras_ae.fraud import schema

    columns = [str(c) for c in columns]
    present = sum(c in columns for c in detector.columns_)
    if present < len(detector.columns_) / 2:  # mostly other columns: the wrong model for this data
        missing = next(c for c in detector.columns_ if c not in columns)
        raise UsageError(f"model {directory} was made for other columns: {source} lacks column {missing!r} "
                         f"(and {len(detector.columns_) - present - 1} more); the model expects "
                         f"{schema.short_list(detector.columns_)}")
    schema.check_columns(columns, detector.columns_, source, allowed=[detector.label_column, *detector.drop])
