"""keras_ae.latent.ops: encode, interpolate, sample, traverse, factor correlations."""

import re

import numpy as np
import pytest

from keras_ae import latent, models
from keras_ae.latent import manifold_grid, ops


@pytest.fixture(scope="module")
def dense_ae():
    return models.build_dense(input_shape=(35,), latent_dim=3, hidden=(16,), activation="tanh")


@pytest.fixture(scope="module")
def dense_vae():
    return models.build_vae(input_shape=(8, 8, 1), latent_dim=2, hidden=(16,), seed=0)


def test_encode_gives_z_mean_for_a_vae_and_the_code_otherwise(dense_ae, dense_vae, rng):
    x = rng.random((5, 8, 8, 1)).astype("float32")
    z = latent.encode(dense_vae, x)
    assert z.shape == (5, 2)
    np.testing.assert_allclose(z, dense_vae.encoder.predict(x, verbose=0)[0], rtol=1e-6)
    assert latent.encode(dense_ae, rng.random((4, 35))).shape == (4, 3)
    assert latent.is_variational(dense_vae) and not latent.is_variational(dense_ae)


@pytest.mark.parametrize("which", ["dense_ae", "dense_vae"])
def test_interpolation_endpoints_decode_to_the_reconstructions(which, request, rng):
    bundle = request.getfixturevalue(which)
    shape = (35,) if which == "dense_ae" else (8, 8, 1)
    a, b = rng.random((2, *shape)).astype("float32")
    path = latent.interpolate(bundle, a, b, steps=6)
    assert path.codes.shape[0] == 6 and path.images.shape == (6, *shape)
    recon = bundle.autoencoder.predict(np.stack([a, b]), verbose=0)
    np.testing.assert_allclose(path.images[0], recon[0], atol=1e-5)
    np.testing.assert_allclose(path.images[-1], recon[1], atol=1e-5)
    # Codes move on a straight line at equal steps.
    steps = np.diff(path.codes, axis=0)
    np.testing.assert_allclose(steps, np.repeat(steps[:1], 5, axis=0), atol=1e-5)


def test_sampling_uses_the_prior_for_a_vae_and_fitted_codes_otherwise(dense_ae, dense_vae, rng):
    drawn = latent.sample(dense_vae, 7, seed=1)
    assert drawn.codes.shape == (7, 2) and drawn.images.shape == (7, 8, 8, 1)
    np.testing.assert_array_equal(drawn.codes, latent.sample(dense_vae, 7, seed=1).codes)
    codes = rng.normal(loc=[5.0, -3.0, 0.0], scale=[0.1, 0.1, 2.0], size=(2000, 3))
    fitted = latent.sample(dense_ae, 4000, codes=codes, seed=0)
    assert fitted.images.shape == (4000, 35)
    np.testing.assert_allclose(fitted.codes.mean(axis=0), [5.0, -3.0, 0.0], atol=0.1)
    np.testing.assert_allclose(fitted.codes.std(axis=0), [0.1, 0.1, 2.0], rtol=0.1)
    with pytest.raises(ValueError, match="no prior"):
        latent.sample(dense_ae, 3)


