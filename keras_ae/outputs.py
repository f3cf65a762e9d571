"""Outputs a command may write: never over what is not its own, never inside an input, never two at once.

Every command claims its output before any work starts (`check_output`, then `claimed` around the work):

- a path that does not exist yet is fine (missing parent directories are made, and removed again when the
  command fails);
- an existing path is replaced only when it is recognisably the command's own kind of output (`KINDS`): a fraud
  model directory by its manifest, a run directory by its marker, a scored table by its result columns, a
  metrics file by its fields. Anything else is refused with one line, before any work;
- no output may be an input, lie inside one, or hold one (``fit --input D/train.csv --out D``);
- a symbolic link as the output is refused (replacing it would replace the link, or write elsewhere);
- the directory the output goes into must be writable (tried, not guessed);
- while a command writes an output, a lock file beside it makes a second command writing the same output
  stop with one line (`keras_ae.locks`: an `fcntl` lock, so a crashed command never leaves it held). A file at
  the lock's path that keras-ae did not write is refused, never emptied or removed.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
from collections.abc import Callable, Iterable, Iterator

from keras_ae import locks
from keras_ae.errors import UsageError
from keras_ae.run_dirs import BROWSER_FILES, RUN_MARKER, is_run_dir  # noqa: F401  (RUN_MARKER: public here too)
from keras_ae.run_dirs import json_or_none as _json

MODEL_KIND = "keras_ae.fraud.FraudDetector"
METRICS_KIND = "keras_ae.fraud.metrics"
RESULT_COLUMNS = ("score", "reconstruction_error", "flag", "top_features")


MODEL_FILES = ("detector.json", "preprocessing.json", "weights.npz", "reference.npz", "validation.npz", "metrics.json",
               "manifest.json", "error_histogram.png", "roc.png", "precision_recall.png")


def _names(path: pathlib.Path) -> list[str]:
    """Every name in the directory, hidden ones too (a `.git` or `.env` in it makes it not ours to replace), but
    for a file browser's own `BROWSER_FILES`."""
    return sorted(p.name for p in path.iterdir() if p.name not in BROWSER_FILES)


def is_model_dir(path: pathlib.Path) -> bool:
    """A fraud detector directory written by keras-ae, holding nothing else: every file is listed in its manifest
    (or, for a model of an older format without one, is a file such a model holds); or an empty directory."""
    if not path.is_dir() or path.is_symlink():
        return False
    names = _names(path)
    if not names:
        return True
    manifest = _json(path / "manifest.json")
    if isinstance(manifest, dict) and manifest.get("kind") == MODEL_KIND and isinstance(manifest.get("files"), dict):
        return set(names) <= {*manifest["files"], "manifest.json"}
    meta = _json(path / "detector.json")
    if isinstance(meta, dict) and meta.get("kind") == MODEL_KIND:
        return all(n in MODEL_FILES or (n.startswith("member_") and n.endswith(".keras")) for n in names)
    return False


def _result_columns(names: list[str]) -> bool:
    names = list(names)
    if "score" not in names:
        return False
    start = len(names) - 1 - names[::-1].index("score")
    # the result columns, then those of later versions (p_value, unscorable_reason), and nothing else
    return tuple(names[start:start + len(RESULT_COLUMNS)]) == RESULT_COLUMNS and \
        set(names[start + len(RESULT_COLUMNS):]) <= {"p_value", "unscorable_reason"}


def is_scored_table(path: pathlib.Path) -> bool:
    """A table written by `score`: its last columns are the result columns. A directory qualifies only when it
    holds nothing but the Parquet parts score writes (`part-*`, and Spark's bookkeeping files), each with the result
    columns, or is empty;
    a hidden file of anything else in it (`.git`, `.env`) makes it not ours."""
    try:
        if path.is_dir():
            import pyarrow.parquet as pq

            names = _names(path)
            # the parts score and Spark write (part-00000.parquet, part-00000-<id>-c000.snappy.parquet): a folder of
            # other Parquet files that each hold results (one scored table a day) is the user's collection
            parts = [n for n in names if n.startswith("part-") and ".crc" not in n]
            # Spark's bookkeeping: _SUCCESS and a hidden checksum file of each part (.part-0.parquet.crc)
            bookkeeping = {"_SUCCESS", "._SUCCESS.crc", *(f".{n}.crc" for n in parts)}
            if set(names) - set(parts) - bookkeeping:
                return False
            return all(_result_columns(pq.read_schema(path / n).names) for n in parts)
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return _result_columns(pq.read_schema(path).names)
        if path.is_file():
            import pandas as pd

            return _result_columns(list(pd.read_csv(path, nrows=0, sep=None, engine="python").columns))
    except Exception:  # unreadable: certainly not one of ours
        return False
    return False


