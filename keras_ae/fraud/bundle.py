"""The saved fraud detector: one directory, written file by file (atomically), `manifest.json` last.

member_<k>.keras (the Keras members), weights.npz (their Dense weights, what scoring reads),
reference.npz (the standardised normal rows of the neighbour part), preprocessing.json, validation.npz
(validation scores and labels, so threshold rules can be re-derived; `CHECK_ROWS` rows, midpoints of held-out
normal rows, with their scores, scored again on loading), detector.json (parameters, columns,
architecture, threshold, metrics, versions) and manifest.json: every file's SHA-256 and size, and every
array's shape and dtype (`write_manifest`). Loading verifies all of it (`bundle_checks`) and refuses a damaged
or edited bundle with one line naming the file. It reads JSON and NumPy files only (never unpickling):
scoring a loaded detector never imports TensorFlow.
"""

from __future__ import annotations

import os
import pathlib
import platform
from typing import Any

import numpy as np

from keras_ae.errors import UsageError
from keras_ae.fraud import bundle_checks as checks
from keras_ae.fraud import bundle_files
from keras_ae.fraud.bundle_files import DETECTOR, FORMAT, KIND, MANIFEST, REFIT, VALIDATION, fail
from keras_ae.io import atomic_path, write_json

CHECK_ROWS = 32  # rows kept with their scores: loading scores them again and compares


def check_rows(normal: np.ndarray) -> np.ndarray:
    """`CHECK_ROWS` rows to check a loaded bundle with: midpoints of pairs of held-out normal rows (`normal`), plausible
    rows that are none of the rows the distance part holds (a row of those would score its own distance, 0)."""
    k = min(CHECK_ROWS, len(normal))
    return (normal[:k] + np.roll(normal, 1, axis=0)[:k]) / 2


def save(detector: Any, directory: str | os.PathLike, metrics: dict | None = None) -> pathlib.Path:
    """Write `detector` (fitted) into `directory`, manifest.json last (`write_manifest`); returns the directory.

    A manifest left by an earlier save is removed first, so a save that does not finish leaves a bundle that
    loading refuses as incomplete.
    """
    import keras
    import pandas as pd

    from keras_ae import __version__

    directory = pathlib.Path(directory)
    if not np.isclose(detector._threshold(detector.threshold_rule, detector.threshold_value, warn=False),
                      detector.threshold_, rtol=1e-9):
        raise UsageError("threshold_rule or threshold_value changed since the threshold was set (set_params): "
                         "call set_threshold(rule, value) before saving", param="threshold_rule")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)
    for k, net in enumerate(detector.models_):
        with atomic_path(directory / f"member_{k}.keras") as tmp:
            net.save(tmp)
    write_json(directory / "preprocessing.json", detector.preprocessor_.to_dict())
    arrays = {f"m{k}_l{i}_{name}": value for k, member in enumerate(detector.weights_)
              for i, (w, b, _) in enumerate(member) for name, value in (("W", w), ("b", b))}
    with atomic_path(directory / "weights.npz") as tmp:
        np.savez(tmp, **arrays)
    rows = getattr(detector, "check_rows_", np.zeros((0, len(detector.columns_))))
    scores = detector.scored(pd.DataFrame(rows, columns=detector.columns_), ranges=False).score if len(rows) else \
        np.zeros(0)
    with atomic_path(directory / "validation.npz") as tmp:
        np.savez(tmp, scores=detector.validation_scores_, labels=detector.validation_labels_,
                 check_rows=rows, check_scores=scores)
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
        "check_rows": len(rows),
        "training": {"normal_rows": detector.n_train_rows_, "validation_rows": detector.n_validation_rows_,
                     "fraud_rows_held_out": detector.n_fraud_rows_, "trimmed_rows": detector.trimmed_rows_},
        "metrics": metrics or {},
        "versions": {"keras_ae": __version__, "keras": keras.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "python": platform.python_version()},
    }
    write_json(directory / "detector.json", meta)
    write_manifest(directory)  # last: its presence marks a complete bundle
    return directory


