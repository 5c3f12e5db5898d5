"""Properties of softmax.functions, mostly by hypothesis."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from scipy import special

from softmax.functions import hardmax, log_softmax, logsumexp, normalize, sigmoid, softmax

finite = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
moderate = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
betas = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
score_arrays = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=finite)
moderate_arrays = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), elements=moderate)


def _axis(data, z):
    return data.draw(st.integers(-z.ndim, z.ndim - 1))


# -- the article's numbers ---------------------------------------------------------------


def test_article_numbers():
    np.testing.assert_allclose(softmax([3, 7, 14]), [1.7e-5, 9.1e-4, 0.999], rtol=0.02)
    np.testing.assert_allclose(softmax([0.3, 0.7, 1.4]), [0.18, 0.27, 0.55], atol=0.005)
    # sum-normalisation ignores scale: both give 0.13, 0.29, 0.58 (3/24 = 0.125 rounds to 0.13)
    for z in ([3, 7, 14], [0.3, 0.7, 1.4]):
        np.testing.assert_allclose(normalize(z), [0.125, 7 / 24, 14 / 24])
    np.testing.assert_array_equal(hardmax([3, 7, 14]), [0, 0, 1])


# -- softmax --------------------------------------------------------------------------------


@given(score_arrays, st.data(), betas)
def test_softmax_is_a_distribution(z, data, beta):
    axis = _axis(data, z)
    p = softmax(z, axis=axis, beta=beta)
    assert p.shape == z.shape and p.dtype == z.dtype
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)


@given(moderate_arrays, st.data())
def test_softmax_matches_scipy_and_log_softmax(z, data):
    axis = _axis(data, z)
    np.testing.assert_allclose(softmax(z, axis=axis), special.softmax(z, axis=axis), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(log_softmax(z, axis=axis), special.log_softmax(z, axis=axis), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z, axis=axis)), softmax(z, axis=axis), rtol=1e-12, atol=1e-300)


@given(arrays(np.float64, st.integers(1, 6), elements=moderate), moderate)
def test_softmax_is_shift_invariant(z, c):
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=1e-9, atol=1e-300)


@given(arrays(np.float64, st.integers(2, 6), elements=moderate, unique=True), st.floats(0.01, 100))
def test_softmax_is_order_preserving_and_beta_is_scale(z, beta):
    p = softmax(z, beta=beta)
    # Weakly order-preserving: rounding may tie two close scores, never swap them.
    assert np.all(np.diff(p[np.argsort(z)]) >= 0)
    np.testing.assert_allclose(p, softmax(beta * z), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(softmax(z, beta=-beta), softmax(-z, beta=beta), rtol=1e-9, atol=1e-300)


@given(arrays(np.float64, st.integers(1, 6), elements=finite))
def test_beta_limits(z):
    np.testing.assert_allclose(softmax(z, beta=0), np.full(z.shape, 1 / z.size))
    with np.errstate(over="ignore"):
        # Scores a distance >= 1e-3 apart: beta = 1e6 puts all mass on the maximum (ties share it).
        spread = np.unique(z)
        if spread.size < 2 or np.min(np.diff(spread)) > 1e-3:
            np.testing.assert_allclose(softmax(z, beta=1e6), hardmax(z), atol=1e-12)


@given(arrays(np.float32, st.integers(1, 6), elements=st.floats(float(np.float32(-3e38)), float(np.float32(3e38)), width=32, allow_nan=False, allow_infinity=False)), betas)
def test_float32_stays_float32(z, beta):
    for f in (softmax, log_softmax):
        assert f(z, beta=beta).dtype == np.float32
    assert logsumexp(z).dtype == np.float32
    assert sigmoid(z).dtype == np.float32
    assert hardmax(z).dtype == np.float32
    assert np.all(np.isfinite(softmax(z, beta=beta)))


def test_extreme_scores_do_not_overflow():
    np.testing.assert_allclose(softmax([1000, 1001]), [1 / (1 + np.e), np.e / (1 + np.e)])
    np.testing.assert_allclose(softmax([-1e308, 0]), [0, 1])
    np.testing.assert_allclose(softmax([-1e308, -1e308]), [0.5, 0.5])
    np.testing.assert_allclose(softmax([1e308, -1e308]), [1, 0])
    np.testing.assert_allclose(softmax([1, 2], beta=1e308), [0, 1])
    np.testing.assert_allclose(softmax([np.inf, 0, np.inf]), [0.5, 0, 0.5])
    # A beta below float32's smallest number: gaps vanish, -inf scores keep probability 0.
    tiny = np.float32([-2.3e38, 1.1e38, -np.inf])
    np.testing.assert_array_equal(softmax(tiny, beta=1e-300), np.float32([0.5, 0.5, 0]))
    np.testing.assert_allclose(log_softmax([1000, 1001]), [-np.log1p(np.e), -np.log1p(1 / np.e)])
    # Where log(softmax) would give log(0) = -inf, log_softmax stays exact.
    np.testing.assert_array_equal(log_softmax([-1e308, 0]), [-1e308, 0])


def test_integer_and_list_input_and_bad_input():
    assert softmax([1, 2, 3]).dtype == np.float64
    assert softmax(np.array([True, False])).dtype == np.float64
    with pytest.raises(TypeError, match="real numbers"):
        softmax(["a", "b"])
    with pytest.raises(ValueError, match="beta"):
        softmax([1, 2], beta=np.nan)


# -- logsumexp, hardmax, normalize, sigmoid --------------------------------------------------


@given(score_arrays, st.data())
def test_logsumexp_bounds(z, data):
    axis = _axis(data, z)
    out = logsumexp(z, axis=axis)
    m = np.max(z, axis=axis)
    assert np.all(out >= m) and np.all(out <= m + np.log(z.shape[axis]) * (1 + 1e-12) + 1e-12 * np.abs(m))
    assert logsumexp(z, axis=axis, keepdims=True).shape == tuple(1 if i == axis % z.ndim else s for i, s in enumerate(z.shape))


@given(moderate_arrays, st.data())
def test_hardmax_is_distribution_on_the_maxima(z, data):
    axis = _axis(data, z)
    h = hardmax(z, axis=axis)
    np.testing.assert_allclose(h.sum(axis=axis), 1)
    assert np.all((h > 0) == (z == np.max(z, axis=axis, keepdims=True)))


@given(arrays(np.float64, st.integers(1, 6), elements=st.floats(0.01, 1e6)), st.floats(0.001, 1000))
def test_normalize_ignores_scale(z, c):
    np.testing.assert_allclose(normalize(z * c), normalize(z), rtol=1e-9)
    np.testing.assert_allclose(normalize(z).sum(), 1)


def test_normalize_flaws_and_errors():
    assert np.any(normalize([-1, 3]) < 0)  # a negative "probability", the article's point
    with pytest.raises(ValueError, match="sum to zero"):
        normalize([1, -1])
    with pytest.raises(ValueError, match="sum to zero"):
        normalize([[1, 2], [0, 0]], axis=1)


@given(st.floats(-1e300, 1e300, allow_nan=False), st.floats(-100, 100))
def test_two_class_softmax_is_the_sigmoid(x, beta):
    np.testing.assert_allclose(softmax([0.0, x], beta=beta)[1], sigmoid(x, beta=beta), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sigmoid(x) + sigmoid(-x), 1.0, rtol=1e-15)


@settings(max_examples=50)
@given(arrays(np.float64, st.integers(1, 10), elements=moderate))
def test_sigmoid_matches_scipy(x):
    np.testing.assert_allclose(sigmoid(x), special.expit(x), rtol=1e-15)
