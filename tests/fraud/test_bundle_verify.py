"""keras_ae.fraud.bundle: a damaged or edited model directory is refused on load with one line naming the file.

Every case copies the session's bundle, damages the copy and checks that `FraudDetector.load` raises a
one-line UsageError naming the damaged file (never a traceback, never a detector that scores NaN, flags
nothing or flags every row). Edits with the manifest recomputed (`write_manifest`) stand for someone who
edits files on purpose: the semantic checks must still catch them.
"""

import hashlib
import json
import os
import pathlib
import re
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from keras_ae.errors import UsageError  # noqa: E402
from keras_ae.fraud import FraudDetector, bundle  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
DAMAGED = "damaged or edited (SHA-256 differs from manifest.json); refit the model or restore the file"


@pytest.fixture
def model(bundle, tmp_path):
    """A copy of the session's bundle, free to damage."""
    return pathlib.Path(shutil.copytree(bundle, tmp_path / "model"))


def refused(directory, name, *fragments):
    """Loading `directory` fails with one line that names `name` (None: the directory) and every fragment."""
    where = f"{directory}/{name}: " if name else f"{directory}: "
    with pytest.raises(UsageError, match="^" + re.escape(where)) as info:
        FraudDetector.load(directory)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def edit_json(directory, name, change, manifest=True):
    path = directory / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    if manifest:
        bundle.write_manifest(directory)


def edit_npz(directory, name, change, manifest=True, **save):
    path = directory / name
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    changed = change(arrays)  # new arrays, or None when `change` edited them in place
    arrays = arrays if changed is None else changed
    with open(path, "wb") as f:
        np.savez(f, **arrays, **save)
    if manifest:
        bundle.write_manifest(directory)


def test_manifest_is_written_last_and_round_trip_scores_identically(detector, bundle, data):
    _, test = data
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["kind"] == "keras_ae.fraud.FraudDetector" and manifest["format"] == 2 == bundle_format(bundle)
    names = {p.name for p in bundle.iterdir() if p.name != "manifest.json"}
    assert set(manifest["files"]) == names
    assert {"detector.json", "preprocessing.json", "weights.npz", "reference.npz", "validation.npz",
            "member_0.keras", "member_1.keras"} <= names
    for name, entry in manifest["files"].items():
        assert len(entry["sha256"]) == 64 and entry["bytes"] == (bundle / name).stat().st_size
    assert manifest["arrays"]["weights.npz"]["m0_l0_W"] == {"shape": [len(detector.features_), detector.hidden_[0]],
                                                            "dtype": "float32"}
    assert manifest["arrays"]["validation.npz"]["labels"]["shape"] == [len(detector.validation_labels_)]
    assert (bundle / "manifest.json").stat().st_mtime_ns >= max(
        (bundle / name).stat().st_mtime_ns for name in names)
    loaded = FraudDetector.load(bundle)
    np.testing.assert_array_equal(loaded.score_samples(test), detector.score_samples(test))
    np.testing.assert_array_equal(loaded.predict(test), detector.predict(test))
    assert loaded.threshold_ == detector.threshold_


def bundle_format(directory):
    return json.loads((directory / "detector.json").read_text())["format"]


