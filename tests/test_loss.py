"""The loss layers against finite differences, scikit-learn and each other.

Covers MultinomialCrossEntropy on raw scores, LinearModelLoss (the blocked,
threaded kernels of softmax.loss.kernels) and Objective with an L2 penalty: with
and without intercept, sample weights, dense / CSR / CSC, float32, two and
five classes, class codes and soft targets.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from softmax.loss import kernels as _kernels
from softmax.loss import native
from softmax.loss.linear import LinearModelLoss
from softmax.loss.cross_entropy import MultinomialCrossEntropy
from softmax.loss.objective import Objective
from softmax.penalties import L2

N, D = 150, 4
LAYOUTS = ["dense", "csr", "csc"]


def _central_gradient(f, w, eps=1e-6):
    """Gradient of the scalar function f by central differences."""
    g = np.empty_like(w)
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = eps
        g[j] = (f(w + e) - f(w - e)) / (2 * eps)
    return g


def _central_directional(grad, w, v, eps=1e-6):
    """Hessian-vector product by central differences of the gradient."""
    return (grad(w + eps * v) - grad(w - eps * v)) / (2 * eps)


def _data(k, *, layout="dense", dtype=np.float64, soft=False, weighted=True, n=N, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    X[rng.random((n, D)) < 0.3] = 0.0  # some structure for the sparse layouts
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    if soft:
        y = rng.dirichlet(np.ones(k), size=n)
    sw = rng.uniform(0.2, 2.0, n) if weighted else None
    X = X.astype(dtype)
    if layout != "dense":
        X = sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    return X, y, sw


def _onehot(y, k):
    return np.eye(k)[y]


@pytest.fixture
def small_blocks(monkeypatch):
    """The NumPy block path, with several row blocks, chunks and threads on small data."""
    monkeypatch.setattr(_kernels, "_BLOCK_BYTES", 1)  # 64-row blocks (the minimum)
    monkeypatch.setattr(_kernels, "_MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(_kernels, "_COMPILED_MIN_WORK", float("inf"))


@pytest.fixture
def compiled(monkeypatch):
    """The Numba kernels, with several chunks and threads on small data.

    Dense data with at most ``_FUSED_MAX_CLASSES`` classes gets the fused
    kernels (whatever its number of features), more classes the block path.
    The C kernels, which would take the fused cases first, are switched off
    (tests/test_native.py tests them).
    """
    pytest.importorskip("numba")
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(_kernels, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(_kernels, "_MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(_kernels, "_COMPILED_MIN_WORK", 0)
    monkeypatch.setattr(_kernels, "_FUSED_MIN_FEATURES", 0)


# -- MultinomialCrossEntropy on raw scores ---------------------------------------------------


@pytest.mark.parametrize("k", [2, 5])
@pytest.mark.parametrize("soft", [False, True])
def test_raw_gradient_and_hessp_match_finite_differences(k, soft):
    _, y, sw = _data(k, soft=soft, n=20)
    rng = np.random.default_rng(1)
    raw = 2 * rng.standard_normal((20, k))
    base = MultinomialCrossEntropy()
    value, grad, proba = base.loss_gradient(y, raw, sw)
    f = lambda r: base.loss(y, r.reshape(raw.shape), sw)  # noqa: E731
    np.testing.assert_allclose(grad.ravel(), _central_gradient(f, raw.ravel()), rtol=1e-6, atol=1e-8)
    assert value == pytest.approx(f(raw.ravel()), rel=1e-14)

    v = rng.standard_normal(raw.shape)
    g = lambda r: base.loss_gradient(y, r.reshape(raw.shape), sw)[1].ravel()  # noqa: E731
    hv = base.hessian_product(proba, v, sw)
    np.testing.assert_allclose(
        hv.ravel(), _central_directional(g, raw.ravel(), v.ravel()), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("k", [2, 5])
def test_raw_value_is_sklearn_log_loss_times_n(k):
    _, y, sw = _data(k, n=40)
    raw = 3 * np.random.default_rng(2).standard_normal((40, k))
    base = MultinomialCrossEntropy()
    _, proba = base.log_normalizer_proba(raw)
    labels = np.arange(k)
    expected = log_loss(y, proba, labels=labels, normalize=False)
    assert base.loss(y, raw) == pytest.approx(expected, rel=1e-10)
    expected_w = log_loss(y, proba, labels=labels, sample_weight=sw) * sw.sum()
    assert base.loss(y, raw, sw) == pytest.approx(expected_w, rel=1e-10)
    # Soft targets: the cross-entropy -sum_c t_c log p_c.
    t = np.random.default_rng(3).dirichlet(np.ones(k), size=40)
    assert base.loss(t, raw, sw) == pytest.approx(-(sw[:, None] * t * np.log(proba)).sum(), rel=1e-10)


def test_raw_onehot_targets_equal_class_codes():
    _, y, sw = _data(5, n=30)
    raw = np.random.default_rng(4).standard_normal((30, 5))
    base = MultinomialCrossEntropy()
    v1, g1, p1 = base.loss_gradient(y, raw, sw)
    v2, g2, p2 = base.loss_gradient(_onehot(y, 5), raw, sw)
    assert v1 == pytest.approx(v2, rel=1e-14)
    np.testing.assert_allclose(g1, g2, atol=1e-15)
    np.testing.assert_array_equal(p1, p2)


@pytest.mark.parametrize("soft", [False, True])
def test_raw_shift_invariance(soft):
    _, y, sw = _data(5, n=30, soft=soft)
    raw = np.random.default_rng(5).standard_normal((30, 5))
    shift = np.random.default_rng(6).standard_normal((30, 1)) * 10
    base = MultinomialCrossEntropy()
    assert base.loss(y, raw + shift, sw) == pytest.approx(base.loss(y, raw, sw), rel=1e-12)


# -- LinearModelLoss --------------------------------------------------------------------------


def _linear(k, fit_intercept, threads=1):
    return LinearModelLoss(k, D, fit_intercept, n_threads=threads)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("k", [2, 5])
@pytest.mark.parametrize("soft", [False, True])
def test_linear_gradient_and_hessp_match_finite_differences(layout, fit_intercept, k, soft, small_blocks):
    X, y, sw = _data(k, layout=layout, soft=soft)
    ll = _linear(k, fit_intercept, threads=2)
    rng = np.random.default_rng(7)
    w = 0.5 * rng.standard_normal(ll.n_params)
    value, grad, hessp = ll.loss_gradient_hessp(w, X, y, sw)
    f = lambda u: ll.loss(u, X, y, sw)  # noqa: E731
    assert value == pytest.approx(f(w), rel=1e-13)
    np.testing.assert_allclose(ll.loss_gradient(w, X, y, sw)[1], grad, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad, _central_gradient(f, w), rtol=1e-6, atol=1e-7)
    v = rng.standard_normal(ll.n_params)
    g = lambda u: ll.loss_gradient(u, X, y, sw)[1]  # noqa: E731
    np.testing.assert_allclose(hessp(v), _central_directional(g, w, v), rtol=1e-6, atol=1e-7)


def _reference(ll, w, X, y, sw):
    """Value and gradient the straightforward way: all raw scores, then X.T @ G."""
    raw = ll.raw_prediction(X, *ll.unpack(w))
    value, grad_raw, _ = ll.base_loss.loss_gradient(y, raw, sw)
    return value, ll._gradient_from_raw(X, grad_raw)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_threaded_kernel_equals_reference(layout, soft, weighted, small_blocks):
    X, y, sw = _data(5, layout=layout, soft=soft, weighted=weighted, n=300)
    w = np.random.default_rng(8).standard_normal(5 * (D + 1))
    expected_value, expected_grad = _reference(_linear(5, True), w, X, y, sw)
    for threads in (1, 2, 3):
        value, grad = _linear(5, True, threads).loss_gradient(w, X, y, sw)
        assert value == pytest.approx(expected_value, rel=1e-13)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)


def test_linear_value_is_sklearn_log_loss_times_n():
    X, y, sw = _data(5)
    ll = _linear(5, True)
    w = np.random.default_rng(9).standard_normal(ll.n_params)
    proba = MultinomialCrossEntropy.log_normalizer_proba(ll.raw_prediction(X, *ll.unpack(w)))[1]
    assert ll.loss(w, X, y) == pytest.approx(log_loss(y, proba, normalize=False), rel=1e-10)
    assert ll.loss(w, X, y, sw) == pytest.approx(log_loss(y, proba, sample_weight=sw) * sw.sum(), rel=1e-10)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_linear_onehot_targets_equal_class_codes(layout, small_blocks):
    X, y, sw = _data(5, layout=layout)
    ll = _linear(5, True, threads=2)
    w = np.random.default_rng(10).standard_normal(ll.n_params)
    v = np.random.default_rng(11).standard_normal(ll.n_params)
    v1, g1, h1 = ll.loss_gradient_hessp(w, X, y, sw)
    v2, g2, h2 = ll.loss_gradient_hessp(w, X, _onehot(y, 5), sw)
    assert v1 == pytest.approx(v2, rel=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(h1(v), h2(v), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("soft", [False, True])
def test_linear_shift_invariance(soft):
    X, y, sw = _data(5, soft=soft)
    ll = _linear(5, True)
    rng = np.random.default_rng(12)
    w = rng.standard_normal(ll.n_params)
    # The same vector added to every class row (coef and intercept) changes no score difference.
    shifted = (w.reshape(5, -1) + rng.standard_normal(D + 1)).ravel()
    assert ll.loss(shifted, X, y, sw) == pytest.approx(ll.loss(w, X, y, sw), rel=1e-12)
    # ... so the gradient is orthogonal to such shifts: its class rows sum to zero.
    np.testing.assert_allclose(ll.loss_gradient(w, X, y, sw)[1].reshape(5, -1).sum(axis=0), 0, atol=1e-11)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("soft", [False, True])
def test_float32_is_computed_in_float32_and_close_to_float64(layout, soft, small_blocks):
    X, y, sw = _data(5, layout=layout, soft=soft)
    X32 = X.astype(np.float32)
    ll = _linear(5, True, threads=2)
    rng = np.random.default_rng(13)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    value64, grad64, hessp64 = ll.loss_gradient_hessp(w, X, y, sw)
    value32, grad32, hessp32 = ll.loss_gradient_hessp(w, X32, y, sw.astype(np.float32))
    assert isinstance(value32, float) and grad32.dtype == np.float64
    assert value32 == pytest.approx(value64, rel=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(hessp32(v), hessp64(v), rtol=1e-4, atol=1e-4)
    # Finite differences in float32 need a large step, hence the loose tolerance.
    f = lambda u: ll.loss(u, X32, y, sw)  # noqa: E731
    np.testing.assert_allclose(grad32, _central_gradient(f, w, eps=1e-2), rtol=1e-2, atol=1e-2)


def test_results_are_deterministic(small_blocks):
    X, y, sw = _data(5, n=1000)
    ll = _linear(5, True, threads=2)
    w = np.random.default_rng(14).standard_normal(ll.n_params)
    first = ll.loss_gradient(w, X, y, sw)
    for _ in range(3):
        again = ll.loss_gradient(w, X, y, sw)
        assert again[0] == first[0]
        np.testing.assert_array_equal(again[1], first[1])


def test_extreme_scores_stay_finite():
    X, y, sw = _data(5)
    ll = _linear(5, True)
    w = 1e4 * np.random.default_rng(15).standard_normal(ll.n_params)
    value, grad = ll.loss_gradient(w, X, y, sw)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


# -- Objective with L2 --------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("soft", [False, True])
def test_objective_gradient_and_hessp_match_finite_differences(layout, fit_intercept, soft):
    X, y, sw = _data(5, layout=layout, soft=soft)
    ll = _linear(5, fit_intercept)
    objective = Objective(ll, L2(0.7), X, y, sw)
    rng = np.random.default_rng(16)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    value, grad, hessp = objective.value_grad_hessp(w)
    assert value == pytest.approx(objective.value(w), rel=1e-13)
    np.testing.assert_allclose(grad, objective.value_grad(w)[1], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad, _central_gradient(objective.value, w), rtol=1e-6, atol=1e-8)
    g = lambda u: objective.value_grad(u)[1]  # noqa: E731
    np.testing.assert_allclose(hessp(v), _central_directional(g, w, v), rtol=1e-6, atol=1e-8)


# -- threads --------------------------------------------------------------------------------------


def test_n_threads_respects_limits(monkeypatch):
    monkeypatch.delenv("SOFTMAX_NUM_THREADS", raising=False)
    assert _kernels.n_threads() >= 1
    with threadpool_limits(1, user_api="blas"):
        assert _kernels.n_threads() == 1
        # Resolved at construction: a solver's later BLAS limit does not shrink it.
        assert LinearModelLoss(3, 2, True).n_threads == 1
    monkeypatch.setenv("SOFTMAX_NUM_THREADS", "1")
    assert _kernels.n_threads() == 1
    assert LinearModelLoss(3, 2, True, n_threads=4).n_threads == 4


# -- the compiled (Numba) kernels ----------------------------------------------------------------


def _numpy_path(monkeypatch, f):
    with monkeypatch.context() as m:
        m.setattr(_kernels, "_COMPILED_MIN_WORK", float("inf"))
        return f()


# Compiling the kernels for one dtype takes ~4 s on a fresh machine (then they
# are cached on disk): float32 runs with the slow tests only.
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_compiled_kernels_equal_numpy_path(dtype, soft, weighted, fit_intercept, compiled, monkeypatch):
    X, y, sw = _data(5, dtype=dtype, soft=soft, weighted=weighted, n=301)  # odd: a lone last row
    rng = np.random.default_rng(17)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    for threads in (1, 2):
        ll = _linear(5, fit_intercept, threads)
        w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
        value, grad, hessp = ll.loss_gradient_hessp(w, X, y, sw)
        ref_value, ref_grad, ref_hessp = _numpy_path(monkeypatch, lambda: ll.loss_gradient_hessp(w, X, y, sw))
        assert value == pytest.approx(ref_value, rel=rtol)
        assert ll.loss(w, X, y, sw) == pytest.approx(ref_value, rel=rtol)
        np.testing.assert_allclose(grad, ref_grad, rtol=rtol, atol=rtol * np.abs(ref_grad).max())
        hv, ref_hv = hessp(v), _numpy_path(monkeypatch, lambda: ref_hessp(v))
        np.testing.assert_allclose(hv, ref_hv, rtol=rtol, atol=rtol * np.abs(ref_hv).max())


def test_compiled_loss_over_long_runs_of_equal_weights(compiled):
    # The fused kernel takes one log per run of rows of equal weight, of the product
    # of their totals (each in [1, k]), flushed before it passes 1e280: with all
    # scores equal every total is k, so 1001 rows flush three times on one thread.
    k, n = 10, 1001
    X = np.random.default_rng(3).standard_normal((n, D))
    y = np.arange(n) % k
    ll = _linear(k, True, threads=1)
    w = np.zeros(ll.n_params)
    for sw in (None, np.full(n, 0.5), np.where(np.arange(n) < 600, 2.0, 0.5)):
        expected = np.log(k) * (n if sw is None else sw.sum())
        assert ll.loss(w, X, y, sw) == pytest.approx(expected, rel=1e-13)
    X[500, 0] = np.nan  # a NaN row still makes the loss NaN
    assert np.isnan(ll.loss(w, X, y))


@pytest.mark.parametrize("soft", [False, True])
def test_compiled_gradient_and_hessp_match_finite_differences(soft, compiled):
    X, y, sw = _data(2, soft=soft, n=151)
    ll = _linear(2, True, threads=2)
    rng = np.random.default_rng(18)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    value, grad, hessp = ll.loss_gradient_hessp(w, X, y, sw)
    f = lambda u: ll.loss(u, X, y, sw)  # noqa: E731
    np.testing.assert_allclose(grad, _central_gradient(f, w), rtol=1e-6, atol=1e-7)
    g = lambda u: ll.loss_gradient(u, X, y, sw)[1]  # noqa: E731
    np.testing.assert_allclose(hessp(v), _central_directional(g, w, v), rtol=1e-6, atol=1e-7)


# -- many classes: BLAS products with the compiled element-wise kernels between ------------------


def _formula(X, y, sw, coef, intercept, v_coef, v_intercept):
    """Value, gradient and Hessian-vector product by the textbook formulas, in float64."""
    X = np.asarray(X.todense() if sp.issparse(X) else X, dtype=np.float64)
    n, k = X.shape[0], coef.shape[0]
    s = np.ones(n) if sw is None else sw
    T = _onehot(y, k) if y.ndim == 1 else y
    Z = X @ coef.T + intercept
    m = Z.max(axis=1, keepdims=True)
    P = np.exp(Z - m)
    lse = np.log(P.sum(axis=1)) + m[:, 0]
    P /= P.sum(axis=1, keepdims=True)
    value = float(s @ (lse - (T * Z).sum(axis=1)))
    G = s[:, None] * (P - T)
    U = X @ v_coef.T + v_intercept
    H = s[:, None] * P * (U - (P * U).sum(axis=1, keepdims=True))
    return value, np.hstack([G.T @ X, G.sum(0)[:, None]]), np.hstack([H.T @ X, H.sum(0)[:, None]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_many_classes_equal_the_formula(dtype, layout, soft, weighted, compiled):
    k = 3 * _kernels._FUSED_MAX_CLASSES  # past the crossover: the block path
    X, y, sw = _data(k, dtype=dtype, layout=layout, soft=soft, weighted=weighted, n=301)
    ll = _linear(k, True, threads=2)
    rng = np.random.default_rng(19)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    value, grad, hessp = ll.loss_gradient_hessp(w, X, y, sw)
    ref_value, ref_grad, ref_hv = _formula(X, y, sw, *ll.unpack(w), *ll.unpack(v))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert value == pytest.approx(ref_value, rel=rtol)
    assert ll.loss(w, X, y, sw) == pytest.approx(ref_value, rel=rtol)
    np.testing.assert_allclose(grad, ref_grad.ravel(), atol=rtol * np.abs(ref_grad).max())
    hv = hessp(v)
    np.testing.assert_allclose(hv, ref_hv.ravel(), atol=rtol * np.abs(ref_hv).max())


@pytest.mark.parametrize("soft", [False, True])
def test_many_classes_match_finite_differences(soft, compiled):
    k = _kernels._FUSED_MAX_CLASSES + 1
    X, y, sw = _data(k, soft=soft, n=151)
    ll = _linear(k, False, threads=2)
    rng = np.random.default_rng(20)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    value, grad, hessp = ll.loss_gradient_hessp(w, X, y, sw)
    f = lambda u: ll.loss(u, X, y, sw)  # noqa: E731
    np.testing.assert_allclose(grad, _central_gradient(f, w), rtol=1e-6, atol=1e-7)
    g = lambda u: ll.loss_gradient(u, X, y, sw)[1]  # noqa: E731
    np.testing.assert_allclose(hessp(v), _central_directional(g, w, v), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_classes_extreme_scores(dtype, compiled):
    """The compiled exp: underflow gives 0, not NaN; a NaN input gives NaN."""
    k = 2 * _kernels._FUSED_MAX_CLASSES
    X, y, sw = _data(k, dtype=dtype)
    ll = _linear(k, True)
    w = 1e4 * np.random.default_rng(21).standard_normal(ll.n_params)
    value, grad = ll.loss_gradient(w, X, y, sw)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(_formula(X, y, sw, *ll.unpack(w), *ll.unpack(w))[0], rel=1e-6)
    X[0, 0] = np.nan
    assert np.isnan(ll.loss(w, X, y, sw))


# -- CSR rows on the compiled kernels (softmax.loss.sparse_kernels) ---------------------------


def _csr_variants(X):
    """CSR ``X`` as SciPy builds it, with 64-bit indices, and unsorted with duplicate entries."""
    wide = X.copy()  # the constructor would take int64 indices down to int32
    wide.indices, wide.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    # Each row's entries reversed, then again: unsorted, every value split over two duplicates.
    parts = [slice(X.indptr[i], X.indptr[i + 1]) for i in range(X.shape[0])]
    cols = np.concatenate([np.tile(X.indices[r][::-1], 2) for r in parts]).astype(np.int32)
    data = np.concatenate([np.tile(X.data[r][::-1] / 2, 2) for r in parts]).astype(X.dtype)
    messy = sp.csr_matrix((data, cols, 2 * X.indptr), X.shape)
    assert not messy.has_canonical_format
    return {"scipy": X, "int64": wide, "messy": messy}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [3, 2 * 10 + 1])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_csr_kernels_equal_the_formula(dtype, k, soft, weighted, compiled, monkeypatch):
    from softmax.loss import sparse_kernels

    monkeypatch.setattr(_kernels, "_CSR_BLOCK_BYTES", 1)  # 64-row blocks, two threads
    monkeypatch.setattr(_kernels, "_CSR_PARALLEL_BLOCK_BYTES", 1)
    calls = []
    for name in ("csr_scores_T", "csr_accumulate_T"):
        kernel = getattr(sparse_kernels, name)
        monkeypatch.setattr(sparse_kernels, name,
                            lambda *a, kernel=kernel, name=name: calls.append(name) or kernel(*a))
    X, y, sw = _data(k, dtype=dtype, layout="csr", soft=soft, weighted=weighted, n=301)
    ll = _linear(k, True, threads=2)
    rng = np.random.default_rng(22)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    ref_value, ref_grad, ref_hv = _formula(X, y, sw, *ll.unpack(w), *ll.unpack(v))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for variant, Xv in _csr_variants(X).items():
        calls.clear()
        assert variant != "int64" or Xv.indices.dtype == np.int64
        value, grad, hessp = ll.loss_gradient_hessp(w, Xv, y, sw)
        assert value == pytest.approx(ref_value, rel=rtol), variant
        assert ll.loss(w, Xv, y, sw) == pytest.approx(ref_value, rel=rtol)
        np.testing.assert_allclose(grad, ref_grad.ravel(), atol=rtol * np.abs(ref_grad).max())
        np.testing.assert_allclose(hessp(v), ref_hv.ravel(), atol=rtol * np.abs(ref_hv).max())
        assert calls.count("csr_accumulate_T") >= 2 * 5, variant  # blocks on the CSR kernels
        assert grad.dtype == np.float64


def test_csr_kernels_match_finite_differences(compiled, monkeypatch):
    monkeypatch.setattr(_kernels, "_CSR_BLOCK_BYTES", 1)
    monkeypatch.setattr(_kernels, "_CSR_PARALLEL_BLOCK_BYTES", 1)
    k = 4
    X, y, sw = _data(k, layout="csr", n=151)
    ll = _linear(k, True, threads=2)
    rng = np.random.default_rng(23)
    w, v = rng.standard_normal(ll.n_params), rng.standard_normal(ll.n_params)
    value, grad, hessp = ll.loss_gradient_hessp(w, X, y, sw)
    f = lambda u: ll.loss(u, X, y, sw)  # noqa: E731
    np.testing.assert_allclose(grad, _central_gradient(f, w), rtol=1e-6, atol=1e-7)
    g = lambda u: ll.loss_gradient(u, X, y, sw)[1]  # noqa: E731
    np.testing.assert_allclose(hessp(v), _central_directional(g, w, v), rtol=1e-6, atol=1e-7)