def test_traverse_moves_one_dimension_per_row(dense_ae):
    offsets, result = latent.traverse(dense_ae, dims=[0, 2], span=1.5, steps=4, base=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(offsets, [-1.5, -0.5, 0.5, 1.5])
    assert result.codes.shape == (2, 4, 3) and result.images.shape == (2, 4, 35)
    np.testing.assert_allclose(result.codes[0, :, 0], 1.0 + offsets)
    np.testing.assert_allclose(result.codes[1, :, 2], 3.0 + offsets)
    np.testing.assert_allclose(result.codes[0, :, 1:], [[2.0, 3.0]] * 4)
    with pytest.raises(ValueError, match="dims in"):
        latent.traverse(dense_ae, dims=[3])


def test_factor_correlation_finds_which_dimension_tracks_which_factor(rng):
    factors = rng.random((500, 2))
    codes = np.column_stack([rng.normal(size=500), -3.0 * factors[:, 0] + 1, factors[:, 1] ** 3,
                             np.zeros(500)])
    corr = latent.factor_correlation(codes, factors)
    assert corr.shape == (4, 2)
    assert corr[1, 0] == pytest.approx(1.0) and corr[2, 1] > 0.9 and corr[3].tolist() == [0.0, 0.0]
    report = latent.factor_report(codes, factors, ["a", "b"])
    assert report["per_factor"]["a"]["best_dim"] == 1 and report["per_factor"]["b"]["best_dim"] == 2
    assert report["per_factor"]["a"]["gap"] > 0.8


def test_mutual_information_gap_is_high_for_one_dimension_per_factor_and_low_for_mixtures(rng):
    factors = rng.random((2000, 2))
    own = latent.mutual_information_gap(np.column_stack([factors[:, 1], rng.normal(size=2000), factors[:, 0]]),
                                        factors, ["a", "b"])
    assert own["mig"] > 0.9 and min(own["per_factor"].values()) > 0.9 and own["bins"] == 20
    mixed = latent.mutual_information_gap(np.column_stack([factors.sum(axis=1), factors[:, 0] - factors[:, 1]]),
                                          factors, ["a", "b"])
    assert mixed["mig"] < 0.1  # each factor shared by two dimensions: no gap
    noise = latent.mutual_information_gap(rng.normal(size=(2000, 3)), factors, ["a", "b"])
    assert noise["mig"] < 0.05
    assert latent.factor_report(factors, factors, ["a", "b"])["mig"]["mig"] > 0.9


def test_the_manifold_grid_covers_where_the_codes_lie():
    from keras_ae.latent import manifold_grid

    rng = np.random.default_rng(0)  # codes far from the prior's [-2, 2] square, as after a short training
    codes = np.column_stack([rng.uniform(-5.5, 1.0, 2000), rng.uniform(-1.5, 6.0, 2000)])
    points, (x0, x1, y0, y1) = manifold_grid(codes, n=15)
    assert points.shape == (225, 2)
    inside = (codes[:, 0] >= x0) & (codes[:, 0] <= x1) & (codes[:, 1] >= y0) & (codes[:, 1] <= y1)
    assert inside.mean() > 0.9  # the grid spans the codes ...
    assert -5.5 <= x0 < -5.0 and 0.5 < x1 <= 1.0 and -1.5 <= y0 < -1.0 and 5.5 < y1 <= 6.0  # ... and no more
    assert points[0, 1] == points.max(axis=0)[1] and points[0, 0] == points.min(axis=0)[0]  # top-left first


def test_collapsed_codes_get_a_unit_window():
    from keras_ae.latent import manifold_grid

    _, (x0, x1, y0, y1) = manifold_grid(np.zeros((50, 2)) + [3.0, -1.0], n=5)
    assert (x0, x1, y0, y1) == (2.5, 3.5, -1.5, -0.5)


def test_one_to_one_gives_each_factor_a_dimension_of_its_own():
    from keras_ae.latent import one_to_one

    # z[0] is the best dimension of both factors; the matching must give factor b to z[1]
    corr = np.array([[0.95, 0.90], [0.10, 0.85], [0.0, 0.0]])
    result = one_to_one(corr, ["a", "b"])
    assert result["dims"] == {"a": {"dim": 0, "abs_r": 0.95}, "b": {"dim": 1, "abs_r": 0.85}}
    assert result["factors_tracked"] == 2 and result["all_tracked"]
    weak = one_to_one(np.array([[0.95, 0.90], [0.10, 0.30]]), ["a", "b"])
    assert weak["dims"]["b"] == {"dim": 1, "abs_r": 0.3}
    assert weak["factors_tracked"] == 1 and not weak["all_tracked"]


def test_nearest_distance_is_the_brute_force_minimum():
    from keras_ae.latent import nearest_distance

    rng = np.random.default_rng(0)
    a, b = rng.random((7, 4, 4, 3)), rng.random((11, 4, 4, 3))
    brute = np.sqrt(((a.reshape(7, 1, -1) - b.reshape(1, 11, -1)) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(nearest_distance(a, b), brute, rtol=1e-5)
    assert nearest_distance(b[:3], b).max() < 1e-3  # an image of the reference is at distance 0


def test_latent_usage_finds_the_collapsed_dimension():
    from keras_ae.latent import latent_usage

    rng = np.random.default_rng(1)
    z_mean = np.stack([rng.normal(0, 1, 500), np.full(500, 0.001)], axis=1)
    z_log_var = np.stack([np.full(500, np.log(0.1)), np.zeros(500)], axis=1)
    usage = latent_usage(z_mean, z_log_var)
    assert usage["active"] == [True, False] and usage["active_dims"] == 1 and not usage["all_active"]
    # KL(N(m, 0.1) || N(0, 1)) = 0.5 (0.1 + m^2 - 1 - log 0.1), averaged over the inputs
    expected = 0.5 * (0.1 + (z_mean[:, 0] ** 2).mean() - 1 - np.log(0.1))
    assert usage["kl_per_dim"][0] == pytest.approx(expected, abs=1e-3)
    assert usage["kl_per_dim"][1] == pytest.approx(0.0, abs=1e-4)


def test_prior_sample_report_compares_samples_with_reconstructions():
    import keras_ae
    from keras_ae.latent import decode, encode, nearest_distance, prior_sample_report, sample

    bundle = keras_ae.build_vae(input_shape=(6, 6, 1), latent_dim=2, hidden=(8,), seed=0)
    rng = np.random.default_rng(2)
    x_train, x_test = rng.random((40, 6, 6, 1)).astype("float32"), rng.random((9, 6, 6, 1)).astype("float32")
    report = prior_sample_report(bundle, x_train, x_test, n=5, seed=3)
    samples = nearest_distance(sample(bundle, 5, seed=3).images, x_train).mean()
    recon = nearest_distance(decode(bundle, encode(bundle, x_test[:5])), x_train).mean()
    assert report["samples"] == 5 and report["reconstructions"] == 5
    assert report["sample_distance"] == pytest.approx(samples, abs=1e-4)
    assert report["reconstruction_distance"] == pytest.approx(recon, abs=1e-4)
    assert report["ratio"] == pytest.approx(samples / recon, abs=1e-3)


@pytest.mark.parametrize("call, message", [
    (lambda m, x: latent.encode(m, x[:0]), "Expected at least one image in x"),
    (lambda m, x: latent.encode(m, x[0]), "Expected x of shape (n, 8, 8, 1), received x.shape=(8, 8, 1)"),
    (lambda m, x: latent.encode(m, np.full_like(x, np.nan)), "x holds NaN or infinite values"),
    (lambda m, x: latent.encode(m, x, batch_size=0), "Expected batch_size to be an integer >= 1"),
    (lambda m, x: latent.interpolate(m, x[:2], x[1]), "Expected a of shape (n, 8, 8, 1)"),
    (lambda m, x: latent.interpolate(m, x[0], np.full_like(x[1], np.inf)), "b holds NaN or infinite values"),
    (lambda m, x: latent.interpolate(m, x[0], x[1], steps=10**9), "steps: 1,000,000,000 images of 256 bytes"),
    (lambda m, x: latent.interpolate(m, x[0], x[1], steps=2.5), "Expected steps to be an integer >= 2"),
    (lambda m, x: latent.sample(m, 10**9), "n: 1,000,000,000 images"),
    (lambda m, x: latent.sample(m, 4, seed=-1), "Expected seed to be an integer >= 0, received seed=-1"),
    (lambda m, x: latent.traverse(m, span=float("nan")), "Expected span to be a finite number >= 0"),
    (lambda m, x: latent.traverse(m, base=np.zeros(3)), "Expected base of 2 values (one code)"),
    (lambda m, x: latent.traverse(m, steps=10**8), "dims x steps: 200,000,000 images"),
    (lambda m, x: latent.decode(m, np.zeros((3, 5))), "Expected codes of shape (n, 2) with n >= 1"),
    (lambda m, x: latent.factor_report(np.zeros((4, 2)), np.ones((4, 3)), ["a"]), "one name for each of the 3"),
    (lambda m, x: latent.factor_correlation(np.zeros((0, 2)), np.ones((0, 3))), "at least one"),
    (lambda m, x: latent.latent_usage(np.full((3, 2), np.nan), np.zeros((3, 2))), "z_mean holds NaN"),
    (lambda m, x: latent.prior_sample_report(m, x[:0], x), "at least one image in x_train"),
    (lambda m, x: latent.encode(m, x.astype(complex)), "Expected x of real numbers, received an array of dtype"),
    (lambda m, x: latent.decode(m, np.zeros((1, 2), complex)), "Expected codes of real numbers"),
    (lambda m, x: latent.decode(m, np.full((1, 2), 1e300)), "beyond float32's range"),
    (lambda m, x: latent.traverse(m, dims=0), "Expected dims as a list of latent dimensions"),
    (lambda m, x: latent.traverse(m, dims=[0.5]), "Expected dims to be an integer >= 0"),
    (lambda m, x: latent.traverse(m, dims=[0, 0]), "Expected dims in [0, 2)"),
    (lambda m, x: latent.latent_usage(np.zeros((3, 2)), np.zeros((3, 2)), threshold=-1), "threshold to be a finite"),
    (lambda m, x: latent.latent_usage(np.zeros((3, 2), complex), np.zeros((3, 2))), "z_mean of real numbers"),
    (lambda m, x: latent.factor_report(np.zeros((4, 2)), np.ones((4, 1)), [1]), "Expected names as strings"),
])
def test_bad_arguments_are_named_before_keras_sees_them(dense_vae, rng, call, message):
    import re

    x = rng.random((4, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError, match=re.escape(message)):
        call(dense_vae, x)


def test_a_plain_autoencoder_samples_only_from_finite_codes_of_its_shape(dense_ae):
    with pytest.raises(ValueError, match=r"Expected codes of shape \(n, 3\)"):
        latent.sample(dense_ae, 4, codes=np.zeros((10, 5)))
    with pytest.raises(ValueError, match="codes holds NaN"):
        latent.sample(dense_ae, 4, codes=np.full((10, 3), np.nan))


def test_images_without_their_channel_axis_are_taken_as_keras_takes_them(dense_vae, rng):
    x = rng.random((3, 8, 8)).astype("float32")
    np.testing.assert_allclose(latent.encode(dense_vae, x), latent.encode(dense_vae, x[..., None]), rtol=1e-6)
    assert latent.interpolate(dense_vae, x[0], x[1], steps=3).images.shape == (3, 8, 8, 1)
    assert latent.sample(dense_vae, 2, seed=np.random.default_rng(0)).images.shape == (2, 8, 8, 1)


@pytest.mark.parametrize(("call", "said"), [
    (lambda: manifold_grid(np.full((5, 2), np.nan)), "codes holds NaN"),
    (lambda: manifold_grid(np.zeros((5, 2)), n=0), "n to be an integer >= 1"),
    (lambda: manifold_grid(np.zeros((5, 2)), coverage=150), "coverage to be a percentage in (0, 100]"),
    (lambda: ops.fit_gaussian(np.full((5, 2), np.nan)), "codes holds NaN"),
    (lambda: ops.fit_gaussian(np.zeros((0, 2))), "at least 2 codes"),
    (lambda: ops.nearest_distance(np.zeros((3, 4)), np.zeros((0, 4))), "each with at least one row"),
    (lambda: ops.nearest_distance(np.zeros((3, 4)), np.zeros((2, 5))), "the same shape but their first axis"),
    (lambda: ops.one_to_one(np.full((3, 2), np.nan), ["a", "b"]), "corr holds NaN"),
    (lambda: ops.one_to_one(np.zeros((3, 2)), ["a"]), "a column per name"),
])
def test_the_code_statistics_name_a_bad_argument(call, said):
    """NaN codes once gave a NaN Gaussian and a grid of NaN points; empty or mismatched arrays NumPy's own messages."""
    with pytest.raises(ValueError, match=re.escape(said)):
        call()
    assert ops.fit_gaussian(np.arange(5.0))[1].shape == (1, 1)  # n codes of one value each


@pytest.mark.parametrize(("call", "message"), [
    (lambda z, f: latent.mutual_information_gap(z, f, ["a", "b", "c"]), "one name for each of the 2 factors"),
    (lambda z, f: latent.mutual_information_gap(z, f, ["a"]), "one name for each of the 2 factors, received 1"),
    (lambda z, f: latent.mutual_information_gap(None, f, ["a", "b"]), "codes"),
    (lambda z, f: latent.mutual_information_gap(z, f, ["a", "b"], bins=1.5), "bins to be an integer >= 2"),
    (lambda z, f: latent.mutual_information_gap(z[:10], f, ["a", "b"]), "as many codes as factor rows"),
    (lambda z, f: latent.factor_report(z, f, ["a", "a"]), "a different name for each factor"),
    (lambda z, f: latent.one_to_one(np.ones((3, 2)), ["a", "b"], threshold=float("nan")), "threshold in [0, 1]"),
    (lambda z, f: latent.one_to_one(np.ones((3, 2)), ["a", "a"]), "a different name for each factor"),
])
def test_the_factor_measures_check_their_arguments(call, message):
    """A names list that does not match the factors (MIG once indexed past it, or left factors out), a repeated
    name (one entry instead of two), bad bins or threshold: a ValueError naming the argument."""
    rng = np.random.default_rng(0)
    z, f = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    with pytest.raises(ValueError, match=re.escape(message)):
        call(z, f)


def test_a_manifold_grid_too_large_to_hold_is_refused_at_once():
    """n=10**5 asked for 10**10 points and ran without end."""
    from keras_ae.latent import manifold_grid

    codes = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=r"n=100,000 makes 10,000,000,000 grid points; at most 23,170 a side"):
        manifold_grid(codes, n=10**5)
    points, _ = manifold_grid(codes, n=3)
    assert points[0, 1] == points[2, 1] > points[3, 1] and points[0, 0] < points[1, 0] < points[2, 0]


def test_8_bit_images_are_refused_and_one_image_may_come_with_its_batch_axis(dense_vae):
    """uint8 pixels 0-255 were encoded as they are (codes off by up to 100); interpolate(x[:1], x[1:2]) was refused
    as a batch of shape (1, 1, 8, 8, 1)."""
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError, match=re.escape("received integers up to 255; scale them first (x / 255)")):
        latent.encode(dense_vae, np.full((2, 8, 8, 1), 255, dtype=np.uint8))
    assert np.allclose(latent.encode(dense_vae, (x > 0.5).astype(np.uint8)),  # 0/1 integers are pixel values
                       latent.encode(dense_vae, (x > 0.5).astype(np.float32)))
    batched, single = latent.interpolate(dense_vae, x[:1], x[1:2]), latent.interpolate(dense_vae, x[0], x[1])
    assert np.allclose(np.asarray(batched.images), np.asarray(single.images))
