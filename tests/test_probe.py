"""A probe of bad and hostile inputs: every command, the Python API, CSV, Parquet, model files, configs, outputs.

Each case runs in a fresh copy of one small world (tables, a fitted model, earlier outputs of the commands, a
user's own files) and asserts: exit code 2 (or a UsageError in the API), a single line that names the
problem, and the same file tree before and after (nothing created, nothing destroyed, every byte identical).
The fitted model is shared by every case (the session's `bundle`), so the whole table runs in seconds.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402

CASES: list = []


def case(name: str, command: str, argv, *fragments: str, setup: Callable | None = None) -> None:
    """`command` (a CLI name, or "api" with `argv` a callable of the world path) must fail cleanly."""
    CASES.append(pytest.param(command, argv, fragments, setup, id=name))


def write(path: str, text: str) -> Callable:
    def setup(w):
        (w / path).parent.mkdir(parents=True, exist_ok=True)
        (w / path).write_text(text)
    return setup


def edit_table(name: str, change: Callable[[str], str]) -> Callable:
    """A copy of new.csv as `name`, its text changed by `change`."""
    def setup(w):
        (w / name).write_text(change((w / "new.csv").read_text()))
    return setup


def cell(row: int, column: int, value: str) -> Callable[[str], str]:
    def change(text):
        lines = text.splitlines()
        fields = lines[row].split(",")
        fields[column] = value
        lines[row] = ",".join(fields)
        return "\n".join(lines) + "\n"
    return change


# ------------------------------------------------------------------------------------------------- fraud fit
FIT = ["fit", "--input", "train.csv", "--out", "m", "--verbose", "0"]
for option, values in {
    "--epochs": ["0", "-1", "nan", "1.5", "abc", "1e999"], "--n-models": ["0", "nan"],
    "--seed": ["-1", "4294967296", "1099511627776", "1.5"], "--test-size": ["0", "1", "nan", "-0.1", "1.5", "inf"],
    "--trim": ["0.5", "-0.1", "nan"], "--neighbors": ["0", "nan"], "--ae-weight": ["-1", "nan", "inf"],
    "--threshold-rule": ["bogus"], "--method": ["bogus"], "--time": ["bogus"], "--verbose": ["5"],
}.items():
    for value in values:
        case(f"fit {option} {value}", "fraud", [*FIT, f"{option}={value}"], option)
case("fit --threshold-value nan", "fraud", [*FIT, "--threshold-rule", "value", "--threshold-value=nan"],
     "--threshold-value")
case("fit percentile 150", "fraud", [*FIT, "--threshold-value=150"], "--threshold-value")
for name, config in {"epochs NaN": '{"epochs": NaN}', "epochs 1e999": '{"epochs": 1e999}',
                     "epochs text": '{"epochs": "3"}', "seed -1": '{"seed": -1}', "test_size NaN": '{"test_size": NaN}',
                     "ae_weight -1": '{"ae_weight": -1}',
                     "unknown key": '{"nosuch": 1}', "not an object": "[1]", "neighbors 0.5": '{"neighbors": 0.5}',
                     "method": '{"method": "x"}', "broken JSON": '{"epochs": 1'}.items():
    case(f"fit config {name}", "fraud", [*FIT, "--config", "c.json"], "c.json", setup=write("c.json", config))
case("fit without --out, not in config either", "fraud", ["fit", "--input", "train.csv", "--config", "c.json"],
     "--out", setup=write("c.json", '{"epochs": 1}'))
case("fit --amount-column NoSuch", "fraud", [*FIT, "--amount-column", "NoSuch"], "--amount-column", "NoSuch")
case("fit --time hour --time-column NoSuch", "fraud", [*FIT, "--time", "hour", "--time-column", "NoSuch"],
     "--time-column", "NoSuch")
case("fit --drop NoSuch", "fraud", [*FIT, "--drop", "NoSuch"], "NoSuch")
case("fit --label-column NoSuch", "fraud", [*FIT, "--label-column", "NoSuch"], "NoSuch", "none")
case("fit --test-size 0.001", "fraud", [*FIT, "--test-size", "0.001", "--epochs", "1"], "--test-size")
case("fit --sep empty", "fraud", [*FIT, "--sep", ""], "--sep")
case("fit --sep beyond ASCII", "fraud", [*FIT, "--sep", "\u00e9"], "--sep", "ASCII")
case("fit --drop a column twice", "fraud", [*FIT, "--drop", "V1", "V1"], "--drop", "'V1' twice")
case("fit --drop the label", "fraud", [*FIT, "--drop", "Class"], "--drop", "none on the command line")
case("fit --time hour, a Time with no hour of day", "fraud", [*FIT[:2], "late.csv", *FIT[3:], "--time", "hour"],
     "late.csv", "row 3", "'Time'", "2**53",
     setup=lambda w: (w / "late.csv").write_text(cell(3, 0, "1e20")((w / "train.csv").read_text())))

# ------------------------------------------------------------------------------------------ score, evaluate
SCORE = ["score", "--model", "model", "--input", "new.csv", "--out", "s.csv", "--quiet"]
EVAL = ["evaluate", "--model", "model", "--input", "new.csv", "--out", "e.json", "--quiet"]
for option, value in [("--chunksize", "0"), ("--chunksize", "-5"), ("--chunksize", "nan"), ("--top", "0"),
                      ("--top", "nan"), ("--unscorable", "bogus"), ("--engine", "bogus")]:
    case(f"score {option} {value}", "fraud", [*SCORE, f"{option}={value}"], option)
for argv, fragment in [(["--threshold-rule", "value", "--threshold-value=nan"], "--threshold-value"),
                       (["--threshold-rule", "percentile", "--threshold-value=150"], "--threshold-value"),
                       (["--threshold-value=3"], "--threshold-rule"), (["--threshold-rule", "f1x"], "f1x")]:
    case(f"score {' '.join(argv)}", "fraud", [*SCORE, *argv], fragment)
    case(f"evaluate {' '.join(argv)}", "fraud", [*EVAL, *argv], fragment)
case("evaluate --chunksize 0", "fraud", [*EVAL, "--chunksize=0"], "--chunksize")
case("evaluate --unscorable bogus", "fraud", [*EVAL, "--unscorable=bogus"], "--unscorable")

# ------------------------------------------------------------------------------------------------ fraud demo
DEMO = ["demo", "--out", "demo"]
for argv, fragment in [(["--rows", "10"], "--rows"), (["--epochs", "0"], "--epochs"), (["--seed", "-1"], "--seed"),
                       (["--rows", "nan"], "--rows")]:
    case(f"demo {' '.join(argv)}", "fraud", [*DEMO, *argv], fragment)
for out in ("notes.txt", "userdir", "."):
    case(f"demo --out {out}", "fraud", ["demo", "--out", out, "--rows", "2000", "--epochs", "1"], "--out")

# --------------------------------------------------------------------------------------- outputs: never ours
def link(name: str, target: str) -> Callable:
    def setup(w):
        os.symlink(w / target, w / name)
    return setup


def user_dir_with_input(w):
    shutil.copy(w / "train.csv", w / "userdir" / "train.csv")


for out, fragment, setup in [("notes.txt", "existing file", None), ("userdir", "existing directory", None),
                             (".", "--out", None), ("train.csv", "input", None), ("notes.txt/m", "notes.txt", None),
                             ("linked", "symbolic link", link("linked", "model")),
                             ("scored.csv", "existing file", None)]:
    case(f"fit --out {out}", "fraud", ["fit", "--input", "train.csv", "--out", out, "--epochs", "1"], fragment,
         setup=setup)
case("fit --out a directory holding the input", "fraud",
     ["fit", "--input", "userdir/train.csv", "--out", "userdir", "--epochs", "1"], "userdir", setup=user_dir_with_input)
for out, fragment, setup in [("notes.txt", "existing file", None), ("userdir", "existing directory", None),
                             ("new.csv", "input", None), ("model", "model", None), ("model/x.csv", "inside", None),
                             ("model/validation.npz", "inside", None), (".", "--out", None),
                             ("notes.txt/x.csv", "notes.txt", None), ("link.csv", "symbolic link",
                                                                      link("link.csv", "scored.csv")),
                             ("metrics.json", "existing file", None),
                             ("userdir/../userdir", "existing directory", None)]:
    case(f"score --out {out}", "fraud", ["score", "--model", "model", "--input", "new.csv", "--out", out, "--quiet"],
         fragment, setup=setup)
for out, fragment in [("notes.txt", "existing file"), ("model/detector.json", "inside"), ("new.csv", "input"),
                      ("userdir", "existing directory"), ("scored.csv", "existing file"), (".", "--out"),
                      ("model", "model")]:
    case(f"evaluate --out {out}", "fraud", ["evaluate", "--model", "model", "--input", "new.csv", "--out", out,
                                            "--quiet"], fragment)
for command, argv in [("train", ["--epochs", "1"]), ("anomaly", ["--epochs", "1"]), ("font", ["--max-epochs", "1"])]:
    for out, fragment in [("notes.txt", "existing file"), ("userdir", "existing directory"), (".", "--out"),
                          ("model", "existing directory")]:
        case(f"{command} --out {out}", command, [*argv, "--out", out], fragment)
for command, argv in [("train", ["--epochs", "1", "--dataset", "mnist-sample"]),
                      ("anomaly", ["--epochs", "1", "--dataset", "mnist-sample"]), ("font", ["--max-epochs", "1"]),
                      ("experiment", ["--config", "sweep.json"])]:  # the folders above the name are not left behind
    case(f"{command} --out a name too long, inside new directories", command, [*argv, "--out", f"new/sub/{'n' * 300}"],
         "too long", setup=write("sweep.json", json.dumps({"name": "t", "dataset": "font5x7", "arch": "font",
                                                          "n_runs": 1, "grid": {"epochs": [1]}})))
SWEEP = json.dumps({"name": "t", "dataset": "font5x7", "arch": "font", "n_runs": 1, "grid": {"epochs": [1]}})
for out, fragment in [("notes.txt", "existing file"), ("userdir", "existing directory"), ("", "--out '': empty path")]:
    case(f"experiment --out {out}", "experiment", ["--config", "sweep.json", "--out", out], fragment,
         setup=write("sweep.json", SWEEP))


# ------------------------------------------------------------------------------- tables that cannot be used
TABLES = {
    "an empty cell": (edit_table("bad.csv", cell(5, 3, "")), ["row 5", "'V3'"]),
    "a non-numeric cell": (edit_table("bad.csv", cell(5, 3, "abc")), ["row 5", "'V3'", "abc"]),
    "an infinite cell": (edit_table("bad.csv", cell(7, 2, "inf")), ["row 7", "'V2'", "infinite"]),
    "a cell beyond float32": (edit_table("bad.csv", cell(9, 4, "1e39")), ["row 9", "'V4'", "float32"]),
    "a negative cell beyond float32": (edit_table("bad.csv", cell(9, 4, "-1e39")), ["row 9", "float32"]),
    "a cell of 1e308": (edit_table("bad.csv", cell(3, 1, "1e308")), ["row 3", "'V1'"]),
    "a NaN cell": (edit_table("bad.csv", cell(4, 6, "NaN")), ["row 4", "'V6'"]),
    "V1 twice in the header": (edit_table("bad.csv", lambda t: t.replace("V2,", "V1,", 1)), ["'V1'", "twice"]),
    "a missing column": (edit_table("bad.csv", lambda t: "\n".join(
        ",".join(f for j, f in enumerate(line.split(",")) if j != 5) for line in t.splitlines()) + "\n"), ["'V5'"]),
    "only a header": (edit_table("bad.csv", lambda t: t.splitlines()[0] + "\n"), ["no data rows"]),
    "semicolons": (edit_table("bad.csv", lambda t: t.replace(",", ";")), ["';'"]),
    "an extra field": (edit_table("bad.csv", cell(2, 0, "1,2")), ["bad.csv"]),
    "nothing in it": (write("bad.csv", ""), ["empty"]),
    "a truncated gzip": (lambda w: (w / "bad.csv.gz").write_bytes(gzip.compress((w / "new.csv").read_bytes())[:500]),
                         ["bad.csv.gz"]),
}


def latin1(w):
    raw = (w / "new.csv").read_bytes()
    cut = raw.index(b"\n", 2000) + 5
    (w / "bad.csv").write_bytes(raw[:cut] + b"\xe9" + raw[cut:])


TABLES["a latin-1 byte"] = (latin1, ["UTF-8", "byte"])
for name, (setup, fragments) in TABLES.items():
    source = "bad.csv.gz" if "gzip" in name else "bad.csv"
    case(f"score {name}", "fraud", ["score", "--model", "model", "--input", source, "--out", "s.csv", "--quiet"],
         source, *fragments, setup=setup)
    case(f"evaluate {name}", "fraud", ["evaluate", "--model", "model", "--input", source, "--quiet"], source,
         *fragments, setup=setup)
    if name not in ("a missing column",):
        case(f"fit {name}", "fraud", ["fit", "--input", source, "--out", "m", "--epochs", "1"], source, *fragments,
             setup=setup)
for command in ("score", "evaluate"):
    case(f"{command} a missing input", "fraud", [command, "--model", "model", "--input", "nosuch.csv", "--out",
                                                 "x.json" if command == "evaluate" else "s.csv"], "nosuch.csv")
    case(f"{command} a directory without Parquet", "fraud", [command, "--model", "model", "--input", "userdir",
                                                             "--out", "x.json" if command == "evaluate" else "s.csv"],
         "userdir")
case("fit a missing input", "fraud", ["fit", "--input", "nosuch.csv", "--out", "m"], "nosuch.csv")
case("fit a table without the label column it names", "fraud",
     ["fit", "--input", "features.csv", "--out", "m", "--label-column", "Label"], "'Label'", "none",
     setup=edit_table("features.csv", lambda t: "\n".join(line.rsplit(",", 1)[0] for line in t.splitlines()) + "\n"))


# --------------------------------------------------------------------------------- damaged or edited models
def damage(change: Callable, manifest: bool = False) -> Callable:
    """Change the model directory; with `manifest`, recompute its manifest (an edit made to look genuine)."""
    def setup(w):
        change(w / "model")
        if manifest:
            from keras_ae.fraud import bundle

            bundle.write_manifest(w / "model")
    return setup


def npz_edit(name: str, edit: Callable[[dict], dict]) -> Callable:
    def change(model):
        with np.load(model / name, allow_pickle=False) as f:
            arrays = edit(dict(f))
        np.savez(model / name, **arrays)
    return change


def json_edit(name: str, edit: Callable[[dict], None]) -> Callable:
    def change(model):
        data = json.loads((model / name).read_text())
        edit(data)
        (model / name).write_text(json.dumps(data))
    return change


def first_weight(arrays):
    key = sorted(arrays)[0]
    arrays[key] = np.full_like(arrays[key], np.nan)
    return arrays


def flip_byte(name):
    def change(model):
        raw = bytearray((model / name).read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        (model / name).write_bytes(bytes(raw))
    return change


MODELS = {
    "a changed byte in weights.npz": (damage(flip_byte("weights.npz")), "weights.npz"),
    "a changed byte in detector.json": (damage(flip_byte("detector.json")), "detector.json"),
    "a changed byte in reference.npz": (damage(flip_byte("reference.npz")), "reference.npz"),
    "no validation.npz": (damage(lambda m: (m / "validation.npz").unlink()), "validation.npz"),
    "no manifest (an older format)": (damage(lambda m: (m / "manifest.json").unlink()), "model"),
    "detector.json holding []": (damage(lambda m: (m / "detector.json").write_text("[]"), True), "detector.json"),
    "NaN weights": (damage(npz_edit("weights.npz", first_weight), True), "weights.npz"),
    "a scale of 0": (damage(json_edit("preprocessing.json", lambda d: d["scale"].__setitem__(2, 0.0)), True),
                     "preprocessing.json"),
    "a wrong weight shape": (damage(npz_edit("weights.npz", lambda a: {**a, "m0_l0_W": a["m0_l0_W"][:-1]}), True),
                             "weights.npz"),
    "a short activation list": (damage(json_edit("detector.json", lambda d: d["member_activations"][0].pop()), True),
                                "detector.json"),
    "an unknown activation": (damage(json_edit("detector.json", lambda d: d["member_activations"][0].__setitem__(
        0, "swish")), True), "detector.json"),
    "an empty validation.npz": (damage(npz_edit("validation.npz", lambda a: {"scores": np.zeros(0),
                                                                               "labels": np.zeros(0, np.int8)}),
                                       True), "validation.npz"),
    "an empty reference.npz": (damage(npz_edit("reference.npz", lambda a: {"reference": np.zeros((0, 0),
                                                                                                 np.float32)}),
                                      True), "reference.npz"),
    "member scales of 0": (damage(json_edit("detector.json", lambda d: d.__setitem__(
        "member_scales", [0.0] * len(d["member_scales"]))), True), "detector.json"),
    "a pickled array": (damage(lambda m: np.savez(m / "weights.npz", m0_l0_W=np.array([{"a": 1}], dtype=object)),
                               True), "weights.npz"),
    "random bytes as weights.npz": (damage(lambda m: (m / "weights.npz").write_bytes(os.urandom(300))),
                                    "weights.npz"),
}
for name, (setup, fragment) in MODELS.items():
    case(f"score a model with {name}", "fraud", SCORE, fragment, setup=setup)
    case(f"evaluate a model with {name}", "fraud", EVAL, fragment, setup=setup)
case("score a model that does not exist", "fraud", [*SCORE[:2], "nomodel", *SCORE[3:]], "nomodel")
case("score a model path that is a file", "fraud", [*SCORE[:2], "notes.txt", *SCORE[3:]], "notes.txt")


# ---------------------------------------------------------------------------------------------- the API
def fit_small(**params):
    def run(w):
        from keras_ae.fraud import FraudDetector

        FraudDetector(verbose=0, **params).fit(pd.read_csv(w / "train.csv").head(300))
    return run


for param, values in {"learning_rate": [float("nan"), float("inf"), -1.0, 0.0], "epochs": [0, float("nan"), 1.5],
                      "seed": [-1, 2**32, 2**40], "n_models": [0], "validation_fraction": [0.0, 1.0, float("nan")],
                      "noise": [-1.0, float("nan")], "clip": [0.0], "trim_fraction": [0.5], "n_neighbors": [0],
                      "ae_weight": [float("nan")], "max_reference": [1], "hidden": [[0], "8"], "batch_size": [0],
                      "method": ["x"], "time_mode": ["x"], "unscorable": ["x"],
                      "threshold_value": [float("nan")]}.items():
    for value in values:
        case(f"FraudDetector({param}={value!r})", "api", fit_small(**{param: value}), param)
case("FraudDetector(amount_column='NoSuch')", "api", fit_small(amount_column="NoSuch"), "amount_column")
case("FraudDetector(n_neighbors beyond the rows)", "api", fit_small(n_neighbors=100_000, epochs=1), "n_neighbors")


def score_api(method: str, value, dtype: str = "float64", as_array: bool = False):
    def run(w):
        from keras_ae.fraud import FraudDetector

        detector = FraudDetector.load(w / "model")
        frame = pd.read_csv(w / "new.csv").drop(columns="Class").head(20)
        frame = frame.astype(dtype)
        frame.iloc[4, 3] = value
        getattr(detector, method)(frame.to_numpy() if as_array else frame)
    return run


for method in ("score_samples", "predict", "decision_function", "explain"):
    for value in (np.nan, np.inf, -np.inf, 1e39):
        case(f"{method} a float64 frame with {value}", "api", score_api(method, value), "row 5", "V3")
case("score_samples a float32 frame with NaN", "api", score_api("score_samples", np.nan, "float32"), "row 5")
case("score_samples an object frame with text", "api", score_api("score_samples", "abc", "object"), "abc")
case("score_samples an array with NaN", "api", score_api("score_samples", np.nan, as_array=True), "row 5")


# ------------------------------------------------------------------------------- image commands, values
for command, base in [("train", ["--out", "run"]), ("anomaly", ["--out", "run"]), ("font", ["--out", "run"])]:
    for option, value in [("--lr", "nan"), ("--lr", "inf"), ("--lr", "0"), ("--lr", "-1"), ("--seed", "-1"),
                          ("--seed", "4294967296")]:
        case(f"{command} {option} {value}", command, [*base, f"{option}={value}"], option)
    case(f"{command} config epochs NaN", command, [*base, "--config", "c.json"], "c.json",
         setup=write("c.json", '{"seed": NaN}'))
for option, value in [("--beta", "nan"), ("--beta", "-1"), ("--kl-warmup", "-1"), ("--noise", "1.5"),
                      ("--noise", "nan"), ("--epochs", "0"), ("--batch-size", "1.5"), ("--epochs", "1e999"),
                      ("--beta", "1e308"), ("--capacity", "1e300"), ("--lr", "1e39"),
                      ("--steps-per-execution", "2147483648")]:
    case(f"train {option} {value}", "train", ["--arch", "vae", "--out", "run", f"{option}={value}"], option)
case("font --steps 1e9 (a picture of a billion glyphs)", "font", ["--out", "run", "--steps", "1e9"], "--steps",
     "[2, 100]")
case("fraud demo --rows 1e12 (tables made in memory)", "fraud", ["demo", "--out", "demo", "--rows", "1e12"], "--rows")


# ------------------------------------------------------------------------------------------ two at once
def held(out: str) -> Callable:
    """Another command is writing `out`: its lock is held (by this test process) while the case runs."""
    def setup(w):
        from keras_ae.locks import lock_path

        lock = lock_path((w / out).resolve())
        fd = os.open(lock, os.O_CREAT | os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"4242")
        HELD.append((fd, lock))
    return setup


HELD: list = []
case("score while another score writes the output", "fraud", [*SCORE[:-2], "scored.csv", "--quiet"],
     "another command", setup=held("scored.csv"))
case("evaluate while another evaluate writes the output", "fraud", [*EVAL[:-2], "metrics.json", "--quiet"],
     "another command", setup=held("metrics.json"))
case("fit while another fit writes the model", "fraud", ["fit", "--input", "train.csv", "--out", "model", "--epochs",
                                                         "1"], "another command", setup=held("model"))


def running(w):
    (w / "run").mkdir()
    (w / "run" / ".keras-ae-run.json").write_text('{"kind": "keras_ae.run"}')
    (w / "run" / "UNFINISHED.json").write_text(json.dumps({"state": "running", "pid": os.getppid(), "run": "train"}))


case("train into a run directory another train is writing", "train", ["--out", "run", "--epochs", "1"],
     "another run", setup=running)


def font_run(w):
    (w / "run").mkdir()
    (w / "run" / ".keras-ae-run.json").write_text('{"kind": "keras_ae.run", "run": "font"}')
    (w / "run" / "font.json").write_text('{"the font run": "its report"}')


case("fraud demo into the directory of a font run", "fraud", ["demo", "--out", "run", "--rows", "2000", "--epochs",
                                                              "1"], "font run", setup=font_run)


def users_results(w):
    """A directory of the user's holding files named like an old run's (metrics.json, summary.csv)."""
    (w / "results").mkdir()
    (w / "results" / "metrics.json").write_text('{"acc": 0.99, "my": "precious"}')
    (w / "results" / "summary.csv").write_text("a,b\n1,2\n")


def users_font_project(w):
    (w / "fontproj").mkdir()
    (w / "fontproj" / "font.json").write_text('{"family": "mine"}')
    (w / "fontproj" / "style.css").write_text("body {}\n")


case("train into the user's directory holding metrics.json and summary.csv", "train",
     ["--out", "results", "--epochs", "1"], "results", "not a keras-ae run", setup=users_results)
case("train into the user's directory holding a font.json", "train",
     ["--out", "fontproj", "--epochs", "1"], "fontproj", "not a keras-ae run", setup=users_font_project)


def zip_of(*members: str) -> Callable:
    def setup(w):
        import zipfile

        with zipfile.ZipFile(w / "in.zip", "w") as archive:
            for name in members:
                archive.write(w / "new.csv", name)
    return setup


for members, problem in ((("a.csv", "b.csv"), "Multiple files found in ZIP file"), ((), "Zero files found")):
    case(f"score a zip archive of {len(members)} files", "fraud",
         ["score", "--model", "model", "--input", "in.zip", "--out", "s.csv", "--quiet"], "in.zip", problem,
         setup=zip_of(*members))
    case(f"evaluate a zip archive of {len(members)} files", "fraud",
         ["evaluate", "--model", "model", "--input", "in.zip", "--out", "e.json", "--quiet"], "in.zip", problem,
         setup=zip_of(*members))


case("score --out a workbook name", "fraud", [*SCORE[:-3], "--out", "s.xlsx", "--quiet"], "s.xlsx", "not .xlsx")
case("score --out a document name", "fraud", [*SCORE[:-3], "--out", "s.pdf", "--quiet"], "s.pdf", "not .pdf")
case("score --out a file name ending in /", "fraud", [*SCORE[:-3], "--out", "s.parquet/", "--quiet"], "s.parquet/",
     "asks for a directory", "(s)")
case("score --out a compressed Parquet name", "fraud", [*SCORE[:-3], "--out", "s.parquet.gz", "--quiet"],
     "s.parquet.gz", "writes CSV, not .parquet", "s.csv.gz", "s.parquet")
case("score --out a tar name", "fraud", [*SCORE[:-3], "--out", "s.csv.tar", "--quiet"], "s.csv.tar", "not .tar")
case("score --out a compressed tar name", "fraud", [*SCORE[:-3], "--out", "s.csv.tar.gz", "--quiet"],
     "s.csv.tar.gz", "writes CSV, not .tar", "name it s.csv.gz for CSV, or s.parquet")
case("score --sep a character numbers are written with", "fraud", [*SCORE[:-3], "--out", "s.csv", "--sep", ".",
                                                                    "--quiet"], "--sep", "numbers are written with")
case("score --out - (standard output)", "fraud", [*SCORE[:-3], "--out", "-", "--quiet"], "standard output")
case("evaluate --out a CSV name", "fraud", [*EVAL[:-3], "--out", "e.csv", "--quiet"], "e.csv", "name a .json file")


# ------------------------------------------------------------------------- found by a review of the above
def user_dataset(w):
    """A directory holding an earlier scored Parquet part and the user's own file."""
    import pandas as pd

    (w / "results").mkdir()
    pd.read_csv(w / "scored.csv").to_parquet(w / "results" / "part-00000.parquet")
    (w / "results" / "notes.xlsx").write_bytes(b"the user's workbook")