def save_new(detector: Any, directory: str | os.PathLike, metrics: dict | None = None) -> pathlib.Path:
    """`save` into a new `directory`, an empty one, or in place of a fraud model directory (replaced only when the
    new bundle is whole, `keras_ae.io.atomic_dir`); a symbolic link, the current directory, a file or a folder
    holding anything else is refused with a UsageError, and nothing is written."""
    from keras_ae import outputs
    from keras_ae.io import as_path, atomic_dir
    from keras_ae.run_dirs import json_or_none

    if not isinstance(directory, (str, os.PathLike)):
        as_path(directory, "a model directory")
    for parent in pathlib.Path(directory).resolve().parents if str(directory).strip() else ():
        manifest = json_or_none(parent / MANIFEST)
        if isinstance(manifest, dict) and manifest.get("kind") == KIND:  # it would no longer be a model's folder
            raise UsageError(f"directory={str(directory)!r} lies inside the fraud model directory {parent}; name a "
                             "path outside it (nothing was written)")
    with outputs.claimed(directory, "model", name="directory") as target, atomic_dir(target) as tmp:
        save(detector, tmp, metrics)
    return pathlib.Path(directory)


def write_manifest(directory: str | os.PathLike) -> pathlib.Path:
    """(Re)write `directory`/manifest.json over every regular file in it but itself (subfolders included,
    hidden files and symbolic links left out): each file's SHA-256 and size, and the shape and dtype of
    every array of its .npz files. Call it after the last file is written (`save` does; a fit run that adds
    pictures and metrics.json after `save` calls it again). Loading refuses a bundle whose listed files are
    missing or changed; files added later are not listed and are ignored. Returns the manifest's path.
    """
    directory = pathlib.Path(directory)
    files, arrays = {}, {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        name = relative.as_posix()
        if name == MANIFEST or path.is_symlink() or not path.is_file() or any(
                part.startswith(".") for part in relative.parts):
            continue
        digest, size = bundle_files.file_digest(path)
        files[name] = {"sha256": digest, "bytes": size}
        if path.suffix == ".npz":
            arrays[name] = bundle_files.npz_layout(path)
    return write_json(directory / MANIFEST, {"kind": KIND, "format": FORMAT, "files": files, "arrays": arrays})


def read(directory: str | os.PathLike) -> dict:
    """Everything a detector needs from a bundle, verified (see `bundle_checks`): metadata, preprocessing,
    weights, reference rows (None without a neighbour part), validation scores and labels.

    UsageError (one line naming the file) for a directory that is no bundle, one of an older format, a listed
    file missing or changed, an unreadable, pickled, non-finite or misshapen array, or values that cannot score.
    """
    from keras_ae.io import as_path

    directory = as_path(directory, "a model directory")
    manifest = bundle_files.read_manifest(directory)
    contents = bundle_files.verified_contents(directory, manifest)
    meta = bundle_files.load_json(directory, DETECTOR, contents[DETECTOR])
    checks.check_meta(directory, meta)
    preprocessing = bundle_files.load_json(directory, bundle_files.PREPROCESSING, contents[bundle_files.PREPROCESSING])
    n_features = len(checks.check_preprocessing(directory, preprocessing, meta))
    arrays = {name: bundle_files.load_arrays(directory, name, contents[name], manifest["arrays"][name])
              for name in bundle_files.NPZ}
    weights = checks.member_weights(directory, arrays[bundle_files.WEIGHTS], meta, n_features)
    reference = checks.reference_rows(directory, arrays[bundle_files.REFERENCE], meta, n_features)
    scores, labels = checks.validation_rows(directory, arrays[VALIDATION])
    check = checks.check_rows(directory, arrays[VALIDATION], len(meta["columns"]), meta.get("check_rows"))
    return {"meta": meta, "preprocessing": preprocessing, "weights": weights, "scores": scores, "labels": labels,
            "reference": reference, "check": check}


def load(cls: type, directory: str | os.PathLike, columns: Any = None, source: str = "the data") -> Any:
    """A fitted `cls` (FraudDetector) from a verified bundle (`read`); with `columns` (of `source`), checked
    to fit them."""
    parts = read(directory)
    meta, directory = parts["meta"], pathlib.Path(directory)
    det = _estimator(cls, meta, directory)
    try:  # every field was checked by `read`; this net keeps anything missed to one line
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
        det.architectures_, det.batch_size_ = arch["members"], arch["batch_size"]
        det.epochs_run_ = arch["epochs_run"]
        det.n_train_rows_, det.n_validation_rows_ = rows["normal_rows"], rows["validation_rows"]
        det.n_fraud_rows_, det.trimmed_rows_ = rows["fraud_rows_held_out"], rows["trimmed_rows"]
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        if isinstance(err, UsageError):
            raise
        raise fail(directory, DETECTOR, f"incomplete detector bundle ({err!r}); {REFIT}") from None
    try:  # the rule of the parameters, applied to the stored validation scores (as after a parameter change)
        det.threshold_ = det._threshold(det.threshold_rule, det.threshold_value, warn=False)
    except ValueError as err:  # UsageError included
        raise fail(directory, VALIDATION, f"no threshold follows ({err}); {REFIT}") from None
    if not np.isfinite(det.threshold_):
        raise fail(directory, VALIDATION, f"the threshold is {det.threshold_}; {REFIT}")
    stated = meta["threshold"]
    if stated.get("rule") != det.threshold_rule or not np.isclose(stated["threshold"], det.threshold_, rtol=1e-9):
        raise fail(directory, DETECTOR, f"'threshold' (rule {bundle_files.show(stated.get('rule'))}, threshold "
                                        f"{stated['threshold']:.6g}) does not follow from 'params' (rule "
                                        f"{det.threshold_rule!r} gives {det.threshold_:.6g}); {REFIT}")
    det.check_rows_ = parts["check"][0]
    check_scores(det, directory, *parts["check"])
    det.metadata_ = meta
    return det


def check_scores(det: Any, directory: pathlib.Path, rows: np.ndarray, stored: np.ndarray) -> None:
    """The bundle's check rows must score what they scored when it was saved: files edited with the manifest
    recomputed (the score scales, the preprocessing, the weights) would otherwise score without a word."""
    import pandas as pd

    if not len(rows):  # a bundle of an earlier version
        return
    try:
        scores = det.scored(pd.DataFrame(rows, columns=det.columns_), ranges=False).score
    except ValueError as err:  # UsageError included: a check row "too far from the normal rows"
        scores, why = None, str(err)
    if scores is None or not np.allclose(scores, stored, rtol=1e-4, atol=1e-6):
        got = why if scores is None else f"{scores[0]:.6g} where it stored {stored[0]:.6g}"
        raise fail(directory, VALIDATION, f"its check rows do not score what they scored when it was saved ({got}):"
                                          f" its files were edited; {REFIT}")


def _estimator(cls: type, meta: dict, directory: pathlib.Path) -> Any:
    """An unfitted `cls` with detector.json's parameters, checked."""
    from keras_ae.fraud.combined import SCORES

    params = {k: (tuple(v) if k in ("hidden", "drop") and isinstance(v, list) else v)
              for k, v in meta["params"].items()}
    drop = params.get("drop", ())
    if not isinstance(drop, tuple) or not all(isinstance(c, str) for c in drop):
        raise fail(directory, DETECTOR, f"'params.drop' is not a list of column names; {REFIT}")
    from keras_ae.anomaly.thresholds import THRESHOLD_RULES

    rule = params.get("threshold_rule")
    if isinstance(rule, str) and rule in THRESHOLD_RULES and not THRESHOLD_RULES.get(rule).value_help:
        params["threshold_value"] = None  # earlier versions stored a value that such a rule ignored
    try:
        det = cls(**params)
        det.check_params()
    except (TypeError, ValueError) as err:
        raise fail(directory, DETECTOR, f"'params' make no detector ({err}); {REFIT}") from None
    if list(SCORES.get(det.method, ())) != meta["scoring"]["components"]:
        raise fail(directory, DETECTOR, f"'params.method' {det.method!r} differs from "
                                        f"'scoring.components'; {REFIT}")
    return det


def scoring_state(meta: dict, weights: list, scales: list[float], reference: np.ndarray):
    """The detector's `combined.ScoringState` from its JSON description and arrays."""
    from keras_ae.fraud.combined import ScoringState

    return ScoringState(weights, list(scales), tuple(meta["components"]),
                        reference if "knn" in meta["components"] else None, int(meta["n_neighbors"]),
                        {k: float(v) for k, v in meta["weights_by_component"].items()},
                        {k: (float(v[0]), float(v[1])) for k, v in meta["stats"].items()},
                        [float(v) for v in meta["feature_scales"]] if meta.get("feature_scales") is not None else None)


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
