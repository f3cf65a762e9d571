"""fetch_creditcard: the real download code, tested on fake files (file:// origins, no network)."""

import pytest

from keras_ae.data.mnist import DownloadError
from keras_ae.fraud import fetch_creditcard, synthetic_transactions
from keras_ae.fraud.download import CREDITCARD_URL


def test_downloads_once_into_the_cache_and_checks_the_columns(tmp_path):
    src = tmp_path / "remote.csv"
    synthetic_transactions(50, seed=1).to_csv(src, index=False)
    cache = tmp_path / "cache"
    path = fetch_creditcard(cache_dir=cache, origin=src.as_uri())
    assert path == cache / "datasets" / "creditcard.csv" and path.read_bytes() == src.read_bytes()
    src.unlink()  # a second call reads the cached copy
    assert fetch_creditcard(cache_dir=cache, origin=src.as_uri()) == path


def test_a_file_that_is_not_the_credit_card_table_is_refused(tmp_path):
    src = tmp_path / "other.csv"
    src.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not the credit-card table.*'Time'"):
        fetch_creditcard(cache_dir=tmp_path / "cache", origin=src.as_uri())


def test_no_network_is_one_clear_error(tmp_path):
    with pytest.raises(DownloadError, match="cannot download .*Kaggle"):
        fetch_creditcard(cache_dir=tmp_path / "cache", origin=(tmp_path / "missing.csv").as_uri())
    assert not (tmp_path / "cache" / "datasets" / "creditcard.csv").exists()  # nothing half-written
    assert CREDITCARD_URL.startswith("https://")
