"""Checks of a saved fraud detector (`bundle`): its manifest, every listed file's SHA-256, the arrays, their meaning.

The detector is a security control, so a damaged or edited bundle is refused, never loaded to score NaN,
flag nothing or flag every row. Every failure is one `UsageError` line naming the bundle file and what is
wrong. The semantic checks also catch files edited with the manifest recomputed to match. NumPy files are
read with `allow_pickle=False` only (an object array is refused, never unpickled); nothing here imports
TensorFlow.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pathlib
import re
import zipfile
from typing import Any

import numpy as np

from keras_ae.errors import UsageError
from keras_ae.fraud.combined import SCORES
from keras_ae.fraud.inference import ACTIVATIONS
from keras_ae.fraud.preprocess import TIME_MODES, Preprocessor

KIND = "keras_ae.fraud.FraudDetector"
FORMAT = 2
MANIFEST = "manifest.json"
DETECTOR, PREPROCESSING = "detector.json", "preprocessing.json"
WEIGHTS, REFERENCE, VALIDATION = "weights.npz", "reference.npz", "validation.npz"
READ = (DETECTOR, PREPROCESSING, WEIGHTS, REFERENCE, VALIDATION)  # the files loading reads: all must be listed
NPZ = (WEIGHTS, REFERENCE, VALIDATION)
RESTORE = "refit the model or restore the file"
REFIT = "refit the model"
CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LAYER = re.compile(r"m(\d+)_l(\d+)_([Wb])")


def fail(directory: pathlib.Path, name: str | None, problem: str) -> UsageError:
    """The one-line error for `problem` of the bundle file `name` (None: the directory itself)."""
    where = str(directory) if name is None else f"{directory}/{name}"
    return UsageError(" ".join(f"{where}: {problem}".splitlines()))


def older_format(directory: pathlib.Path, fmt: Any) -> UsageError:
    return fail(directory, None, f"a fraud model of an older format ({fmt}); fit it again with this version "
                                 "(keras-ae-fraud fit ...)")


def _show(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# ------------------------------------------------------------------------------------------ files and arrays
def file_digest(path: pathlib.Path) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def npz_headers(source: Any) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{key: (shape, dtype)} of an .npz archive from the arrays' headers alone: no data is read or unpickled,
    so an object array shows as dtype object. ValueError (or zipfile.BadZipFile) for anything else."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    headers = {}
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not a .npy array")
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in readers:
                    raise ValueError(f"array {info.filename[:-4]!r}: unsupported .npy version {version}")
                shape, _, dtype = readers[version](member)
            headers[info.filename[:-4]] = (tuple(shape), dtype)
    return headers


def npz_layout(path: pathlib.Path) -> dict[str, dict]:
    """The manifest's record of an .npz file: {key: {"shape": [...], "dtype": name}}."""
    try:
        headers = npz_headers(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise fail(path.parent, path.name, f"not a NumPy .npz archive ({err})") from None
    return {key: {"shape": list(shape), "dtype": dtype.name} for key, (shape, dtype) in headers.items()}


# ------------------------------------------------------------------------------------------ the manifest
def _safe_name(name: Any) -> bool:
    if not isinstance(name, str) or not name or "\\" in name or name == MANIFEST:
        return False
    path = pathlib.PurePosixPath(name)
    return not path.is_absolute() and path.as_posix() == name and ".." not in path.parts


def _layout_ok(layout: Any) -> bool:
    return isinstance(layout, dict) and all(
        isinstance(entry, dict) and isinstance(entry.get("dtype"), str) and isinstance(entry.get("shape"), list)
        and all(_is_int(n) for n in entry["shape"]) for entry in layout.values())


def read_manifest(directory: pathlib.Path) -> dict:
    """The bundle's manifest.json, checked to be one of this format (an older bundle has none)."""
    path = directory / MANIFEST
    if not path.is_file():
        raise _no_manifest(directory)
    try:
        manifest = json.loads(path.read_bytes())
    except OSError as err:
        raise fail(directory, MANIFEST, f"cannot be read ({err.strerror or err})") from None
    except ValueError as err:
        raise fail(directory, MANIFEST, f"not valid JSON ({err}); {RESTORE}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        raise fail(directory, MANIFEST, f"not the manifest of a fraud detector (kind {kind!r}, expected {KIND!r})")
    fmt = manifest.get("format")
    if not _is_int(fmt):
        raise fail(directory, MANIFEST, f"'format' is {_show(fmt)}, not an integer; {RESTORE}")
    if fmt < FORMAT:
        raise older_format(directory, fmt)
    if fmt > FORMAT:
        raise fail(directory, MANIFEST, f"a fraud model of a newer format ({fmt}); this version of keras-ae reads "
                                        f"format {FORMAT}: upgrade keras-ae")
    files, arrays = manifest.get("files"), manifest.get("arrays")
    if not isinstance(files, dict) or not isinstance(arrays, dict):
        raise fail(directory, MANIFEST, f"'files' and 'arrays' must be JSON objects; {RESTORE}")
    for name, entry in files.items():
        if not _safe_name(name):
            raise fail(directory, MANIFEST, f"'files' lists {_show(name)}, not a file inside the bundle; {RESTORE}")
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and _SHA256.fullmatch(entry["sha256"]) and _is_int(entry.get("bytes"))):
            raise fail(directory, MANIFEST, f"'files' entry {name!r} needs 'sha256' (64 hex digits) and 'bytes' "
                                            f"(an integer >= 0); {RESTORE}")
    for name in READ:
        if name not in files:
            raise fail(directory, MANIFEST, f"does not list {name}; {RESTORE}")
    for name in NPZ:
        if not _layout_ok(arrays.get(name)):
            raise fail(directory, MANIFEST, f"'arrays' lacks a valid record of {name} ({{key: {{\"shape\": [...], "
                                            f"\"dtype\": ...}}}}); {RESTORE}")
    return manifest


def _no_manifest(directory: pathlib.Path) -> UsageError:
    """Why a directory without manifest.json is refused: an older bundle, an unfinished one, or none at all."""
    if not (directory / DETECTOR).is_file():
        return fail(directory, None, f"not a fraud detector bundle (no {MANIFEST} or {DETECTOR})")
    try:
        meta = json.loads((directory / DETECTOR).read_bytes())
    except (OSError, ValueError):
        meta = None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        return fail(directory, DETECTOR, "not a fraud detector bundle")
    if _is_int(meta.get("format")) and meta["format"] < FORMAT:
        return older_format(directory, meta["format"])
    return fail(directory, MANIFEST, f"missing: the bundle is incomplete (a save did not finish) or was edited; "
                                     f"{RESTORE}")


def verified_contents(directory: pathlib.Path, manifest: dict) -> dict[str, bytes]:
    """Check every file the manifest lists (present, same size and SHA-256); returns the bytes of the files that
    loading reads (read once, so what was checked is what is used). Files it does not list are ignored."""
    contents = {}
    for name, entry in manifest["files"].items():
        path = directory / name
        try:
            if not path.is_file():
                raise fail(directory, name, f"missing (listed in {MANIFEST}); {RESTORE}")
            if path.stat().st_size != entry["bytes"]:
                digest = None
            elif name in READ:
                contents[name] = path.read_bytes()
                digest = hashlib.sha256(contents[name]).hexdigest()
            else:
                digest = file_digest(path)[0]
        except OSError as err:
            raise fail(directory, name, f"cannot be read ({err.strerror or err})") from None
        if digest != entry["sha256"]:
            raise fail(directory, name, f"damaged or edited (SHA-256 differs from {MANIFEST}); {RESTORE}")
    return contents


def load_json(directory: pathlib.Path, name: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as err:
        raise fail(directory, name, f"not valid JSON ({err}); {RESTORE}") from None


def load_arrays(directory: pathlib.Path, name: str, data: bytes, layout: dict) -> dict[str, np.ndarray]:
    """The arrays of an .npz file's bytes, each numeric, finite and of the shape and dtype `layout` records."""
    try:
        headers = npz_headers(io.BytesIO(data))
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise fail(directory, name, f"not a NumPy .npz archive ({err}); {RESTORE}") from None
    if sorted(headers) != sorted(layout):
        raise fail(directory, name, f"holds arrays {sorted(headers)}, {MANIFEST} records {sorted(layout)}; {RESTORE}")
    arrays = {}
    with archive:
        for key in layout:
            shape, dtype = headers[key]
            if dtype.hasobject:
                raise fail(directory, name, f"array {key!r} holds Python objects (pickled data), refused unread; "
                                            f"{RESTORE}")
            if dtype.kind not in "fiub":
                raise fail(directory, name, f"array {key!r} has dtype {dtype.name}, not real numbers; {RESTORE}")
            try:
                value = archive[key]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
                raise fail(directory, name, f"array {key!r} cannot be read ({err}); {RESTORE}") from None
            expected = layout[key]
            if list(value.shape) != expected["shape"] or value.dtype.name != expected["dtype"]:
                raise fail(directory, name, f"array {key!r} is {value.dtype.name} of shape {list(value.shape)}, "
                                            f"{MANIFEST} records {expected['dtype']} of shape {expected['shape']}; "
                                            f"{RESTORE}")
            bad = int(value.size - np.count_nonzero(np.isfinite(value))) if value.dtype.kind == "f" else 0
            if bad:
                raise fail(directory, name, f"array {key!r} holds {bad} non-finite value(s) (NaN or infinity); "
                                            f"{RESTORE}")
            arrays[key] = value
    return arrays


# ------------------------------------------------------------------------------------------ meaning
def check_meta(directory: pathlib.Path, meta: Any) -> None:
    """detector.json: every field scoring, thresholds and describing the detector use, of the expected types."""
    def bad(problem: str) -> UsageError:
        return fail(directory, DETECTOR, f"{problem}; {REFIT}")

    if not isinstance(meta, dict):
        raise bad("not a JSON object")
    if meta.get("kind") != KIND or meta.get("format") != FORMAT:
        raise bad(f"not a fraud detector of format {FORMAT} (kind {_show(meta.get('kind'))}, "
                  f"format {_show(meta.get('format'))})")
    fields = {"columns": list, "features": list, "label_column": str, "params": dict, "scoring": dict,
              "threshold": dict, "architecture": dict, "training": dict}
    for field, kind in fields.items():
        value = meta.get(field)
        if not isinstance(value, kind) or (kind is list and not (value and _is_names(value))):
            raise bad(f"{field!r} is missing or not a {'list of names' if kind is list else kind.__name__}")
    scales, acts = meta.get("member_scales"), meta.get("member_activations")
    if not isinstance(scales, list) or not scales:
        raise bad("'member_scales' must be a non-empty list")
    for k, scale in enumerate(scales):
        if not (_is_number(scale) and scale > 0):
            raise bad(f"'member_scales' of member {k} is {_show(scale)}, not a finite number > 0")
    if not isinstance(acts, list) or len(acts) != len(scales):
        raise bad(f"'member_activations' must list the activations of each of the {len(scales)} member(s)")
    for k, names in enumerate(acts):
        if not _is_names(names):
            raise bad(f"'member_activations' of member {k} is not a list of activation names")
        for name in names:
            if name not in ACTIVATIONS:
                raise bad(f"'member_activations' of member {k}: unknown activation {_show(name)} "
                          f"(known: {', '.join(ACTIVATIONS)})")
    scoring = meta["scoring"]
    components = scoring.get("components")
    if components not in [list(c) for c in SCORES.values()]:
        raise bad(f"'scoring.components' is {_show(components)}, not one of {[list(c) for c in SCORES.values()]}")
    if not _is_int(scoring.get("n_neighbors"), 1):
        raise bad(f"'scoring.n_neighbors' is {_show(scoring.get('n_neighbors'))}, not an integer >= 1")
    weights, stats = scoring.get("weights_by_component"), scoring.get("stats")
    if not isinstance(weights, dict) or not isinstance(stats, dict):
        raise bad("'scoring.weights_by_component' and 'scoring.stats' must be JSON objects")
    for name in dict.fromkeys([*components, *weights, *stats]):  # every entry is read, used or not
        if not (_is_number(weights.get(name)) and weights[name] >= 0):
            raise bad(f"'scoring.weights_by_component' of {name!r} is {_show(weights.get(name))}, "
                      "not a finite number >= 0")
        pair = stats.get(name)
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_number(v) for v in pair) and pair[1] > 0):
            if name in components or name in stats:
                raise bad(f"'scoring.stats' of {name!r} is {_show(pair)}, not [finite median, finite spread > 0]")
    if not sum(weights[name] for name in components) > 0:
        raise bad("'scoring.weights_by_component' are all 0")
    feature_scales = scoring.get("feature_scales")
    if feature_scales is not None and not (isinstance(feature_scales, list) and
                                           len(feature_scales) == len(meta["features"]) and
                                           all(_is_number(v) and v > 0 for v in feature_scales)):
        raise bad(f"'scoring.feature_scales' must list {len(meta['features'])} finite numbers > 0, one a feature")
    if not _is_number(meta["threshold"].get("threshold")):
        raise bad(f"'threshold.threshold' is {_show(meta['threshold'].get('threshold'))}, not a finite number")
    arch = meta["architecture"]
    members = arch.get("members")
    if not (isinstance(members, list) and len(members) == len(scales) and all(
            isinstance(m, list) and len(m) == 2 and isinstance(m[0], list) and all(_is_int(h, 1) for h in m[0])
            and _is_int(m[1], 1) for m in members) and _is_int(arch.get("latent_dim"), 1)
            and isinstance(arch.get("hidden"), list) and all(_is_int(h, 1) for h in arch["hidden"])):
        raise bad(f"'architecture' must give hidden widths and a code size for each of the {len(scales)} member(s)")
    for field in ("batch_size", "epochs_run"):
        if not _is_int(arch.get(field)):
            raise bad(f"'architecture.{field}' is {_show(arch.get(field))}, not an integer")
    for field in ("normal_rows", "validation_rows", "fraud_rows_held_out", "trimmed_rows"):
        if not _is_int(meta["training"].get(field)):
            raise bad(f"'training.{field}' is {_show(meta['training'].get(field))}, not an integer >= 0")


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
            if not _is_number(value) or (field == "scale" and value <= 0) or (field == "var" and value < 0):
                need = {"mean": "a finite number", "scale": "a finite number > 0", "var": "a finite number >= 0"}
                raise bad(f"{field!r} of feature {feature!r} is {_show(value)}, not {need[field]}")
    if not _is_int(pre.get("n_samples_seen"), 1):
        raise bad(f"'n_samples_seen' is {_show(pre.get('n_samples_seen'))}, not an integer >= 1")
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
