"""keras_ae.io: atomic writes leave no temporary file and normal permissions."""

import numpy as np
import pytest

from keras_ae.errors import UsageError
from keras_ae.io import atomic_path


def put(path, text="x"):
    """Write a file as a run does (atomically: the run records it as one of its own)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def test_atomic_write_leaves_no_temporary_and_normal_permissions(tmp_path):
    import os

    from keras_ae.io import atomic_path, write_json

    write_json(tmp_path / "a.json", {"x": np.float32(1.5)})
    assert (tmp_path / "a.json").read_text().strip().endswith("}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(RuntimeError, match="^interrupted$"):
        with atomic_path(tmp_path / "b.csv") as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_run_directory_is_recognised_by_content_not_by_file_names(tmp_path):
    import json

    from keras_ae import outputs

    copied = tmp_path / "copied"  # a run's metrics.json copied beside its model: the folder is still yours
    copied.mkdir()
    (copied / "metrics.json").write_text(json.dumps({"arch": "conv", "options": {"epochs": 1}, "seed": 0}))
    (copied / "autoencoder.keras").write_bytes(b"model")
    assert not outputs.is_run_dir(copied)
    users = tmp_path / "users"
    users.mkdir()
    (users / "metrics.json").write_text('{"acc": 0.99}')
    (users / "summary.csv").write_text("a\n1\n")
    assert not outputs.is_run_dir(users)
    (users / "metrics.json").write_text("not json")
    assert not outputs.is_run_dir(users)
    font = tmp_path / "font"
    font.mkdir()
    (font / "font.json").write_text('{"family": "mine"}')
    assert not outputs.is_run_dir(font)
    copied_font = tmp_path / "copied_font"  # a font run's report copied: no marker, not a run's
    copied_font.mkdir()
    (copied_font / "font.json").write_text(json.dumps({"options": {"epochs": 1}, "pictures": ["loss.png"]}))
    assert not outputs.is_run_dir(copied_font)
    (font / outputs.RUN_MARKER).write_text('{"kind": "something else"}')
    assert not outputs.is_run_dir(font)
    (font / outputs.RUN_MARKER).write_text('{"kind": "keras_ae.run", "run": "font"}')
    assert outputs.is_run_dir(font)


def test_a_file_browsers_view_settings_do_not_make_an_output_the_users(tmp_path):
    """macOS Finder writes .DS_Store into every folder it shows: a run, model or scored folder the user looked at
    stays replaceable (and one holding only that file counts as empty); any other hidden file still protects it."""
    import json

    import pandas as pd

    from keras_ae import outputs

    run = tmp_path / "run"
    run.mkdir()
    (run / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    assert outputs.is_run_dir(run) and outputs.is_model_dir(run)
    model = tmp_path / "model"
    model.mkdir()
    (model / "manifest.json").write_text(json.dumps({"kind": outputs.MODEL_KIND, "files": {"weights.npz": "x"}}))
    (model / "weights.npz").write_bytes(b"w")
    (model / ".DS_Store").write_bytes(b"x")
    assert outputs.is_model_dir(model)
    scored = tmp_path / "scored"
    scored.mkdir()
    pd.DataFrame({"a": [1.0], **{c: [0.0] for c in outputs.RESULT_COLUMNS}}).to_parquet(scored / "part-0.parquet")
    (scored / ".DS_Store").write_bytes(b"x")
    assert outputs.is_scored_table(scored)
    for folder in (run, model, scored):
        (folder / ".env").write_text("TOKEN=secret\n")
        assert not outputs.is_run_dir(folder) and not outputs.is_model_dir(folder)
        assert not outputs.is_scored_table(folder)


def test_a_json_file_that_is_not_utf8_or_nests_too_deeply_is_one_line(tmp_path):
    from keras_ae.errors import UsageError
    from keras_ae.io import read_json

    latin = tmp_path / "latin.json"
    latin.write_bytes(b'\xff{"epochs": 1}')
    with pytest.raises(UsageError, match=r"config file .*latin.json is not UTF-8 text \(byte 0xff at position 0\)"):
        read_json(latin, what="config file")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UsageError, match="nests its values too deeply"):
        read_json(deep)


def test_an_evaluate_output_inside_a_run_directory_stays_its_own_but_a_models_metrics_are_not(tmp_path):
    import json

    from keras_ae import outputs
    from keras_ae.run_dirs import mark_run

    run = tmp_path / "run"
    run.mkdir()
    mark_run(run, "fraud")
    (run / "eval.json").write_text(json.dumps({"kind": outputs.METRICS_KIND, "roc_auc": 0.9}))
    assert outputs.is_metrics_file(run / "eval.json")  # a rerun of evaluate may replace it
    (run / "old.json").write_text(json.dumps({"roc_auc": 0.9, "threshold_rule": "alpha"}))
    assert not outputs.is_metrics_file(run / "old.json")  # old-format fields inside a run: not taken for ours
    (tmp_path / "old.json").write_text(json.dumps({"roc_auc": 0.9, "threshold_rule": "alpha"}))
    assert outputs.is_metrics_file(tmp_path / "old.json")  # an older evaluate's file on its own


def test_a_new_run_removes_only_what_a_run_of_its_kind_writes(tmp_path):
    """A training run into its own earlier directory removes that run's models, tables and listed pictures; a
    results.csv or summary.csv of the user's there (names only a sweep or a one-class run writes) stays."""
    import json

    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    with unfinished_marker(run, "train"):
        for name in ("metrics.json", "history.csv", "encoder.keras", "loss.png"):
            put(run / name, "{}")
        put(run / "metrics.json", json.dumps({"pictures": ["loss.png"], "options": {}}))
    for name in ("results.csv", "summary.csv", "notes.txt"):
        (run / name).write_text("mine")
    with unfinished_marker(run, "train"):
        left = sorted(p.name for p in run.iterdir() if not p.name.startswith("."))
    assert left == ["UNFINISHED.json", "notes.txt", "results.csv", "summary.csv"]
    assert all((run / name).read_text() == "mine" for name in ("results.csv", "summary.csv", "notes.txt"))


