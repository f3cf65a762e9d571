"""keras_ae.fraud.spark: a real local Spark session (local[2]) scores every row as one process does, through
`score(df, model_dir)` and through `keras-ae-fraud score --engine spark`; executors need no TensorFlow."""

import json
import os
import pathlib
import pickle
import shutil
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pyspark")
if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
    pytest.skip("Spark needs Java", allow_module_level=True)

from keras_ae.cli.fraud import cli  # noqa: E402
from keras_ae.fraud import FraudDetector, spark, synthetic_transactions  # noqa: E402
from keras_ae.fraud.rows import FAR_SCORE  # noqa: E402


@pytest.fixture(scope="module")
def session():
    s = spark.session("local[2]")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def model(spark_model):
    """The session's Spark model (fitted with an id column to ignore) and 3,000 new rows with ids, shuffled."""
    rows = synthetic_transactions(3000, fraud_rate=0.02, seed=1).reset_index(names="id").sample(frac=1.0,
                                                                                               random_state=0)
    return spark_model.parent, rows


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def local_scores(root, rows):
    det = FraudDetector.load(root / "model")
    return det.score_samples(rows), det.predict(rows)


def test_spark_scores_equal_one_process_scores_row_by_row(session, model):
    root, rows = model
    scored = spark.score(session.createDataFrame(rows), root / "model").toPandas().set_index("id").loc[rows["id"]]
    score, flag = local_scores(root, rows)
    np.testing.assert_allclose(scored["score"].to_numpy(), score, rtol=0, atol=1e-6)  # +inf: far outside the range
    np.testing.assert_array_equal(scored["flag"].to_numpy(), flag)
    pd.testing.assert_frame_equal(scored.reset_index()[list(rows.columns)], rows.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_command_with_spark_engine_writes_a_parquet_directory(fmt, session, model, tmp_path, capfd):
    """capfd: the summary printed after Spark ran reaches file descriptor 1 (restored from the run's log)."""
    root, rows = model
    rows = rows.copy()
    rows.loc[rows.index[7], "Amount"] = 1e9  # far outside the training amounts
    src = tmp_path / f"rows.{fmt}"
    rows.to_csv(src, index=False) if fmt == "csv" else rows.to_parquet(src)  # a shuffled frame's row labels too
    out = tmp_path / "scored"
    code = cli(["score", "--engine", "spark", "--master", "local[2]", "--model", str(root / "model"),
                "--input", str(src), "--out", str(out)])
    captured = capfd.readouterr()
    assert code == 0, captured.err
    scored = pd.read_parquet(out)
    assert "__index_level_0__" not in scored.columns  # pandas' row labels are no column, as in one process
    scored = scored.set_index("id").loc[rows["id"]]
    score, _ = local_scores(root, rows)
    np.testing.assert_allclose(scored["score"].to_numpy(), score, rtol=0, atol=1e-6)
    said = captured.out.splitlines()
    assert len(said) == 2 and said[0].startswith("model: ") and said[1].startswith(f"scored {len(rows):,} rows on")
    far = int((score == FAR_SCORE).sum())  # the amount of 1e9 at least: counted, as one process counts them
    assert far >= 1 and f"({far} for an amount far outside the normal training amounts)" in said[1], said
    assert "Traceback" not in captured.err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory, no log
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~current_umask())  # not mkdtemp's private 0o700


@pytest.mark.parametrize("cell", ["1.5d", "0x1p-1", "true", "\u0661\u0662", "1_000"])
def test_a_csv_cell_spark_would_read_as_a_number_is_judged_by_the_one_process_rule(cell, session, model, tmp_path,
                                                                                   capsys):
    """Spark's CSV reader takes Java's `1.5d` and `0x1p-1` for doubles and a column of `true`/`false` for booleans;
    one process refuses them. The Spark engine reads feature columns as text and applies the same rule: refused,
    or flagged with its reason, and the column still written as numbers."""
    root, rows = model
    rows = rows.head(40)
    src = tmp_path / "rows.csv"
    text = rows.assign(V4=rows["V4"].astype(object))
    if cell == "true":  # a whole column of words: Spark would infer a boolean column
        text["V4"] = np.where(np.arange(len(rows)) % 2 == 0, "true", "false")
    else:
        text.loc[text.index[5], "V4"] = cell
    text.to_csv(src, index=False)
    argv = ["score", "--engine", "spark", "--master", "local[1]", "--model", str(root / "model"), "--input", str(src)]
    code = cli([*argv, "--out", str(tmp_path / "refused")])
    err = capsys.readouterr().err
    assert code == 2 and f"column 'V4': non-numeric value '{cell}'" in err, err
    assert not (tmp_path / "refused").exists()
    assert cli([*argv, "--out", str(tmp_path / "flagged"), "--unscorable", "flag"]) == 0
    said = capsys.readouterr().out
    assert f"({len(rows) if cell == 'true' else 1} of them unscorable)" in said, said
    scored = pd.read_parquet(tmp_path / "flagged").set_index("id").loc[rows["id"]]
    bad = scored["unscorable_reason"].str.contains("column 'V4': non-numeric value '(true|false|" + cell + ")'",
                                                   regex=True).to_numpy()
    assert bad.sum() == (len(rows) if cell == "true" else 1)
    assert (scored["flag"].to_numpy()[bad] == 1).all() and np.isposinf(scored["score"].to_numpy()[bad]).all()
    if cell in ("1.5d", "0x1p-1"):  # a column Spark would have read as numbers is still written as numbers
        assert scored["V4"].dtype == np.float64 and scored["V4"].isna().sum() == 1
        np.testing.assert_allclose(scored["V4"].to_numpy()[~bad], rows["V4"].to_numpy()[~bad])
    if cell != "true":
        good = local_scores(root, rows[~bad])[0]
        assert np.abs(scored["score"].to_numpy()[~bad] - good).max() <= 1e-6


