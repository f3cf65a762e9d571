"""Credit-card fraud detection: reconstruction-error detector, CSV checks, chunked scoring, synthetic data."""

from keras_ae.fraud.detector import FraudDetector, NotFittedError
from keras_ae.fraud.synthetic import synthetic_transactions

__all__ = ["FraudDetector", "NotFittedError", "synthetic_transactions"]