def test_a_rerun_clears_what_a_failed_run_left_refuses_an_unmarked_folder_and_replaces_only_its_own_classes(tmp_path):
    """The pictures a failed run wrote are removed by name once its marker is gone; a folder without a run marker
    (a run's files copied into it) is refused, untouched; an every-class run removes the one-class runs an earlier
    one made (a dataset with fewer classes leaves none of the old ones) and no other, not even a one-class run of
    yours inside it."""
    import json

    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    try:
        with unfinished_marker(run, "train"):
            (run / "samples.png").write_text("old")
            raise RuntimeError("the run fails after its pictures")
    except RuntimeError:
        pass
    (run / "UNFINISHED.json").unlink()  # as after a stop the user cleaned up
    with unfinished_marker(run, "train"):
        assert not (run / "samples.png").exists()

    copied = tmp_path / "copied"  # a run's report and files, copied: no run marker
    copied.mkdir()
    (copied / "metrics.json").write_text(json.dumps({"options": {}, "test_bce": 0.1}))
    for name in ("autoencoder.keras", "history.csv", "results.csv"):
        (copied / name).write_text("copied")
    refused_untouched(copied, "sweep", "not a keras-ae run directory")

    every = tmp_path / "every"
    with unfinished_marker(every, "one-class, every class"):
        for label in (0, 7):
            with unfinished_marker(every / f"normal-{label}", "one-class"):
                put(every / f"normal-{label}" / "metrics.json", "{}")
    (every / "normal-notes").mkdir()  # not a run: kept
    with unfinished_marker(every / "normal-3-mine", "one-class"):  # a one-class run of yours: kept
        put(every / "normal-3-mine" / "metrics.json", "{}")
    with unfinished_marker(every, "one-class, every class"):
        assert sorted(p.name for p in every.iterdir() if not p.name.startswith(".")) == [
            "UNFINISHED.json", "normal-3-mine", "normal-notes"]
    assert (every / "normal-3-mine" / "metrics.json").read_text() == "{}"


