"""Run directories: how one is recognised as keras-ae's (its marker), which kind of run wrote it, which files are
its own (those it lists), and what a new run into it removes first. `keras_ae.outputs` decides with
`is_run_dir` whether an existing --out may be written; `keras_ae.run_marker.unfinished_marker` does the rest."""

from __future__ import annotations

import json
import pathlib

from keras_ae.errors import UsageError

RUN_MARKER = ".keras-ae-run.json"  # in every run directory, from its start: it marks the directory as a run's
# what a file browser writes into any folder it shows (macOS Finder's view settings): never a user's work, so never
# a reason to keep an output from being replaced
BROWSER_FILES = frozenset({".DS_Store"})


def json_or_none(path: pathlib.Path) -> object:
    """The content of a JSON file, or None when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_run_dir(path: pathlib.Path) -> bool:
    """A run directory of keras-ae (its marker, written before anything else), or an empty directory. Files a run
    writes, copied into a folder of yours (a metrics.json or a font.json beside a model), do not make it a run's:
    only the marker does, and a run replaces only the files its marker lists (`run_outputs`)."""
    if not path.is_dir() or path.is_symlink():
        return False
    if all(p.name in BROWSER_FILES for p in path.iterdir()):  # empty, or only a file browser's view settings
        return True
    marker = json_or_none(path / RUN_MARKER)
    return isinstance(marker, dict) and marker.get("kind") == "keras_ae.run"


def check_run_kind(run_dir: pathlib.Path, what: str) -> None:
    """A run directory of another kind of run (a training run given to the one-class command) is not ours to
    write over: a UsageError naming the kind it holds."""
    marker = json_or_none(run_dir / RUN_MARKER)
    held = marker.get("run") if isinstance(marker, dict) else None
    if held is not None and held != what:
        raise UsageError(f"out={str(run_dir)!r} is the directory of a {held} run, not of a {what} run; name another "
                         "directory (nothing in it was touched)")


def mark_run(run_dir: pathlib.Path, what: str, files: list[str] | None = None) -> None:
    """Write the run marker that makes `run_dir` recognisably a keras-ae run directory (once, when the run starts);
    with `files`, when the run has finished: the files and run folders it wrote, the only ones a later run into
    the directory may replace."""
    from keras_ae.io import write_json  # io imports this module

    if files is not None:
        write_json(run_dir / RUN_MARKER, {"kind": "keras_ae.run", "run": what, "files": sorted(set(files))})
    elif not (run_dir / RUN_MARKER).is_file():
        write_json(run_dir / RUN_MARKER, {"kind": "keras_ae.run", "run": what})


_MODELS = ("encoder.keras", "decoder.keras", "autoencoder.keras")
_TRAIN_PICTURES = ("loss.png", "reconstruction.png", "latent.png", "latent_traversal.png", "samples.png",
                   "interpolation.png", "manifold.png", "factor_correlation.png")
# What each kind of run writes into its directory (the pictures too: a run that failed before its report listed them
# leaves them as well), and the report that lists its pictures. A file of another name, or of a name only another
# kind of run writes (a results.csv of yours in a training run's directory), is not the run's to remove.
RUN_FILES = {"train": ("metrics.json", "history.csv", *_MODELS, *_TRAIN_PICTURES),
             "one-class": ("metrics.json", "history.csv", *_MODELS, "histograms.png", "roc.png", "confusion.png",
                           "ranked.png"),
             "one-class, every class": ("metrics.json", "summary.csv", "per_class.png"),
             "sweep": ("results.csv", "summary.csv", "histories.csv", "comparison.png", "loss_curves.png"),
             "font": ("font.json", "history.csv", *_MODELS, "loss.png", "reconstruction.png", "latent_space.png",
                      "concept_vector.png", "denoising_errors.png", "denoising_examples.png"),
             "fraud demo": ("transactions.csv", "new_transactions.csv")}
# the fraud demo's outputs beside its tables, each the demo's when it is what the demo writes there (a scored table,
# evaluate's metrics, a fraud model directory); a file of the user's of such a name is refused by that step instead
DEMO_OUTPUTS = {"scored": "scored.csv", "metrics": "new_metrics.json", "model": "model"}
REPORTS = {"train": "metrics.json", "one-class": "metrics.json", "one-class, every class": "metrics.json",
           "font": "font.json"}


UNFINISHED = "UNFINISHED.json"  # in a run directory while the run goes on, and after it was stopped or failed
# While a run replaces an earlier one, the earlier run's files wait in PREVIOUS (filled as HOLDING, renamed when
# whole), to be put back if the new run stops early (RESTORING in it: the new run's files are gone, the put-back
# is under way); once the new run has finished, PREVIOUS is renamed to a TRASH name and removed.
PREVIOUS, HOLDING, TRASH, RESTORING = ".keras-ae-previous", ".keras-ae-previous.part", ".keras-ae-old", ".restoring"
HELD = ".keras-ae-held.json"  # in HOLDING/PREVIOUS, written first: the files it holds (a folder without it is not ours)


def listed(run_dir: pathlib.Path) -> list[str] | None:
    """The names a run lists as written into `run_dir`: those of a run that stopped early (or goes on) in its
    `UNFINISHED` marker, else those of a finished run in its run marker; None for a run that lists none (written
    by an earlier version)."""
    for name, key in ((UNFINISHED, "written"), (RUN_MARKER, "files")):
        content = json_or_none(run_dir / name)
        names = content.get(key) if isinstance(content, dict) else None
        if isinstance(names, list):
            return [name for name in names if isinstance(name, str)]
    return None


def run_outputs(run_dir: pathlib.Path, what: str) -> list[pathlib.Path]:
    """What a run of the kind `what` wrote into `run_dir`: the files a run that stopped early (or goes on) lists in
    its `UNFINISHED` marker, else those a finished run lists in its run marker (a run of an earlier version, which
    lists none: the names its kind writes, `RUN_FILES`, pictures as its report lists them); each a plain file
    directly in `run_dir`, of a name a run of that kind may write. For every class also the files of the `normal-*`
    one-class runs it lists (their markers too where nothing else is left in them). No other file is the run's."""
    recorded, every = listed(run_dir), what == "one-class, every class"
    if recorded is not None:  # the run's own list: nothing else is its own
        names = [name for name in recorded if name in RUN_FILES[what] or name.endswith(".png")]
        singles = [run_dir / name for name in recorded if every and name.startswith("normal-")]
    else:
        names, pictures = list(RUN_FILES[what]), []
        content = json_or_none(run_dir / REPORTS[what]) if what in REPORTS else None
        if isinstance(content, dict) and isinstance(content.get("pictures"), list):
            pictures = [p for p in content["pictures"] if isinstance(p, str)]
        if pictures:  # a finished run says which pictures it drew: a picture name it did not list is not its own
            names = [name for name in names if not name.endswith(".png")] + pictures
        singles = sorted(run_dir.glob("normal-*")) if every else []
    found = [run_dir / name for name in dict.fromkeys(names)
             if pathlib.PurePath(name).name == name and _plain_file(run_dir / name)]
    for single in singles:
        if pathlib.PurePath(single.name).name != single.name or single.parent != run_dir:
            continue
        held = json_or_none(single / RUN_MARKER) if single.is_dir() and not single.is_symlink() else None
        if isinstance(held, dict) and held.get("run") == "one-class":
            inside = [*run_outputs(single, "one-class"), *[p for p in [single / UNFINISHED] if _plain_file(p)]]
            rest = {p.name for p in single.iterdir()} - {p.name for p in inside}
            if rest <= {RUN_MARKER, *BROWSER_FILES}:  # nothing of the user's in it: the whole run goes
                inside += [single / name for name in sorted(rest)]
            found += inside
    if what == "fraud demo":
        from keras_ae.outputs import is_metrics_file, is_model_dir, is_scored_table  # outputs imports this module

        mine = set(DEMO_OUTPUTS.values()) if recorded is None else set(recorded)  # a run that lists: what it lists
        scored, metrics, model = (run_dir / DEMO_OUTPUTS[key] for key in ("scored", "metrics", "model"))
        found += [path for path, ours in ((scored, is_scored_table), (metrics, is_metrics_file))
                  if path.name in mine and _plain_file(path) and ours(path) and path not in found]
        if model.name in mine and is_model_dir(model):  # keras-ae's fraud model directory, holding nothing else
            found += sorted(p for p in model.iterdir() if _plain_file(p))
    return found


def _refuse_what_is_in_the_way(run_dir: pathlib.Path, what: str, moved: list[pathlib.Path]) -> None:
    """A UsageError, before anything is moved or trained, when `run_dir` holds something under a name the new run
    may write that is not the earlier run's (a file of yours, a symbolic link, a folder): the new run would
    replace it, or fail only when it came to write there."""
    from keras_ae.errors import UsageError

    ours = set(moved) | {path.parent for path in moved}  # a folder whose files are the run's (the demo's model)
    names = (*RUN_FILES.get(what, ()), *(DEMO_OUTPUTS.values() if what == "fraud demo" else ()))
    for name in names:
        path = run_dir / name
        if (path.exists() or path.is_symlink()) and path not in ours:
            thing = "a symbolic link" if path.is_symlink() else "a folder" if path.is_dir() else \
                "a file the earlier run did not write"
            raise UsageError(f"{path} is {thing}, under a name a run of this kind writes; move it away or name another "
                             "output directory (nothing was changed)")


def _plain_file(path: pathlib.Path) -> bool:
    return path.is_file() and not path.is_symlink()
