"""keras_ae.anomaly.metrics: detection metrics at a threshold, on known values."""

import numpy as np
import pytest

from keras_ae import anomaly

SCORES = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])


LABELS = np.array([0, 0, 0, 1, 0, 1, 1, 1])


def test_detection_metrics_known_values():
    m = anomaly.detection_metrics(SCORES, LABELS, threshold=3.5)
    assert m["confusion_matrix"] == {"tn": 3, "fp": 1, "fn": 0, "tp": 4}
    assert m["accuracy"] == pytest.approx(7 / 8)
    assert m["precision"] == pytest.approx(0.8) and m["recall"] == 1.0
    assert m["roc_auc"] == pytest.approx(15 / 16)  # 15 of the 16 (anomaly, normal) pairs ordered right
    # scikit-learn's documented example: AP of [0.1, 0.4, 0.35, 0.8] with labels [0, 0, 1, 1] is 0.8333
    ap = anomaly.detection_metrics([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5)["average_precision"]
    assert ap == pytest.approx(0.8333, abs=1e-4)


def test_an_unscorable_row_scored_inf_ranks_first_and_is_flagged():
    from keras_ae.anomaly.metrics import detection_metrics

    scores = np.array([0.1, 0.2, np.inf, 0.3, 5.0])
    labels = np.array([0, 0, 1, 0, 1])
    m = detection_metrics(scores, labels, threshold=1.0)
    assert m["roc_auc"] == 1.0 and m["confusion_matrix"]["tp"] == 2
    assert detection_metrics(np.array([0.1, np.inf, 0.2, np.inf]), np.array([0, 0, 1, 1]), 1.0)["roc_auc"] == 0.625
    with pytest.raises(ValueError, match="NaN"):
        detection_metrics(np.array([0.1, np.nan]), np.array([0, 1]), 1.0)