def test_a_json_number_too_small_for_a_float_is_named_not_read_as_zero(tmp_path):
    from keras_ae.errors import UsageError
    from keras_ae.io import read_json

    (tmp_path / "tiny.json").write_text('{"threshold_value": 1e-400, "zero": 0.0, "small": 5e-324}')
    with pytest.raises(UsageError, match=r"tiny.json holds the number 1e-400, too small for a float"):
        read_json(tmp_path / "tiny.json")
    (tmp_path / "fine.json").write_text('{"zero": 0.0, "minus": -0e5, "small": 5e-324}')
    assert read_json(tmp_path / "fine.json") == {"zero": 0.0, "minus": -0.0, "small": 5e-324}


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("failure", [UsageError("bad row found late"), RuntimeError("crash"), KeyboardInterrupt()])
def test_a_rerun_that_fails_leaves_the_earlier_run_as_it_was(tmp_path, failure):
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    with unfinished_marker(run, "train"):
        for name in ("metrics.json", "loss.png", "latent.png"):
            put(run / name, f"first {name}")
    (run / "notes.txt").write_text("mine")
    before = snapshot(run)
    with pytest.raises(type(failure)):
        with unfinished_marker(run, "train"):
            assert not (run / "latent.png").exists() and (run / "notes.txt").exists()
            for name in ("loss.png", "samples.png"):  # as every run writes its files
                with atomic_path(run / name) as tmp:
                    tmp.write_text("second, partial")
            raise failure
    assert snapshot(run) == before


def test_a_rerun_after_a_failed_run_moves_only_the_files_that_run_wrote(tmp_path):
    """A run that stopped early records the files it wrote in its marker: a file of a run file's name that the
    user put there afterwards is not the stopped run's, so a rerun refuses it and leaves it alone; without it in
    the way, the rerun replaces the stopped run's files."""
    import json

    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    with pytest.raises(RuntimeError), unfinished_marker(run, "train"):
        with atomic_path(run / "loss.png") as tmp:
            tmp.write_text("stopped run")
        raise RuntimeError("crash")
    assert json.loads((run / "UNFINISHED.json").read_text())["written"] == ["loss.png"]
    (run / "samples.png").write_text("mine")
    with pytest.raises(UsageError, match="samples.png is a file the earlier run did not write"):
        with unfinished_marker(run, "train"):
            pass
    assert (run / "samples.png").read_text() == "mine" and (run / "loss.png").read_text() == "stopped run"
    (run / "samples.png").rename(tmp_path / "samples.png")
    with unfinished_marker(run, "train"):
        assert not (run / "loss.png").exists()
        with atomic_path(run / "loss.png") as tmp:
            tmp.write_text("second run")
    assert (run / "loss.png").read_text() == "second run" and not (run / "UNFINISHED.json").exists()


def refused_untouched(run, what, match):
    """A run of the kind `what` into `run` is refused with a message matching `match`, and changes nothing."""
    from keras_ae.run_marker import unfinished_marker

    before = snapshot(run)
    with pytest.raises(UsageError, match=match):
        with unfinished_marker(run, what):
            pass
    assert snapshot(run) == before


def finished_run(run, name="metrics.json", text="first"):
    from keras_ae.run_marker import unfinished_marker

    with unfinished_marker(run, "train"):
        put(run / name, text)
        put(run / "loss.png", text)
    return snapshot(run)


def killed_run(run):
    """A second run into `run` killed outright (SIGKILL: no clean-up) after it wrote a picture."""
    import json

    from keras_ae import run_hold

    run_hold.hold_previous_run(run, "train")
    (run / "UNFINISHED.json").write_text(json.dumps({"run": "train", "state": "running", "pid": 2**30,
                                                     "written": ["samples.png"]}))
    (run / "samples.png").write_text("killed")


def test_after_a_killed_rerun_the_earlier_run_is_refused_until_a_run_puts_it_back(tmp_path):
    import json

    from keras_ae.run_marker import check_finished, unfinished_marker

    run = tmp_path / "run"
    before = finished_run(run)
    killed_run(run)
    with pytest.raises(UsageError, match="a run into it was stopped while the earlier run waited"):
        check_finished(run)
    with pytest.raises(UsageError):
        with unfinished_marker(run, "train"):
            assert not (run / "metrics.json").exists() and not (run / "samples.png").exists()
            raise UsageError("bad input")
    assert snapshot(run) == before and check_finished(run) == run  # the killed run's marker went with its files
    with unfinished_marker(run, "train"):
        put(run / "metrics.json", "third")
    after = snapshot(run)
    assert after.pop("metrics.json") == b"third" and list(after) == [".keras-ae-run.json"]
    assert json.loads(after[".keras-ae-run.json"])["files"] == ["metrics.json"]  # what the third run wrote