def is_metrics_file(path: pathlib.Path) -> bool:
    """A metrics JSON file written by `evaluate`: its kind, or the fields of older versions outside a fraud model or
    run directory (a model's own metrics.json has those fields too)."""
    meta = _json(path)
    if not isinstance(meta, dict):
        return False
    if meta.get("kind") == METRICS_KIND:
        return True
    return {"roc_auc", "threshold_rule"} <= set(meta) and not (is_model_dir(path.parent) or is_run_dir(path.parent))


KINDS: dict[str, tuple[str, Callable[[pathlib.Path], bool], bool]] = {
    # kind: (what it is called in messages, recogniser, whether it is a directory)
    "model": ("fraud model directory", is_model_dir, True),
    "run": ("run directory", is_run_dir, True),
    "table": ("scored table", is_scored_table, False),
    "metrics": ("metrics file", is_metrics_file, False),
}


def _inside(child: pathlib.Path, parent: pathlib.Path) -> bool:
    return child == parent or parent in child.parents


def check_output(out: str | os.PathLike, kind: str, inputs: Iterable[str | os.PathLike | None] = (),
                 name: str = "out") -> pathlib.Path:
    """`out` checked as an output of `kind` (see the module docstring); returns it resolved. Raises a one-line
    UsageError naming the path and the reason. Nothing is created."""
    what, recognise, _ = KINDS[kind]
    given = pathlib.Path(out)
    shown = f"{name}={str(out)!r}"
    if str(out).strip() == "":
        raise UsageError(f"{shown}: empty path")
    if given.is_symlink():
        raise UsageError(f"{shown} is a symbolic link; name the real path of the output")
    target = given.resolve()
    for source in inputs:
        if source is None or "://" in str(source):
            continue
        source_path = pathlib.Path(source).resolve()
        same = target == source_path or (target.exists() and source_path.exists() and os.path.samefile(target,
                                                                                                        source_path))
        if same:
            raise UsageError(f"{shown} is an input ({source}); write the output elsewhere")
        if _inside(target, source_path):
            raise UsageError(f"{shown} lies inside the input {source}; write the output elsewhere")
        if _inside(source_path, target):
            raise UsageError(f"{shown} holds the input {source}; write the output elsewhere")
    if target == pathlib.Path(target.anchor) or target == pathlib.Path.cwd():
        raise UsageError(f"{shown} is the current or root directory; name a new path for the {what}")
    if given.exists() and not recognise(given):
        if given.is_dir():
            raise UsageError(f"{shown} is an existing directory that is not a keras-ae {what}; name a new path "
                             "(nothing in it was touched)")
        raise UsageError(f"{shown} is an existing file that is not a keras-ae {what}; name a new path "
                         "(it was not touched)")
    if kind == "table" and str(out).endswith(("/", os.sep)) and given.suffix:  # "x.parquet/": a directory wanted?
        raise UsageError(f"{shown}: a name ending in '/' asks for a directory, its extension for a file; name a "
                         f"directory without extension ({given.with_suffix('').name}) or the file without '/'")
    _check_name(given, kind, shown)
    _check_writable(target, shown)
    return target


# names a scored table cannot be written as (for .tar and .tar.gz pandas would write a tar archive)
OTHER_FORMATS = (".xlsx", ".xls", ".ods", ".json", ".jsonl", ".feather", ".arrow", ".orc", ".avro", ".h5", ".hdf5",
                 ".pkl", ".pickle", ".npy", ".npz", ".html", ".xml", ".tar", ".tgz", ".tbz2", ".txz",
                 # documents, pictures, code and databases: names no one gives a CSV file
                 ".pdf", ".doc", ".docx", ".odt", ".rtf", ".md", ".ppt", ".pptx", ".png", ".jpg", ".jpeg", ".gif",
                 ".svg", ".py", ".ipynb", ".yaml", ".yml", ".toml", ".db", ".sqlite", ".sql", ".keras")