def test_a_changed_byte_in_any_listed_file_is_refused(model):
    for name in json.loads((model / "manifest.json").read_text())["files"]:
        path = model / name
        original = path.read_bytes()
        changed = bytearray(original)
        changed[len(changed) // 2] ^= 0x01
        path.write_bytes(bytes(changed))
        assert refused(model, name) == f"{model}/{name}: {DAMAGED}"
        path.write_bytes(original + b"\n")  # a different size is refused too
        refused(model, name, "damaged or edited")
        path.write_bytes(original)
    FraudDetector.load(model)


@pytest.mark.parametrize("name", ["weights.npz", "preprocessing.json", "member_1.keras"])
def test_a_deleted_file_is_refused(model, name):
    (model / name).unlink()
    assert refused(model, name) == (f"{model}/{name}: missing (listed in manifest.json); refit the model or "
                                    "restore the file")


def test_files_the_manifest_does_not_list_are_ignored_until_it_is_rewritten(model):
    (model / "notes.txt").write_text("reviewed by the fraud team\n")
    (model / ".hidden").write_text("editor state\n")
    FraudDetector.load(model)
    bundle.write_manifest(model)  # as a fit run does after writing its pictures and metrics.json
    files = json.loads((model / "manifest.json").read_text())["files"]
    assert "notes.txt" in files and ".hidden" not in files
    (model / "notes.txt").write_text("edited\n")
    refused(model, "notes.txt", "damaged or edited")
    (model / ".hidden").write_text("changed editor state\n")


def test_older_foreign_and_unfinished_directories(model, tmp_path):
    (model / "manifest.json").unlink()
    refused(model, "manifest.json", "missing: the bundle is incomplete")
    edit_json(model, "detector.json", lambda d: d.update(format=1), manifest=False)
    assert refused(model, None) == (f"{model}: a fraud model of an older format (1); fit it again with this "
                                    "version (keras-ae-fraud fit ...)")
    edit_json(model, "detector.json", lambda d: d.update(kind="something.else"), manifest=False)
    refused(model, "detector.json", "not a fraud detector bundle")
    (model / "detector.json").unlink()
    assert refused(model, None) == f"{model}: not a fraud detector bundle (no manifest.json or detector.json)"
    refused(tmp_path / "nowhere", None, "not a fraud detector bundle")


@pytest.mark.parametrize("manifest, fragment", [
    ("{not json", "not valid JSON"),
    ("[]", "not the manifest of a fraud detector"),
    ('{"kind": "other", "format": 2, "files": {}, "arrays": {}}', "not the manifest of a fraud detector"),
    ('{"kind": "keras_ae.fraud.FraudDetector", "format": 3, "files": {}, "arrays": {}}', "newer format (3)"),
    ('{"kind": "keras_ae.fraud.FraudDetector", "format": "2", "files": {}, "arrays": {}}', "'format' is '2'"),
    ('{"kind": "keras_ae.fraud.FraudDetector", "format": 2, "files": [], "arrays": {}}', "'files' and 'arrays'"),
])
def test_a_malformed_manifest_is_refused(model, manifest, fragment):
    (model / "manifest.json").write_text(manifest)
    refused(model, "manifest.json", fragment)


def test_manifest_entries_are_checked(model):
    path = model / "manifest.json"
    original = json.loads(path.read_text())
    cases = [
        (lambda m: m["files"].pop("weights.npz"), "does not list weights.npz"),
        (lambda m: m["files"].update({"../outside.txt": m["files"]["weights.npz"]}), "not a file inside"),
        (lambda m: m["files"]["weights.npz"].update(sha256="xyz"), "'sha256' (64 hex digits)"),
        (lambda m: m["files"]["weights.npz"].update(bytes=-1), "'bytes' (an integer >= 0)"),
        (lambda m: m["arrays"].pop("reference.npz"), "'arrays' lacks a valid record of reference.npz"),
    ]
    for change, fragment in cases:
        manifest = json.loads(json.dumps(original))
        change(manifest)
        path.write_text(json.dumps(manifest))
        refused(model, "manifest.json", fragment)
    manifest = json.loads(json.dumps(original))
    manifest["arrays"]["weights.npz"]["m0_l0_W"]["dtype"] = "float64"
    path.write_text(json.dumps(manifest))
    refused(model, "weights.npz", "array 'm0_l0_W' is float32", "manifest.json records float64")


def test_nan_weights_are_refused_even_with_the_manifest_recomputed(model):
    def poison(arrays):
        arrays["m1_l2_W"][0, 0] = np.nan
        arrays["m1_l2_b"][0] = np.inf

    edit_npz(model, "weights.npz", poison)
    assert refused(model, "weights.npz") == (f"{model}/weights.npz: array 'm1_l2_W' holds 1 non-finite value(s) "
                                             "(NaN or infinity); refit the model or restore the file")


def test_a_zero_scale_is_refused(model):
    features = json.loads((model / "preprocessing.json").read_text())["features"]

    def zero(d):
        d["scale"][features.index("V3")] = 0.0

    edit_json(model, "preprocessing.json", zero)
    assert refused(model, "preprocessing.json") == (f"{model}/preprocessing.json: 'scale' of feature 'V3' is 0, "
                                                    "not a finite number > 0; refit the model")


@pytest.mark.parametrize("field, value, fragment", [
    ("mean", float("nan"), "'mean' of feature 'V1' is nan"),
    ("var", -1.0, "'var' of feature 'V1' is -1"),
    ("scale", "1", "'scale' of feature 'V1' is '1'"),
])
def test_preprocessing_values_are_checked(model, field, value, fragment):
    features = json.loads((model / "preprocessing.json").read_text())["features"]
    edit_json(model, "preprocessing.json", lambda d: d[field].__setitem__(features.index("V1"), value))
    refused(model, "preprocessing.json", fragment)


def test_preprocessing_of_another_model_is_refused(model):
    edit_json(model, "preprocessing.json", lambda d: d.update(mean=d["mean"][:-1]))
    refused(model, "preprocessing.json", "'mean' must list")
    edit_json(model, "preprocessing.json", lambda d: d.update(time_mode="drop"))
    refused(model, "preprocessing.json", "'features' do not follow")


@pytest.mark.parametrize("key, shape, fragment", [
    ("m0_l1_W", (13, 7), "array 'm0_l1_W' has shape [13, 7]"),
    ("m0_l1_b", (6,), "array 'm0_l1_b' has shape [6]"),
    ("m1_l0_W", (31,), "array 'm1_l0_W' has shape [31]"),
])
def test_a_wrong_weight_shape_is_refused(model, key, shape, fragment):
    edit_npz(model, "weights.npz", lambda arrays: arrays.update({key: np.zeros(shape, np.float32)}))
    refused(model, "weights.npz", fragment)


def test_weights_of_another_architecture_are_refused(model):
    def narrower(arrays):  # a consistent chain, but not the one detector.json describes
        arrays["m0_l0_W"], arrays["m0_l0_b"] = arrays["m0_l0_W"][:, :10], arrays["m0_l0_b"][:10]
        arrays["m0_l1_W"] = arrays["m0_l1_W"][:10]
        arrays["m0_l2_W"], arrays["m0_l2_b"] = arrays["m0_l2_W"][:, :10], arrays["m0_l2_b"][:10]
        arrays["m0_l3_W"] = arrays["m0_l3_W"][:10]

    edit_npz(model, "weights.npz", narrower)
    refused(model, "detector.json", "'architecture' of member 0")
    edit_npz(model, "weights.npz", lambda arrays: arrays.update(m2_l0_W=arrays["m0_l0_W"]))
    refused(model, "weights.npz", "unexpected array 'm2_l0_W'")


def test_a_short_or_unknown_activation_list_is_refused(model):
    edit_json(model, "detector.json", lambda d: d["member_activations"][1].pop())
    assert refused(model, "detector.json") == (f"{model}/detector.json: 'member_activations' of member 1 lists 3 "
                                               "activation(s), weights.npz holds 4 layer(s); refit the model")
    edit_json(model, "detector.json", lambda d: d["member_activations"][1].append("tanh"))
    refused(model, "detector.json", "'member_activations' of member 1: unknown activation 'tanh'")
    edit_json(model, "detector.json", lambda d: d["member_activations"].pop())
    refused(model, "detector.json", "'member_activations' must list the activations of each of the 2 member(s)")


def test_an_empty_or_one_class_validation_file_is_refused(model):
    edit_npz(model, "validation.npz", lambda arrays: {})
    assert refused(model, "validation.npz") == (f"{model}/validation.npz: no array 'scores'; refit the model")
    edit_npz(model, "validation.npz", lambda arrays: {"scores": np.zeros(0), "labels": np.zeros(0, np.int8)})
    refused(model, "validation.npz", "no normal (0) row")
    edit_npz(model, "validation.npz", lambda arrays: {"scores": np.ones(5), "labels": np.ones(5, np.int8)})
    refused(model, "validation.npz", "no normal (0) row")
    edit_npz(model, "validation.npz", lambda arrays: {"scores": np.ones(5), "labels": np.array([0, 1, 2, 0, 0])})
    refused(model, "validation.npz", "'labels' must be 5 labels of 0 or 1")
    edit_npz(model, "validation.npz", lambda arrays: {"scores": np.ones(5), "labels": np.zeros(4, np.int8)})
    refused(model, "validation.npz", "'labels' must be 5 labels of 0 or 1")
    edit_npz(model, "validation.npz", lambda arrays: {"scores": np.ones((5, 1)), "labels": np.zeros(5, np.int8)})
    refused(model, "validation.npz", "'scores' must be a 1-D float array")


def test_an_empty_reference_file_is_refused(model):
    edit_npz(model, "reference.npz", lambda arrays: {})
    assert refused(model, "reference.npz") == (f"{model}/reference.npz: no array 'reference'; the neighbour part "
                                               "needs at least 1 float row of 31 features; refit the model")
    edit_npz(model, "reference.npz", lambda arrays: {"reference": np.zeros((0, 31), np.float32)})
    refused(model, "reference.npz", "array 'reference' of shape [0, 31]")
    edit_npz(model, "reference.npz", lambda arrays: {"reference": np.zeros((0, 0), np.float32)})
    refused(model, "reference.npz", "array 'reference' of shape [0, 0]")
    edit_npz(model, "reference.npz", lambda arrays: {"reference": np.zeros((5, 30), np.float32)})
    refused(model, "reference.npz", "array 'reference' of shape [5, 30]")


class _Trap:
    """Unpickling it creates a file: proof that loading never unpickles."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def test_an_object_array_is_refused_unread(model, tmp_path):
    marker = tmp_path / "unpickled"
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(marker)
    edit_npz(model, "weights.npz", lambda arrays: arrays.update(m0_l0_b=trap), allow_pickle=True)
    assert json.loads((model / "manifest.json").read_text())["arrays"]["weights.npz"]["m0_l0_b"]["dtype"] == "object"
    assert refused(model, "weights.npz") == (f"{model}/weights.npz: array 'm0_l0_b' holds Python objects (pickled "
                                             "data), refused unread; refit the model or restore the file")
    assert not marker.exists()


def test_a_file_that_is_no_archive_is_refused(model):
    """write_manifest refuses to record it; a manifest made by hand to match it does not get it loaded."""
    (model / "reference.npz").write_bytes(b"not a zip archive at all")
    with pytest.raises(UsageError, match=r"reference\.npz: not a NumPy \.npz archive"):
        bundle.write_manifest(model)
    manifest = json.loads((model / "manifest.json").read_text())
    data = (model / "reference.npz").read_bytes()
    manifest["files"]["reference.npz"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (model / "manifest.json").write_text(json.dumps(manifest))
    refused(model, "reference.npz", "not a NumPy .npz archive")


@pytest.mark.parametrize("scale", [0, -0.5, float("nan"), "1.0", None])
def test_member_scales_must_be_positive_numbers(model, scale):
    edit_json(model, "detector.json", lambda d: d["member_scales"].__setitem__(0, scale))
    refused(model, "detector.json", "'member_scales' of member 0 is", "not a finite number > 0")


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d["scoring"]["stats"]["knn"].__setitem__(1, float("nan")), "'scoring.stats' of 'knn'"),
    (lambda d: d["scoring"]["stats"]["ae"].__setitem__(1, 0.0), "'scoring.stats' of 'ae'"),
    (lambda d: d["scoring"]["stats"]["ae"].__setitem__(0, float("inf")), "'scoring.stats' of 'ae'"),
    (lambda d: d["scoring"]["stats"].pop("knn"), "'scoring.stats' of 'knn' is None"),
    (lambda d: d["scoring"]["weights_by_component"].__setitem__("ae", -1.0), "'scoring.weights_by_component'"),
    (lambda d: d["scoring"]["weights_by_component"].update(ae=0.0, knn=0.0), "are all 0"),
    (lambda d: d["scoring"].update(components=["knn", "ae", "svm"]), "'scoring.components'"),
    (lambda d: d["scoring"].update(n_neighbors=0), "'scoring.n_neighbors' is 0"),
    (lambda d: d["threshold"].update(threshold=float("inf")), "'threshold.threshold' is inf"),
    (lambda d: d["threshold"].update(rule="magic"), "'threshold' (rule 'magic', threshold"),
    (lambda d: d["threshold"].update(threshold=d["threshold"]["threshold"] + 1), "does not follow from 'params'"),
    (lambda d: d.update(columns="Time,V1"), "'columns' is missing or not a list of names"),
    (lambda d: d.update(params=[]), "'params' is missing or not a dict"),
    (lambda d: d["params"].update(n_models=0), "'params' make no detector"),
    (lambda d: d["params"].update(colour="red"), "'params' make no detector"),
    (lambda d: d["params"].update(method="ae"), "'params.method' 'ae' differs"),
    (lambda d: d["params"].update(drop=5), "'params.drop' is not a list of column names"),
    (lambda d: d["params"].update(drop="Time"), "'params.drop' is not a list of column names"),
    (lambda d: d["scoring"]["stats"].update(extra="x"), "'scoring.weights_by_component' of 'extra'"),
    (lambda d: d["scoring"]["weights_by_component"].update(extra=float("nan")),
     "'scoring.weights_by_component' of 'extra' is nan"),
    (lambda d: d["architecture"].update(members=[]), "'architecture' must give"),
    (lambda d: d["training"].update(normal_rows="many"), "'training.normal_rows'"),
    (lambda d: d.update(format=1), "not a fraud detector of format 2"),
])
def test_detector_fields_are_checked(model, change, fragment):
    edit_json(model, "detector.json", change)
    refused(model, "detector.json", fragment)


def test_too_many_neighbours_for_the_reference_is_refused(model):
    edit_npz(model, "reference.npz", lambda arrays: {"reference": arrays["reference"][:2]})
    edit_json(model, "detector.json", lambda d: d["scoring"].update(n_neighbors=3))
    refused(model, "reference.npz", "2 row(s), fewer than the 3 neighbours")


def test_a_threshold_rule_without_frauds_is_refused(model):
    def normal_only(arrays):
        keep = arrays["labels"] == 0
        return {**arrays, "scores": arrays["scores"][keep], "labels": arrays["labels"][keep]}

    edit_npz(model, "validation.npz", normal_only)
    edit_json(model, "detector.json", lambda d: d["params"].update(threshold_rule="f1", threshold_value=None))
    refused(model, "validation.npz", "no threshold follows", "needs labelled frauds")


def test_every_np_load_in_the_package_refuses_pickles():
    """A pickled array would run code on load: every np.load call passes allow_pickle=False explicitly."""
    calls = []
    for path in sorted((REPO / "keras_ae").rglob("*.py")):
        text = path.read_text()
        for match in re.finditer(r"\bnp\.load\(", text):
            depth, end = 1, match.end()
            while depth and end < len(text):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            call = text[match.start():end]
            line = text.count("\n", 0, match.start()) + 1
            calls.append((f"{path.relative_to(REPO)}:{line}", re.sub(r"\s+", "", call)))
    assert calls, "no np.load call found"
    unsafe = [where for where, call in calls if "allow_pickle=False" not in call]
    assert not unsafe, f"np.load without allow_pickle=False at {', '.join(unsafe)}"


@pytest.mark.parametrize("method", ["ae", "knn"])
def test_bundles_of_every_method_load(data, tmp_path, method):
    """Without a neighbour part reference.npz holds an empty array, which is then not needed."""
    train, test = data
    det = FraudDetector(method=method, n_models=1, epochs=2, patience=1, batch_size=256, verbose=0).fit(train)
    loaded = FraudDetector.load(det.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.score_samples(test.head(100)), det.score_samples(test.head(100)))


@pytest.mark.parametrize("name, change", [
    ("detector.json", lambda d: d["scoring"]["stats"].update(ae=[0, 1e300], knn=[0, 1e300])),  # scores all ~0
    ("detector.json", lambda d: d["scoring"]["stats"]["ae"].__setitem__(1, d["scoring"]["stats"]["ae"][1] * 10)),
    ("preprocessing.json", lambda d: d.update(scale=[1e300] * len(d["scale"]))),
    ("preprocessing.json", lambda d: d.update(mean=[v + 0.5 for v in d["mean"]])),
])
def test_files_edited_with_the_manifest_recomputed_are_caught_by_the_check_rows(model, name, change):
    """Each edit is of valid values: without the check rows the first one scored every row normal."""
    edit_json(model, name, change)
    refused(model, "validation.npz", "its check rows do not score what they scored when it was saved",
            "its files were edited")


def test_edited_weights_are_caught_by_the_check_rows(model):
    edit_npz(model, "weights.npz", lambda arrays: arrays.update(m0_l0_W=arrays["m0_l0_W"] * 0.5))
    refused(model, "validation.npz", "its check rows do not score")


def test_a_bundle_of_an_earlier_version_without_check_rows_still_loads(model, data):
    _, test = data
    scores = FraudDetector.load(model).score_samples(test.head(20))
    edit_npz(model, "validation.npz", lambda arrays: {"scores": arrays["scores"], "labels": arrays["labels"]})
    refused(model, "validation.npz", "holds no check rows where detector.json counts 32")
    edit_json(model, "detector.json", lambda d: d.pop("check_rows"))
    np.testing.assert_allclose(FraudDetector.load(model).score_samples(test.head(20)), scores)


def test_an_edited_reference_is_caught_by_the_check_rows(model):
    """The check rows are midpoints of held-out rows: none is in the distance part's reference, whose edit shows."""
    edit_npz(model, "reference.npz", lambda arrays: {"reference": arrays["reference"][::-1] * 1.5})
    refused(model, "validation.npz", "its check rows do not score")


@pytest.mark.parametrize("change", [
    lambda arrays: {k: v for k, v in arrays.items() if k != "check_scores"},
    lambda arrays: arrays.update(check_rows=arrays["check_rows"][:, :3]),
    lambda arrays: arrays.update(check_scores=arrays["check_scores"][:1]),
])
def test_check_rows_of_the_wrong_shape_are_refused(model, change):
    edit_npz(model, "validation.npz", change)
    refused(model, "validation.npz", "'check_rows' and 'check_scores' must be")
