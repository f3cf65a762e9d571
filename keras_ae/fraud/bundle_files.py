"""The files of a saved fraud detector (`bundle`): its manifest, every listed file's size and SHA-256, the
arrays' headers, dtypes, shapes and finiteness. What the contents mean is checked by `bundle_checks`.

The detector is a security control, so a damaged or edited bundle is refused, never loaded to score NaN,
flag nothing or flag every row. Every failure is one `UsageError` line naming the bundle file and what is
wrong. NumPy files are read with `allow_pickle=False` only (an object array is refused, never unpickled);
nothing here imports TensorFlow.
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


def fail(directory: pathlib.Path, name: str | None, problem: str) -> UsageError:
    """The one-line error for `problem` of the bundle file `name` (None: the directory itself)."""
    where = str(directory) if name is None else f"{directory}/{name}"
    return UsageError(" ".join(f"{where}: {problem}".splitlines()))


def older_format(directory: pathlib.Path, fmt: Any) -> UsageError:
    return fail(directory, None, f"a fraud model of an older format ({fmt}); fit it again with this version "
                                 "(keras-ae-fraud fit ...)")


def show(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_int(value: Any, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_names(value: Any) -> bool:
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
        and all(is_int(n) for n in entry["shape"]) for entry in layout.values())


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
    if not is_int(fmt):
        raise fail(directory, MANIFEST, f"'format' is {show(fmt)}, not an integer; {RESTORE}")
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
            raise fail(directory, MANIFEST, f"'files' lists {show(name)}, not a file inside the bundle; {RESTORE}")
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and _SHA256.fullmatch(entry["sha256"]) and is_int(entry.get("bytes"))):
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
    if is_int(meta.get("format")) and meta["format"] < FORMAT:
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