def test_a_hold_that_fails_half_way_puts_every_file_back(tmp_path, monkeypatch):
    import pathlib

    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    before = finished_run(run)
    moves, replace = [], pathlib.Path.replace

    def second_move_fails(self, target):
        moves.append(self.name)
        if len(moves) == 2:
            raise OSError(5, "Input/output error")
        return replace(self, target)

    monkeypatch.setattr(pathlib.Path, "replace", second_move_fails)
    with pytest.raises(OSError):
        with unfinished_marker(run, "train"):
            pass
    monkeypatch.undo()
    assert snapshot(run) == before and len(moves) > 2  # the failure, then the files moved back


def test_a_put_back_killed_half_way_is_finished_by_the_next_run(tmp_path):
    from keras_ae import run_dirs, run_hold
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    before = finished_run(run)
    killed_run(run)
    run_hold.discard_run(run, run_dirs.run_outputs(run, "train"))  # the put-back's first steps, then SIGKILL
    (run / "UNFINISHED.json").unlink()
    (run / run_dirs.PREVIOUS / run_dirs.RESTORING).touch()
    (run / run_dirs.PREVIOUS / "loss.png").replace(run / "loss.png")
    with pytest.raises(UsageError):
        with unfinished_marker(run, "train"):
            raise UsageError("bad input")
    assert snapshot(run) == before


def test_leftovers_of_a_finished_replacement_are_removed_and_a_planted_link_is_refused(tmp_path):
    from keras_ae import run_dirs
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    before = finished_run(run)
    (run / f"{run_dirs.TRASH}-123").mkdir()  # an earlier run renamed for removal, as a kill left it
    (run / f"{run_dirs.TRASH}-123" / "metrics.json").write_text("older")
    (run / f"{run_dirs.TRASH}-123" / run_dirs.HELD).write_text('{"kind": "keras_ae.held", "files": ["metrics.json"]}')
    (run / f"{run_dirs.TRASH}er").mkdir()  # a folder of yours of a similar name: kept
    (run / f"{run_dirs.TRASH}er" / "a.txt").write_text("keep")
    before = snapshot(run)
    with pytest.raises(UsageError):
        with unfinished_marker(run, "train"):
            raise UsageError("bad input")
    after = snapshot(run)
    assert after == {k: v for k, v in before.items() if not k.startswith(f"{run_dirs.TRASH}-123")}
    assert not (run / f"{run_dirs.TRASH}-123").exists() and after[f"{run_dirs.TRASH}er/a.txt"] == b"keep"
    (tmp_path / "elsewhere").mkdir()
    (run / run_dirs.PREVIOUS).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="is not the folder keras-ae keeps an earlier run in"):
        with unfinished_marker(run, "train"):
            pass
    assert (run / "metrics.json").read_text() == "first"


def test_an_every_class_rerun_keeps_your_files_inside_its_one_class_runs(tmp_path):
    from keras_ae.run_marker import unfinished_marker

    every = tmp_path / "every"

    def every_class(labels, fail=False):
        with unfinished_marker(every, "one-class, every class"):
            for label in labels:
                with unfinished_marker(every / f"normal-{label}", "one-class"):
                    put(every / f"normal-{label}" / "metrics.json", f"run {len(labels)}")
            if fail:
                raise UsageError("bad input after the classes")
            put(every / "summary.csv", f"run {len(labels)}")

    every_class([3, 7])
    (every / "normal-3" / "analysis.txt").write_text("mine")
    (every / "normal-3" / "figs").mkdir()
    (every / "normal-3" / "figs" / "f.txt").write_text("mine too")
    before = snapshot(every)
    with pytest.raises(UsageError):
        every_class([3, 5], fail=True)
    assert snapshot(every) == before
    every_class([5])
    after = snapshot(every)
    assert after["normal-3/analysis.txt"] == b"mine" and after["normal-3/figs/f.txt"] == b"mine too"
    assert "normal-3/metrics.json" not in after and not (every / "normal-7").exists()
    assert after["normal-5/metrics.json"] == b"run 1" and not (every / ".keras-ae-previous").exists()