def test_whole_number_feature_columns_keep_their_type_and_every_digit(session, model, tmp_path):
    """Feature columns are read as text on Spark: written back, whole numbers keep Spark's integer type and their
    exact value (2**53 + 1 is not a float64); a column with a cell that is no number stays text, as Spark reads it."""
    root, rows = model
    rows = rows.head(30)
    text = rows.assign(V5=np.arange(len(rows)) - 10, V6=np.arange(len(rows)) + 2**53 + 1).astype({"V6": object})
    src = tmp_path / "ints.csv"
    text.to_csv(src, index=False)
    argv = ["score", "--engine", "spark", "--master", "local[1]", "--model", str(root / "model"), "--input", str(src),
            "--unscorable", "flag", "--quiet"]
    assert cli([*argv, "--out", str(tmp_path / "clean")]) == 0
    clean = pd.read_parquet(tmp_path / "clean").set_index("id").loc[rows["id"]]
    assert clean["V5"].dtype == np.int32 and clean["V5"].tolist() == text["V5"].tolist()
    assert clean["V6"].dtype == np.int64 and clean["V6"].tolist() == [int(v) for v in text["V6"]]
    text.loc[text.index[3], "V6"] = "12x"
    text.to_csv(src, index=False)
    assert cli([*argv, "--out", str(tmp_path / "flagged")]) == 0
    flagged = pd.read_parquet(tmp_path / "flagged").set_index("id").loc[rows["id"]]  # a column of text to Spark too
    assert flagged["V6"].tolist() == [str(v) for v in text["V6"]]
    assert "non-numeric value '12x'" in flagged["unscorable_reason"].iloc[3] and flagged["flag"].iloc[3] == 1


def test_spark_bad_input_is_one_line_and_leaves_no_output(session, model, tmp_path, capsys):
    root, rows = model
    mine = tmp_path / ".scored.spark.log"  # the name the log once had: a file of the user's there stays theirs
    mine.write_text("my notes")
    logs = []  # each failed run keeps its own log, named in its message
    src = tmp_path / "bad.parquet"
    rows.drop(columns=["V7"]).to_parquet(src, index=False)
    code = cli(["score", "--engine", "spark", "--master", "local[2]", "--model", str(root / "model"),
                "--input", str(src), "--out", str(tmp_path / "scored")])
    err = capsys.readouterr().err
    assert code == 2 and "'V7'" in err and len(err.strip().splitlines()) == 1, err
    import re

    for name, bad, expected in [("nan", np.nan, "empty or NaN value"), ("big", 1e39, "value 1e+39 is beyond float32")]:
        src = tmp_path / f"{name}.parquet"
        rows.assign(V4=rows["V4"].where(rows["id"] != 17, bad)).to_parquet(src, index=False)
        code = cli(["score", "--engine", "spark", "--master", "local[2]", "--model", str(root / "model"),
                    "--input", str(src), "--out", str(tmp_path / "scored")])
        err = capsys.readouterr().err
        # the executor's message, with the input for "the Spark DataFrame" and no row (one of an Arrow batch)
        assert code == 2 and len(err.splitlines()) == 1, err
        assert err.startswith(f"error: {src}, column 'V4': {expected}"), err
        log = pathlib.Path(re.search(r" \(Spark; details in (.+)\)\n$", err).group(1))
        assert log.parent == tmp_path and re.fullmatch(r"\.scored\.\w+\.spark\.log", log.name), err  # a new file
        assert "keras_ae.errors.UsageError" in log.read_text()  # the details: the worker's traceback
        assert not (tmp_path / "scored").exists()
        logs.append(log.name)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == sorted([mine.name, *logs])
    assert mine.read_text() == "my notes"


