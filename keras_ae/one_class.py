"""Old import path of `keras_ae.anomaly.one_class` (``from keras_ae import one_class`` keeps working)."""

from keras_ae.anomaly.image_scores import IMAGE_SCORES, RECOMMENDED, check_score, describe_score
from keras_ae.anomaly.one_class import ImageScorer, OneClassSplits, one_class_splits

SCORES = IMAGE_SCORES
__all__ = ["IMAGE_SCORES", "RECOMMENDED", "SCORES", "ImageScorer", "OneClassSplits", "check_score",
           "describe_score", "one_class_splits"]