@pytest.mark.parametrize("pid", [99999999999999999999, -1, 0, "12x", None])
def test_a_run_marker_with_no_usable_process_id_does_not_hold_the_directory(tmp_path, pid):
    import json
    import os

    from keras_ae.run_marker import refuse_running

    (tmp_path / "UNFINISHED.json").write_text(json.dumps({"state": "running", "pid": pid, "run": "train"}))
    refuse_running(tmp_path)  # neither an OverflowError nor "being written by another run (process -1)"
    (tmp_path / "UNFINISHED.json").write_text(json.dumps({"state": "running", "pid": os.getppid(), "run": "train"}))
    with pytest.raises(UsageError, match=f"being written by another run \\(process {os.getppid()}\\)"):
        refuse_running(tmp_path)


@pytest.mark.parametrize("earlier", [True, False])
def test_a_second_run_into_a_directory_in_use_is_refused_and_touches_nothing(tmp_path, earlier):
    """Two runs started at the same moment would both pass the marker check: the lock beside the directory decides."""
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "new" / "run"
    if earlier:
        finished_run(run)
    with unfinished_marker(run, "train"):
        (run / "metrics.json").write_text("running")
        refused_untouched(run, "train", "is being written by another command")
    assert (run / "metrics.json").read_text() == "running" and not list(run.parent.glob(".*.lock"))


def test_a_run_that_fails_in_new_folders_leaves_none_of_them(tmp_path):
    from keras_ae.run_marker import unfinished_marker

    with pytest.raises(MemoryError):
        with unfinished_marker(tmp_path / "new" / "a" / "run", "train"):
            raise MemoryError("out of memory")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_input_found_in_a_new_run_directory_says_the_directory_is_gone(tmp_path):
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    gone = r"^image 7 cannot be read \(the new run directory .*run was removed\)$"
    with pytest.raises(UsageError, match=gone) as err:
        with unfinished_marker(run, "train"):
            raise UsageError("image 7 cannot be read", param="image")
    assert err.value.param == "image" and not run.exists()


@pytest.mark.parametrize("name", [".keras-ae-previous", ".keras-ae-previous.part"])
def test_a_folder_of_that_name_keras_ae_did_not_make_is_refused_untouched(tmp_path, name):

    run = tmp_path / "run"
    finished_run(run)
    (run / "notes.txt").write_text("mine")
    (run / name).mkdir()
    (run / name / "notes.txt").write_text("planted")
    (run / name / "metrics.json").write_text("planted")
    refused_untouched(run, "train", "is not the folder keras-ae keeps an earlier run in")


def test_a_demo_rerun_that_fails_puts_the_earlier_demo_and_its_model_back(tmp_path):
    import json

    from keras_ae.io import _note_written
    from keras_ae.outputs import MODEL_KIND
    from keras_ae.run_dirs import DEMO_OUTPUTS
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "demo"

    def demo(text):
        for name in DEMO_OUTPUTS.values():  # as run_demo lists them before its steps write them
            _note_written(run / name)
        for name in ("transactions.csv", "new_transactions.csv"):
            put(run / name, f"{text} {name}")
        results = "V1,score,reconstruction_error,flag,top_features,p_value"
        (run / "scored.csv").write_text(f"{results}\n1,{len(text)},0,0,,1\n")
        (run / "new_metrics.json").write_text(json.dumps({"kind": "keras_ae.fraud.metrics", "run": text}))
        (run / "model").mkdir()
        (run / "model" / "weights.npz").write_text(text)
        (run / "model" / "manifest.json").write_text(json.dumps({"kind": MODEL_KIND, "files": {"weights.npz": "x"}}))

    with unfinished_marker(run, "fraud demo"):
        demo("first")
    (run / "notes.txt").write_text("mine")
    before = snapshot(run)
    with pytest.raises(KeyboardInterrupt):
        with unfinished_marker(run, "fraud demo"):
            assert sorted(p.name for p in run.iterdir()) == [".keras-ae-previous", ".keras-ae-run.json",
                                                             "UNFINISHED.json", "notes.txt"]
            demo("second")
            raise KeyboardInterrupt
    assert snapshot(run) == before
    with unfinished_marker(run, "fraud demo"):
        demo("third")
    after = snapshot(run)
    assert after["model/weights.npz"] == b"third" and after["notes.txt"] == b"mine" and ".keras-ae-previous" not in \
        " ".join(after)