def test_executors_need_only_the_zipped_package_numpy_pandas_and_pyarrow(model, tmp_path):
    """What `spark-submit --py-files keras_ae.zip` gives an executor: the package from a zip, and TensorFlow,
    Keras, scikit-learn (and pyspark itself) impossible to import; scoring a partition still works."""
    import zipfile

    import keras_ae

    root, rows = model
    package = pathlib.Path(keras_ae.__file__).parent
    with zipfile.ZipFile(tmp_path / "keras_ae.zip", "w") as zf:
        for path in package.rglob("*.py"):
            zf.write(path, path.relative_to(package.parent))
    det = FraudDetector.load(root / "model")
    (tmp_path / "state.pkl").write_bytes(pickle.dumps(spark.payload(det)))
    rows.head(200).to_parquet(tmp_path / "rows.parquet")
    code = (
        "import sys, pickle, importlib.abc\n"
        f"sys.path.insert(0, {str(tmp_path / 'keras_ae.zip')!r})\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorflow', 'keras', 'sklearn', 'pyspark'):\n"
        "            raise ImportError(f'blocked: {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pandas as pd\n"
        "import keras_ae\n"
        "assert 'keras_ae.zip' in keras_ae.__file__, keras_ae.__file__\n"
        "from keras_ae.fraud.spark import score_frame\n"
        f"state = pickle.loads(open({str(tmp_path / 'state.pkl')!r}, 'rb').read())\n"
        f"out = score_frame(pd.read_parquet({str(tmp_path / 'rows.parquet')!r}), state)\n"
        "print(out['score'].round(12).tolist())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(json.loads(result.stdout), det.score_samples(rows.head(200)), atol=1e-9)


def test_without_pyspark_the_command_says_what_to_install(model, tmp_path, capsys, monkeypatch):
    root, rows = model
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    code = cli(["score", "--engine", "spark", "--model", str(root / "model"), "--input", str(tmp_path / "x.csv"),
                "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'keras-ae[spark]'" in err and len(err.splitlines()) == 1


def test_a_parquet_directory_keeps_its_row_order_and_odd_names_score(session, model, tmp_path):
    """Spark packs a directory's files largest first: the rows came back 100-1999 then 0-99. A column name with a
    dot ("tx.id") or differing from another only in case ("v1" beside "V1") failed inside mapInPandas."""
    root, rows = model
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, (a, b) in enumerate(((0, 100), (100, 2500), (2500, 3000))):
        rows.iloc[a:b].to_parquet(folder / f"part-{k}.parquet", index=False)
    cli(["score", "--model", str(root / "model"), "--input", str(folder), "--out", str(tmp_path / "one.parquet"),
         "--quiet"])
    cli(["score", "--engine", "spark", "--master", "local[2]", "--model", str(root / "model"), "--input",
         str(folder), "--out", str(tmp_path / "spark")])
    one, many = pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "spark")
    np.testing.assert_array_equal(many["id"].to_numpy(), rows["id"].to_numpy())
    np.testing.assert_allclose(many["score"].to_numpy(), one["score"].to_numpy(), rtol=0, atol=1e-6)
    train = synthetic_transactions(1500, fraud_rate=0.01, seed=0)
    train.insert(0, "tx.id", np.arange(len(train)))
    train.insert(1, "v1", np.arange(len(train)))
    odd = FraudDetector(n_models=1, epochs=2, verbose=0, drop=("tx.id", "v1")).fit(train).save(tmp_path / "odd")
    new = train.drop(columns="Class").head(200)
    scored = spark.score(session.createDataFrame(new), odd).toPandas()
    assert list(scored.columns[:3]) == ["tx.id", "v1", "Time"]
    np.testing.assert_allclose(scored["score"].to_numpy(), FraudDetector.load(odd).score_samples(new), rtol=0,
                               atol=1e-6)


def test_doubled_quotes_in_a_quoted_field_read_as_one_process_reads_them(session, model, tmp_path, capsys):
    """Spark's CSV reader escapes with a backslash by default: a field `"a ""x"", b"` (RFC 4180, what pandas and
    spreadsheets write) was refused as a record with a field too many, though one process scores it."""
    root, rows = model
    rows = rows.head(30)
    rows = rows.assign(id=[f'a "{i}", b' for i in rows["id"]])  # the column the model ignores: "a ""7"", b"
    src = tmp_path / "quoted.csv"
    rows.to_csv(src, index=False)
    assert f'"a ""{rows["id"].iloc[0][3:-4]}"", b"' in src.read_text()
    argv = ["score", "--model", str(root / "model"), "--input", str(src), "--quiet"]
    assert cli([*argv, "--engine", "spark", "--master", "local[1]", "--out", str(tmp_path / "spark")]) == 0, \
        capsys.readouterr().err
    assert cli([*argv, "--out", str(tmp_path / "local.csv")]) == 0
    by_spark = pd.read_parquet(tmp_path / "spark").set_index("id").loc[rows["id"]]
    local = pd.read_csv(tmp_path / "local.csv").set_index("id").loc[rows["id"]]
    np.testing.assert_allclose(by_spark["score"].to_numpy(), local["score"].to_numpy(), rtol=1e-6)
