"""Credit-card fraud detection: the detector, table readers and writers, chunked and Spark scoring, synthetic data.

Names are imported on first use: scoring code (`keras_ae.fraud.spark` on an executor) loads only what it needs.
"""

from keras_ae.lazy import lazy_names

_SOURCES = {"FraudDetector": ".detector", "NotFittedError": ".detector", "synthetic_transactions": ".synthetic",
            "fetch_creditcard": ".download", "CREDITCARD_URL": ".download"}
__all__ = list(_SOURCES)
__getattr__, __dir__ = lazy_names(__name__, _SOURCES)