def test_files_of_the_demos_names_that_it_did_not_write_are_not_the_demos(tmp_path):
    from keras_ae import run_dirs
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "demo"
    with unfinished_marker(run, "fraud demo"):
        put(run / "transactions.csv", "first")
    (run / "model").mkdir()
    (run / "model" / "thesis.tex").write_text("mine")
    (run / "scored.csv").write_text("id,amount\n1,2\n")
    (run / "new_metrics.json").write_text('{"mine": 1}')
    assert run_dirs.run_outputs(run, "fraud demo") == [run / "transactions.csv"]
    refused_untouched(run, "fraud demo", r"scored.csv is a file the earlier run did not write")


def test_a_scored_table_of_yours_in_a_demo_folder_is_refused_not_replaced(tmp_path):
    """A scored table (it has the result columns) the demo did not list was taken for the demo's and replaced."""
    import json

    from keras_ae.io import _note_written
    from keras_ae.outputs import MODEL_KIND
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "demo"
    with unfinished_marker(run, "fraud demo"):  # a demo whose fit failed: it wrote no scored table
        put(run / "transactions.csv", "first")
    (run / "scored.csv").write_text("V1,score,reconstruction_error,flag,top_features,p_value\n1,9,0,1,,0\n")
    refused_untouched(run, "fraud demo", r"scored.csv is a file the earlier run did not write")
    (run / "scored.csv").unlink()  # once it is moved away, the demo's own model folder is replaced on a rerun
    with unfinished_marker(run, "fraud demo"):
        _note_written(run / "model")
        (run / "model").mkdir()
        (run / "model" / "manifest.json").write_text(json.dumps({"kind": MODEL_KIND, "files": {}}))
    with unfinished_marker(run, "fraud demo"):
        assert not (run / "model").exists() or not any((run / "model").iterdir())


def test_a_demo_of_an_earlier_version_which_listed_only_its_tables_is_refused_not_replaced(tmp_path):
    """Demos made before the demo listed its outputs record only their two tables: their scored table is not known
    to be theirs (it may be yours), so a rerun is refused, naming it, and nothing changes."""
    import json

    from keras_ae.outputs import MODEL_KIND
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "demo"
    with unfinished_marker(run, "fraud demo"):
        put(run / "transactions.csv", "first")
        (run / "scored.csv").write_text("V1,score,reconstruction_error,flag,top_features,p_value\n1,9,0,1,,0\n")
        (run / "model").mkdir()
        (run / "model" / "manifest.json").write_text(json.dumps({"kind": MODEL_KIND, "files": {}}))
    refused_untouched(run, "fraud demo", r"scored.csv is a file the earlier run did not write")


def test_a_device_is_no_json_file_but_a_pipe_is_read():
    import os
    import threading

    from keras_ae.io import read_json

    if os.path.exists("/dev/zero"):
        with pytest.raises(UsageError, match="cannot read config file /dev/zero: a device, not a file"):
            read_json("/dev/zero", what="config file")
    read, write = os.pipe()  # what --config <(jq ...) gives: a pipe, read to its end
    threading.Thread(target=lambda: (os.write(write, b'{"epochs": 3}'), os.close(write))).start()
    assert read_json(f"/dev/fd/{read}") == {"epochs": 3}
    os.close(read)