def model_with_user_file(w):
    (w / "model" / "my_notes.txt").write_text("mine\n")


def config_inside_model(w):
    (w / "model" / "fit.json").write_text('{"out": "model", "input": "train.csv", "epochs": 1}')


def planted_lock(w):
    os.symlink(w / "notes.txt", w / ".s.csv.lock")


case("score --out a directory of the user's beside a scored part", "fraud",
     ["score", "--model", "model", "--input", "new.csv", "--out", "results", "--quiet"], "results",
     setup=user_dataset)
case("fit --out a model directory holding a user's file", "fraud",
     ["fit", "--input", "train.csv", "--out", "model", "--epochs", "1"], "model", setup=model_with_user_file)
case("fit --config inside the model it would replace", "fraud", ["fit", "--config", "model/fit.json"], "model",
     setup=config_inside_model)
case("score with a symbolic link planted as the lock file", "fraud", SCORE, "lock", setup=planted_lock)


def hidden_only(name: str) -> Callable:
    """A directory of the user's that holds only hidden files (a repository, secrets): not empty, not ours."""
    def setup(w):
        (w / name / ".git").mkdir(parents=True)
        (w / name / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (w / name / ".env").write_text("TOKEN=secret\n")
    return setup


def users_lock_named_file(w):
    (w / ".s.csv.lock").write_text("the user's notes, named like a lock file\n")


def model_under_git(w):
    (w / "model" / ".git").mkdir()
    (w / "model" / ".gitignore").write_text("*.npz\n")


case("train --config with an integer of 5,000 digits", "train", ["--out", "run", "--config", "c.json"], "c.json",
     "cannot be read", setup=write("c.json", '{"epochs": ' + "9" * 5000 + "}"))
case("fit --config with an integer of 5,000 digits", "fraud", ["fit", "--config", "c.json"], "c.json",
     setup=write("c.json", '{"input": "train.csv", "out": "m", "seed": ' + "9" * 5000 + "}"))
LONG = "n" * 300  # a name over the 255 bytes a file system allows
case("score --out a name too long", "fraud", [*SCORE[:-3], "--out", f"{LONG}.csv", "--quiet"], "too long")
case("score --input a name too long", "fraud", ["score", "--model", "model", "--input", f"{LONG}.csv", "--out", "s.csv",
                                                "--quiet"], "too long")
case("fit --out a name too long, inside a new directory", "fraud",
     ["fit", "--input", "train.csv", "--out", f"new/{LONG}", "--epochs", "1"], "too long")
case("train --out a name too long", "train", ["--out", LONG, "--epochs", "1"], "too long")
case("fit --out a directory holding only hidden files", "fraud",
     ["fit", "--input", "train.csv", "--out", "mine", "--epochs", "1"], "mine", "not a keras-ae",
     setup=hidden_only("mine"))
case("score --out a Parquet folder name holding only hidden files", "fraud",
     ["score", "--model", "model", "--input", "new.csv", "--out", "mine", "--quiet"], "mine", "not a keras-ae",
     setup=hidden_only("mine"))
case("train --out a directory holding only hidden files", "train", ["--out", "mine", "--epochs", "1"], "mine",
     "not a keras-ae run", setup=hidden_only("mine"))
case("fit --out a model directory under version control", "fraud",
     ["fit", "--input", "train.csv", "--out", "model", "--epochs", "1"], "model", setup=model_under_git)
case("score with a user's file where the lock file goes", "fraud", SCORE, ".s.csv.lock", "not a keras-ae lock",
     setup=users_lock_named_file)
case("score with a user's file of digits where the lock file goes", "fraud", SCORE, ".s.csv.lock",
     "not a keras-ae lock", setup=write(".s.csv.lock", "20240115\n"))


def copied_run_files(report: str, text: str, beside: str):
    """A folder of the user's holding a run's report and a model copied from a run, beside files of theirs."""
    def setup(w):
        (w / "mine").mkdir()
        (w / "mine" / report).write_text(text)
        (w / "mine" / beside).write_text("model")
        for name in ("results.csv", "summary.csv", "history.csv"):
            (w / "mine" / name).write_text("the user's\n")
    return setup


case("train --out a folder holding a font run's copied font.json", "train", ["--out", "mine", "--epochs", "1"],
     "mine", "not a keras-ae run",
     setup=copied_run_files("font.json", '{"options": {"epochs": 1}, "pictures": ["loss.png"]}', "encoder.keras"))
case("train --out a folder holding a run's copied metrics.json and model", "train", ["--out", "mine", "--epochs", "1"],
     "mine", "not a keras-ae run",
     setup=copied_run_files("metrics.json", '{"options": {"epochs": 1}, "test_bce": 0.1}', "autoencoder.keras"))


def api_frame(change: Callable):
    def run(w):
        from keras_ae.fraud import FraudDetector

        frame = pd.read_csv(w / "new.csv").drop(columns="Class").head(20)
        FraudDetector.load(w / "model").score_samples(change(frame))
    return run


def with_nat(frame):
    frame = frame.copy()
    frame["Time"] = pd.to_datetime(frame["Time"], unit="s")
    frame.loc[3, "Time"] = pd.NaT
    return frame


case("score_samples a datetime column with NaT", "api", api_frame(with_nat), "'Time'")
case("score_samples a frame naming a column twice", "api",
     api_frame(lambda f: pd.concat([f, f[["V1"]]], axis=1)), "'V1'", "twice")
case("FraudDetector(drop='id')", "api", fit_small(drop="id"), "drop")
case("FraudDetector(label_column='is_fraud') on a frame without it", "api", fit_small(label_column="is_fraud"),
     "is_fraud")


def zipped(name: str) -> Callable:
    """new.csv compressed as `name` (.zip or .xz), which one process reads and Spark does not."""
    def setup(w):
        pd.read_csv(w / "new.csv").to_csv(w / name, index=False)
    return setup


# ------------------------------------------------------------------- Spark: found before the JVM starts
SPARK = ["score", "--engine", "spark", "--master", "local[1]", "--model", "model", "--input", "new.csv", "--out",
         "sp"]
for name, argv, fragment, setup in [
        ("a missing input", ["--input", "nosuch.csv"], "nosuch.csv", None),
        ("a missing model", ["--model", "nomodel"], "nomodel", None),
        ("a damaged model", [], "weights.npz", damage(flip_byte("weights.npz"))),
        ("a missing column", ["--input", "bad.csv"], "'V5'", TABLES["a missing column"][0]),
        ("a header-only file", ["--input", "bad.csv"], "no data rows", TABLES["only a header"][0]),
        ("V1 twice", ["--input", "bad.csv"], "twice", TABLES["V1 twice in the header"][0]),
        ("--master bogus://x", ["--master", "bogus://x"], "--master", None),
        ("--out a user's file", ["--out", "notes.txt"], "notes.txt", None),
        ("--out a user's directory", ["--out", "userdir"], "userdir", None),
        ("--out inside the model", ["--out", "model/sp"], "model", None),
        ("--threshold-value nan", ["--threshold-rule", "value", "--threshold-value=nan"], "--threshold-value", None),
        ("--top 0", ["--top", "0"], "--top", None),
        ("a zipped CSV", ["--input", "new.csv.zip"], ".zip", zipped("new.csv.zip")),
        ("an xz CSV", ["--input", "new.csv.xz"], "--engine local", zipped("new.csv.xz"))]:
    replaced = list(SPARK)
    for flag, value in zip(argv[::2], argv[1::2]):
        if flag in replaced:
            replaced[replaced.index(flag) + 1] = value
        else:
            replaced += [flag, value]
    if argv and "=" in argv[-1]:
        replaced.append(argv[-1])
    case(f"spark {name}", "spark", replaced, fragment, setup=setup)


# ------------------------------------------------------------------- found by a later probe of the commands
def renamed(name: str, old: str, new: str) -> Callable:
    """A copy of train.csv as `name` with column `old` renamed `new` in its header."""
    def setup(w):
        lines = (w / "train.csv").read_text().split("\n", 1)
        (w / name).write_text(",".join(new if c == old else c for c in lines[0].split(",")) + "\n" + lines[1])
    return setup


for column in ("flag", "score", "p_value", "unscorable_reason"):
    case(f"fit a feature column named {column}", "fraud",
         ["fit", "--input", "named.csv", "--out", "m", "--epochs", "1"], f"column '{column}'",
         "named like a column that scoring adds", setup=renamed("named.csv", "V2", column))
case("fit a dropped column named score", "fraud",
     ["fit", "--input", "named.csv", "--out", "m", "--epochs", "1", "--drop", "score"], "column 'score'",
     setup=renamed("named.csv", "V2", "score"))


def model_copy(w):
    """Another fraud model, with the metrics.json `fit` writes (the fields of an older `evaluate` output)."""
    shutil.copytree(w / "model", w / "model2")
    (w / "model2" / "metrics.json").write_text(json.dumps({"roc_auc": 0.97, "threshold_rule": {"rule": "alpha"}}))
    manifest = json.loads((w / "model2" / "manifest.json").read_text())
    manifest["files"]["metrics.json"] = {"sha256": "0" * 64, "bytes": 1}
    (w / "model2" / "manifest.json").write_text(json.dumps(manifest))


case("evaluate --out another model's metrics.json", "fraud",
     ["evaluate", "--model", "model", "--input", "new.csv", "--out", "model2/metrics.json", "--quiet"],
     "model2/metrics.json", "not a keras-ae", setup=model_copy)
case("fit a CSV with blank lines above its header", "fraud",
     ["fit", "--input", "blank.csv", "--out", "m", "--epochs", "1"], "blank.csv", "line 1 holds no column names",
     setup=edit_table("blank.csv", lambda text: "\n\n" + text))
case("score a CSV whose first line is spaces", "fraud",
     ["score", "--model", "model", "--input", "blank.csv", "--out", "s.csv", "--quiet"], "line 1",
     setup=edit_table("blank.csv", lambda text: "  \n" + text))
case("fit --time-column that is not there (time dropped)", "fraud", [*FIT, "--time-column", "Nope"],
     "--time-column", "Nope")
case("fit --amount-column the time column", "fraud", [*FIT, "--amount-column", "Time"], "Time")
case("score --out a .tsv name with a comma input", "fraud", [*SCORE[:-3], "--out", "s.tsv", "--quiet"], "s.tsv",
     ".csv")
case("spark --out a .csv name", "spark", ["score", "--engine", "spark", "--model", "model", "--input", "new.csv",
                                          "--out", "sp.csv", "--quiet"], "sp.csv", "Parquet")
case("anomaly --score ''", "anomaly", ["--out", "run", "--score", ""], "score")
for argv, fragment in [(["--arch", "dense", "--beta", "2"], "--beta"), (["--arch", "conv", "--kl-warmup", "3"],
                                                                        "--kl-warmup"),
                       (["--arch", "vae", "--capacity-epochs", "3"], "--capacity-epochs"),
                       (["--arch", "dense", "--noise-kind", "salt-pepper"], "--noise-kind"),
                       (["--arch", "denoise", "--noise", "0", "--noise-kind", "salt-pepper"], "--noise-kind"),
                       (["--arch", "dense", "--cache"], "--cache"),
                       (["--arch", "dense", "--shuffle-buffer", "64"], "--shuffle-buffer")]:
    case(f"train {' '.join(argv)}: an option that would be ignored", "train", ["--out", "run", *argv], fragment)
for argv, fragment in [(["--noise-levels", "0.3"], "--noise-levels"), (["--copies", "4"], "--copies"),
                       (["--denoise", "--steps", "5"], "--steps"), (["--denoise", "--between", "a,b"], "--between"),
                       (["--denoise", "--max-epochs", "5"], "--max-epochs")]:
    case(f"font {' '.join(argv)}: an option that would be ignored", "font", ["--out", "run", *argv], fragment)


def one_huge_cell(w):
    """The normal rows of train.csv without labels (every row is fitted on, no hold-out), V3 of the 17th set to
    1e30: that one value would blind V3."""
    table = pd.read_csv(w / "train.csv")
    table = table[table["Class"] == 0].drop(columns=["Class"]).reset_index(drop=True)
    table.loc[16, "V3"] = 1e30
    table.to_csv(w / "huge.csv", index=False)


def huge_in_api(w):
    from keras_ae.fraud import FraudDetector

    FraudDetector(verbose=0, epochs=1).fit(pd.read_csv(w / "huge.csv"))


def few_normal_rows(w):
    table = pd.read_csv(w / "train.csv")
    table.loc[table.index[8:], "Class"] = 1
    table.to_csv(w / "few.csv", index=False)


case("fit a normal row whose one value would blind its column", "fraud",
     ["fit", "--input", "huge.csv", "--out", "m", "--verbose", "0"], "huge.csv, row 17 (line 18), column 'V3'",
     "1e+30", "standard deviation", "fit --drop V3", setup=one_huge_cell)
case("FraudDetector.fit with a value that would blind its column", "api", huge_in_api,
     "X, row 17 (position 16), column 'V3'", "FraudDetector(drop=[", setup=one_huge_cell)
case("fit with too few normal training rows", "fraud", ["fit", "--input", "few.csv", "--out", "m", "--verbose", "0"],
     "few.csv", "normal rows", setup=few_normal_rows)


case("score --out a name that is only an extension", "fraud", [*SCORE[:-3], "--out", ".csv", "--quiet"], "'.csv'",
     "only an extension")
case("score a table with a column the model was not fitted on", "fraud",
     ["score", "--model", "model", "--input", "extra.csv", "--out", "s2.csv", "--quiet"], "column 'foo'",
     "fit --drop foo", setup=edit_table("extra.csv", lambda text: "\n".join(
         line + (",foo" if i == 0 else ",1") for i, line in enumerate(text.splitlines())) + "\n"))


def images_with_a_broken_name(w):
    """Four good PNGs and a damaged one whose name holds a line break."""
    from tests.helpers import write_images

    write_images(w / "imgs", 4, size=(12, 12))
    (w / "imgs" / "bad\nname.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")


case("train on a folder whose damaged image's name holds a line break", "train",
     ["--dataset", "folder:imgs", "--arch", "dense", "--epochs", "1", "--out", "run"], "bad\\nname.png",
     setup=images_with_a_broken_name)



def images_and_a_sweep(w):
    from tests.helpers import write_images

    write_images(w / "imgs", 4, size=(12, 12))
    (w / "fold.json").write_text(json.dumps({"name": "t", "dataset": "folder:imgs", "arch": "dense",
                                             "grid": {"epochs": [1]}}))


case("experiment --out inside its folder: dataset", "experiment", ["--config", "fold.json", "--out", "imgs/run"],
     "lies inside the input imgs", setup=images_and_a_sweep)
case("experiment --out inside its config file", "experiment", ["--config", "fold.json", "--out", "fold.json/x"],
     "fold.json", setup=images_and_a_sweep)


# ----------------------------------------------------------------------------------------------- the runner
@pytest.fixture(scope="module")
def world(bundle, data, tmp_path_factory):
    """Tables, the fitted model, an earlier score and evaluate output, and a user's own files."""
    from keras_ae.cli.fraud import cli

    root = tmp_path_factory.mktemp("world")
    train, new = data
    train.head(1500).to_csv(root / "train.csv", index=False)
    new.head(300).to_csv(root / "new.csv", index=False)
    shutil.copytree(bundle, root / "model")
    assert cli(["score", "--model", str(root / "model"), "--input", str(root / "new.csv"), "--out",
                str(root / "scored.csv"), "--quiet"]) == 0
    assert cli(["evaluate", "--model", str(root / "model"), "--input", str(root / "new.csv"), "--out",
                str(root / "metrics.json"), "--quiet"]) == 0
    (root / "notes.txt").write_text("the user's notes\n")
    (root / "userdir").mkdir()
    (root / "userdir" / "keep.txt").write_text("keep me\n")
    return root


def tree(root) -> dict:
    """Every path under `root` (hidden ones too) with its SHA-256 (or "dir", or the link's target)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = "-> " + os.readlink(path)
            elif os.path.isdir(path):
                found[rel] = "dir"
            else:
                with open(path, "rb") as f:
                    found[rel] = hashlib.sha256(f.read()).hexdigest()
    return found


def run_command(command: str, argv, monkeypatch) -> int:
    import importlib

    if command == "spark":  # every case must be found before a JVM starts
        if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
            pytest.skip("Spark needs Java")
        pytest.importorskip("pyspark")
        from keras_ae.fraud import spark

        def no_jvm(*args, **kwargs):
            raise AssertionError("a JVM was started for a problem that can be found before")

        monkeypatch.setattr(spark, "session", no_jvm)
        command = "fraud"
    module = importlib.import_module(f"keras_ae.cli.{command}")
    try:
        return module.cli(list(argv))
    except SystemExit as stop:  # argparse's own errors exit from parse_args
        return stop.code


@pytest.mark.parametrize(("command", "argv", "fragments", "setup"), CASES)
def test_bad_input(command, argv, fragments, setup, world, tmp_path, monkeypatch, capsys):
    w = tmp_path / "w"
    shutil.copytree(world, w, symlinks=True)
    if setup is not None:
        setup(w)
    monkeypatch.chdir(w)
    before = tree(w)
    capsys.readouterr()
    try:
        if command == "api":
            with pytest.raises(UsageError, match=re.escape(fragments[0])) as caught:
                argv(w)
            message = str(caught.value)
            assert "\n" not in message, message
        else:
            code = run_command(command, argv, monkeypatch)
            err = capsys.readouterr().err.strip()
            assert code == 2, err
            assert len(err.splitlines()) == 1 and err.startswith("error: "), err
            message = err
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert tree(w) == before  # nothing created, nothing destroyed, old outputs byte-identical
    finally:
        while HELD:
            fd, lock = HELD.pop()
            os.close(fd)
            lock.unlink(missing_ok=True)


def test_the_probe_is_large_enough():
    assert len(CASES) >= 200