def _check_name(given: pathlib.Path, kind: str, shown: str) -> None:
    """The output's name must ask for what is written: '-' (standard output) is no file, a scored table is CSV
    (by any other extension, compressed too), Parquet or a directory of Parquet files, metrics are JSON."""
    if str(given) == "-":
        raise UsageError(f"{shown}: writing to standard output is not supported; name a file")
    suffix = given.suffix.lower()
    if kind == "table" and given.name.startswith(".") and _names_a_format(given.name):
        # '.csv' is a hidden file without extension to Python (a Parquet directory): the name asks for a format
        raise UsageError(f"{shown}: a name that is only an extension; name the file before it (scored{given.name})")
    from keras_ae.fraud import tables

    if kind == "table" and suffix in OTHER_FORMATS:
        if tables.format_of(given, output=True) is not tables.FORMATS.get(tables.DEFAULT_FORMAT):
            return  # a registered format writes this name
        raise UsageError(f"{shown}: a scored table is written as CSV (.csv, also compressed: .csv.gz ...), "
                         f"Parquet (.parquet) or a directory of Parquet files (a name without extension), not "
                         f"{suffix}")
    inner = given.with_suffix("").suffix.lower()
    if kind == "table" and suffix in tables.COMPRESSED_SUFFIXES and inner in (*OTHER_FORMATS, *tables.PARQUET_SUFFIXES):
        base = given.with_suffix("").with_suffix("")  # o.csv.tar.gz: o
        base = base.with_suffix("") if base.suffix.lower() == ".csv" else base
        raise UsageError(f"{shown}: a compressed name ({suffix}) writes CSV, not {inner}; name it {base.name}.csv"
                         f"{suffix} for CSV, or {base.name}.parquet for Parquet (compressed inside)")
    if kind == "metrics" and suffix != ".json":
        raise UsageError(f"{shown}: the metrics are written as JSON; name a .json file")


def _names_a_format(name: str) -> bool:
    """Whether `name` ('.csv', '.csv.gz', '.parquet') is nothing but the extension of a table format."""
    from keras_ae.fraud.tables import COMPRESSED_SUFFIXES, PARQUET_SUFFIXES

    suffixes = pathlib.PurePath("x" + name).suffixes
    known = {".csv", ".tsv", ".txt", *PARQUET_SUFFIXES, *COMPRESSED_SUFFIXES, *OTHER_FORMATS}
    return bool(suffixes) and "".join(suffixes).lower() == name.lower() and all(s.lower() in known for s in suffixes)


def _check_writable(target: pathlib.Path, shown: str) -> None:
    """The nearest existing directory above `target` must be a directory we can create files in."""
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{shown}: {parent} is a file, not a directory")
    probe = parent / f".keras-ae-write-test-{os.getpid()}"
    try:
        probe.mkdir(), probe.rmdir()
    except OSError as err:
        raise UsageError(f"{shown}: cannot write in {parent} ({err.strerror or err})") from None


@contextlib.contextmanager
def claimed(out: str | os.PathLike, kind: str, inputs: Iterable[str | os.PathLike | None] = (),
            name: str = "out") -> Iterator[pathlib.Path]:
    """Check `out` (`check_output`), make its missing parents, hold its lock while the block runs; yield the
    resolved path. When the block fails, parent directories it made are removed again (when empty)."""
    target = check_output(out, kind, inputs, name)
    made = []
    for parent in reversed(target.parents):
        if not parent.exists():
            try:
                parent.mkdir()
            except OSError as err:
                _remove_dirs(made)
                raise UsageError(f"{name}={str(out)!r}: cannot create {parent} ({err.strerror or err})") from None
            made.append(parent)
    try:
        with locks.locked(target, name, out):
            yield target
    except BaseException:
        _remove_dirs(made)
        raise


def _remove_dirs(made: list[pathlib.Path]) -> None:
    for directory in reversed(made):
        with contextlib.suppress(OSError):
            directory.rmdir()