def test_a_finished_run_lists_what_it_wrote_and_a_rerun_replaces_only_that(tmp_path):
    """A run that wrote some of the names its kind may write (a font run with --denoise: its report and two
    pictures) lists them in its marker when it finishes; a file of yours under another of those names (a
    history.csv) is refused by a rerun, never moved or removed."""
    import json

    from keras_ae.run_dirs import RUN_MARKER
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "font"
    with unfinished_marker(run, "font"):
        for name in ("font.json", "denoising_errors.png", "denoising_examples.png"):
            put(run / name, "first")
    assert json.loads((run / RUN_MARKER).read_text())["files"] == ["denoising_errors.png", "denoising_examples.png",
                                                                    "font.json"]
    (run / "history.csv").write_text("mine")
    refused_untouched(run, "font", "history.csv is a file the earlier run did not write")
    (run / "history.csv").unlink()
    with unfinished_marker(run, "font"):
        assert sorted(p.name for p in run.iterdir() if not p.name.startswith(".")) == ["UNFINISHED.json"]
        put(run / "font.json", "second")
    assert json.loads((run / RUN_MARKER).read_text())["files"] == ["font.json"]


def test_a_stop_while_a_file_is_put_in_place_leaves_nothing_unlisted(tmp_path, monkeypatch):
    """A run lists a file before it moves it into place: stopped in between, its file is either absent or listed,
    so the put-back leaves the earlier run as it was and the next run is not refused."""
    import os

    from keras_ae import io
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    with unfinished_marker(run, "train"):
        put(run / "metrics.json", "first")
    before = snapshot(run)
    real = os.replace

    def stopped_on_the_picture(src, dst):
        real(src, dst)
        if str(dst).endswith("loss.png"):
            raise KeyboardInterrupt  # just after the move: the listing came before it

    monkeypatch.setattr(io.os, "replace", stopped_on_the_picture)
    with pytest.raises(KeyboardInterrupt), unfinished_marker(run, "train"):
        put(run / "loss.png", "second")
    monkeypatch.undo()
    assert snapshot(run) == before
    with unfinished_marker(run, "train"):
        put(run / "loss.png", "third")
    assert (run / "loss.png").read_text() == "third"


def test_after_a_killed_rerun_a_file_of_yours_in_the_earlier_runs_way_is_refused_not_replaced(tmp_path):
    """The earlier run waits in .keras-ae-previous after a kill; a file you put meanwhile where one of its files
    goes back, or a link you put where one of its folders goes back, is refused before anything is moved."""
    import json

    from keras_ae import run_dirs, run_hold
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    finished_run(run)
    run_hold.hold_previous_run(run, "train")  # a rerun, then SIGKILL before it wrote anything
    (run / "UNFINISHED.json").write_text(json.dumps({"run": "train", "state": "running", "pid": 2**30,
                                                     "written": []}))
    (run / "metrics.json").write_text("my notes")
    for _attempt in range(2):  # refused each time, and nothing changed in between
        with pytest.raises(UsageError, match="metrics.json is in the way of the earlier run's file"):
            with unfinished_marker(run, "train"):
                pass
        assert (run / "metrics.json").read_text() == "my notes" and (run / run_dirs.PREVIOUS).is_dir()
    (run / "metrics.json").unlink()
    with unfinished_marker(run, "train"):
        put(run / "metrics.json", "second")
    assert (run / "metrics.json").read_text() == "second"

    every = tmp_path / "every"
    with unfinished_marker(every, "one-class, every class"):
        with unfinished_marker(every / "normal-5", "one-class"):
            put(every / "normal-5" / "metrics.json", "class 5")
    run_hold.hold_previous_run(every, "one-class, every class")  # a rerun killed at once
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "metrics.json").write_text("mine")
    (every / "normal-5").symlink_to(outside)
    with pytest.raises(UsageError, match="normal-5 is a symbolic link where the earlier run's folder goes back"):
        with unfinished_marker(every, "one-class, every class"):
            pass
    assert [p.name for p in outside.iterdir()] == ["metrics.json"] and (outside / "metrics.json").read_text() == "mine"


def test_a_half_written_file_a_kill_left_is_removed_by_the_next_run(tmp_path):
    """`atomic_path` writes `.loss.<8 characters>.tmp.png` before renaming it: a SIGKILL in between leaves it. The
    next run into the directory removes such files of its own names, nothing else."""
    from keras_ae.run_marker import unfinished_marker

    run = tmp_path / "run"
    finished_run(run)
    (run / ".loss.a1b2c3d4.tmp.png").write_text("half")
    (run / ".notes.a1b2c3d4.tmp.txt").write_text("not a run file's name")
    (run / ".loss.mine.tmp.png").write_text("not atomic_path's pattern")
    with unfinished_marker(run, "train"):
        pass
    assert sorted(p.name for p in run.iterdir() if ".tmp." in p.name) == [".loss.mine.tmp.png",
                                                                          ".notes.a1b2c3d4.tmp.txt"]


