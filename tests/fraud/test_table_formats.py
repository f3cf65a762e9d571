"""Table formats are one registry: a new format (here JSON lines) is one entry, and fit, score and evaluate read
and write it with no other change. The header is read once and passed along."""

import json

import pandas as pd
import pytest

from keras_ae.fraud import FraudDetector, schema, synthetic_transactions, tables
from keras_ae.runs.fraud_score import FraudEvaluateConfig, FraudScoreConfig, evaluate_fraud, score_fraud


def _header(path, sep):
    with open(path) as f:
        names = list(json.loads(f.readline()))
    schema.check_header(names, str(path), sep)
    return names


def _frames(path, sep, chunksize):
    yield from pd.read_json(path, lines=True, chunksize=chunksize)


class _Sink:
    def __init__(self, tmp, sep):
        self.tmp, self.first = tmp, True

    def write(self, frame):
        with open(self.tmp, "w" if self.first else "a") as f:
            frame.to_json(f, orient="records", lines=True)
        self.first = False

    def close(self):
        pass


@pytest.fixture
def jsonl():
    tables.FORMATS.register("jsonl", tables.TableFormat(
        reads=lambda p: p.suffix == ".jsonl", writes=lambda p: p.suffix == ".jsonl", header=_header, frames=_frames,
        rows=lambda p: sum(1 for _ in open(p)), sink=_Sink))
    yield
    tables.FORMATS.unregister("jsonl")


def test_a_new_format_is_one_entry(jsonl, tmp_path):
    frame = synthetic_transactions(1500, fraud_rate=0.02, seed=4)
    src = tmp_path / "new.jsonl"
    frame.to_json(src, orient="records", lines=True)
    det = FraudDetector(n_models=1, epochs=2, verbose=0).fit(frame[frame["Class"] == 0])
    det.save(tmp_path / "model")
    out = tmp_path / "scored.jsonl"
    result = score_fraud(FraudScoreConfig(model=str(tmp_path / "model"), input=str(src), out=str(out),
                                          progress=False))
    scored = pd.read_json(out, lines=True)
    assert result.summary["rows"] == len(frame) == len(scored)
    assert {"score", "flag", "p_value"} <= set(scored.columns)
    metrics = evaluate_fraud(FraudEvaluateConfig(model=str(tmp_path / "model"), input=str(src), progress=False))
    assert 0.5 < metrics.metrics["roc_auc"] <= 1


def test_opening_reads_the_header_once(tmp_path, monkeypatch):
    src = tmp_path / "t.csv"
    synthetic_transactions(50, seed=1).to_csv(src, index=False)
    calls = []
    csv = tables.FORMATS.get("csv")
    monkeypatch.setitem(tables.FORMATS._entries, "csv", tables.TableFormat(
        **{**csv.__dict__, "header": lambda p, s: calls.append(p) or csv.header(p, s)}))
    table = tables.open_table(src)
    assert sum(len(f) for f in table.frames(20)) == 50 and table.count_rows() == 50
    assert len(calls) == 1 and tables.open_table(table) is table


def test_a_partitioned_parquet_directory_is_refused_as_spark_would_read_a_column_more(tmp_path):
    """lake/day=1/, lake/day=2/: to Spark 'day' is a column the files do not hold; one process would drop it. Each
    partition folder on its own is a plain directory of Parquet files."""
    from keras_ae.errors import UsageError
    from keras_ae.fraud.tables import open_table

    lake = tmp_path / "lake"
    for day in (1, 2):
        (lake / f"day={day}").mkdir(parents=True)
        pd.DataFrame({"a": [1.0, 2.0], "b": [day, day]}).to_parquet(lake / f"day={day}" / "p.parquet", index=False)
    with pytest.raises(UsageError, match=r"lake: .*day=1 is a partition folder \(Spark reads its name, day=1, as a "
                                         r"column 'day'\)"):
        open_table(lake)
    assert open_table(lake / "day=2").header == ["a", "b"]
    assert pd.concat(list(open_table(lake / "day=2").frames(10)))["b"].tolist() == [2, 2]


@pytest.mark.parametrize("folder", [False, True])
def test_a_parquet_column_name_given_twice_is_named(tmp_path, folder):
    """pyarrow says only "duplicate field names"; the message names the file and the column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keras_ae.errors import UsageError
    from keras_ae.fraud.tables import open_table

    table = pa.table([pa.array([1.0, 2.0])] * 3, names=["a", "b", "b"])
    target = tmp_path / "rows" / "part-0.parquet" if folder else tmp_path / "rows.parquet"
    target.parent.mkdir(exist_ok=True)
    pq.write_table(table, target)
    with pytest.raises(UsageError, match=rf"{target.name}: the column name 'b' appears twice"):
        list(open_table(target.parent if folder else target).frames(10))
