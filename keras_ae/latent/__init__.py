"""Latent-space tools for a trained autoencoder: encode, decode, interpolate, sample, traverse, factor reports
(`keras_ae.latent.ops`), and their figures (`keras_ae.latent.figures`)."""

from keras_ae.latent.ops import (
    Decoded,
    code_shape,
    decode,
    encode,
    factor_correlation,
    factor_report,
    fit_gaussian,
    interpolate,
    is_variational,
    latent_usage,
    manifold_grid,
    mutual_information_gap,
    nearest_distance,
    one_to_one,
    prior_sample_report,
    sample,
    traverse,
)

__all__ = ["Decoded", "code_shape", "decode", "encode", "factor_correlation", "factor_report", "fit_gaussian",
           "interpolate", "is_variational", "latent_usage", "manifold_grid", "mutual_information_gap",
           "nearest_distance", "one_to_one", "prior_sample_report", "sample", "traverse"]