def test_a_killed_writers_temporary_files_go_when_the_next_command_takes_its_lock(tmp_path):
    """`timeout -s KILL` during score left `.big.<8>.tmp.csv` (a partial copy of the data) beside the output, and
    every later run kept them: the next holder of the lock removes the names its writers give, and nothing else."""
    from keras_ae import locks

    target = tmp_path / "big.csv"
    kept = [tmp_path / name for name in (".big.notes.tmp.csv", ".big.csv.old", "big.csv", ".other.ab12cd_9.tmp.csv")]
    for path in kept:
        path.write_text("mine")
    locks.lock_path(target).write_text(f"{locks.LOCK_TEXT}999999")  # a command took the lock, then was killed
    left = [tmp_path / ".big.ab12cd_9.tmp.csv", tmp_path / ".big.csv.q1w2e3r4.tmp"]
    left[0].write_text("partial rows")
    left[1].mkdir()
    (left[1] / "part-0.parquet").write_text("x")
    with locks.locked(target, "out", target):
        assert not any(path.exists() for path in left)
    assert all(path.read_text() == "mine" for path in kept)


def test_after_a_kill_between_the_two_renames_the_earlier_output_is_put_back(tmp_path):
    """atomic_dir renames the earlier output aside (.tmp.old), then the new one into place: a kill in between left
    the earlier one only under its hidden name, which the next command must not delete."""
    import os
    import time

    from keras_ae import locks

    target = tmp_path / "model"
    older = tmp_path / ".model.q1w2e3r4.tmp"  # a folder of yours that happens to have such a name, made earlier
    older.mkdir()
    (older / "notes.txt").write_text("mine")
    time.sleep(0.05)
    locks.lock_path(target).write_text(f"{locks.LOCK_TEXT}999999")  # the killed command took the lock
    lock_time = os.stat(locks.lock_path(target)).st_mtime
    earlier, new = tmp_path / ".model.a1b2c3d4.tmp.old", tmp_path / ".model.a1b2c3d4.tmp"
    earlier.mkdir()
    (earlier / "manifest.json").write_text("the earlier model")
    new.mkdir()
    (new / "manifest.json").write_text("the new model, half written")
    assert earlier.stat().st_ctime >= lock_time > older.stat().st_ctime
    with locks.locked(target, "out", target):
        assert (target / "manifest.json").read_text() == "the earlier model"
        assert not new.exists() and not earlier.exists()
    assert older.exists() and (older / "notes.txt").read_text() == "mine"  # older than the killed command: kept


def test_after_a_killed_every_class_rerun_a_file_of_yours_in_a_class_folder_is_the_one_named(tmp_path):
    """The message named the stopped class run's own marker as in the way, not the file you had put beside it."""
    import json

    from keras_ae import run_hold
    from keras_ae.run_marker import unfinished_marker

    every = tmp_path / "every"
    with unfinished_marker(every, "one-class, every class"):
        with unfinished_marker(every / "normal-4", "one-class"):
            put(every / "normal-4" / "metrics.json", "class 4")
    run_hold.hold_previous_run(every, "one-class, every class")  # a rerun, killed while it trained class 4
    state = {"state": "running", "pid": 2**30}
    (every / "UNFINISHED.json").write_text(json.dumps({"run": "one-class, every class", **state,
                                                       "written": ["normal-4"]}))
    (every / "normal-4").mkdir()
    (every / "normal-4" / ".keras-ae-run.json").write_text(json.dumps({"kind": "keras_ae.run", "run": "one-class"}))
    (every / "normal-4" / "UNFINISHED.json").write_text(json.dumps({"run": "one-class", **state, "written": []}))
    (every / "normal-4" / "notes.txt").write_text("mine")
    refused_untouched(every, "one-class, every class", r"normal-4/notes.txt is not the stopped run's, so its folder "
                                                      r"cannot make way")
    assert (every / "normal-4" / "notes.txt").read_text() == "mine"
