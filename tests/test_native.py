"""The C kernels of softmax.loss.native against the textbook formulas, per instruction set.

Every instruction set this CPU runs is tested (AVX-512, AVX2, the 16-byte
baseline), in float64 and float32, with class codes and soft targets,
weights (zeros too), kept probabilities, chunks that split blocks of rows,
and every number of classes up to the most a set takes.
"""

import ctypes
import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softmax.loss import kernels, native
from softmax.loss.linear import LinearModelLoss

pytestmark = pytest.mark.skipif(not native.available(), reason="the C kernels are not built")

ROOT = Path(__file__).resolve().parents[1]
BEST = native.ISAS.index(native.isa()) if native.available() else -1
RUNNABLE = [isa for isa in native.ISAS if native.ISAS.index(isa) <= BEST]


@pytest.fixture(params=RUNNABLE)
def isa(request, monkeypatch):
    monkeypatch.setattr(native, "_isa", native.ISAS.index(request.param))
    return request.param


def _formula(X, T, sw, W, b, V, vb):
    """Loss, ``(k, d)`` gradient, intercept gradient, probabilities, Hessian product: float64."""
    X = X.astype(np.float64)
    Z = X @ W.T + b
    m = Z.max(axis=1, keepdims=True)
    P = np.exp(Z - m)
    total = P.sum(axis=1)
    P /= total[:, None]
    loss = float(sw @ (np.log(total) + m[:, 0] - (T * Z).sum(axis=1)))
    G = sw[:, None] * (P - T)
    U = X @ V.T + vb
    H = sw[:, None] * P * (U - (P * U).sum(axis=1, keepdims=True))
    return loss, G.T @ X, G.sum(0), P, H.T @ X, H.sum(0)


def _problem(n, d, k, dtype, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    W, b = scale * rng.standard_normal((k, d)), scale * rng.standard_normal(k)
    V, vb = rng.standard_normal((k, d)), rng.standard_normal(k)
    y = rng.integers(0, k, n)
    sw = rng.uniform(0.2, 2.0, n)
    sw[::7] = 0.0  # zero weights are rows that count for nothing
    return X, y, sw, W.astype(dtype), b.astype(dtype), V.astype(dtype), vb.astype(dtype)


def _run(X, y, sw, W, b, V, vb, chunks, soft=False):
    """Native loss, gradient, probabilities and Hessian product over the given chunks of rows."""
    n, k = X.shape[0], W.shape[0]
    proba = np.full((k, n), np.nan, X.dtype)
    target = np.eye(k, dtype=X.dtype)[y] if soft else y
    worker = native.loss_gradient_worker(X, W, b, target, sw.astype(X.dtype), True, proba)
    parts = [worker([chunk]) for chunk in chunks]
    loss = sum(p[0] for p in parts)
    grad, gsum = sum(p[1] for p in parts), sum(p[2] for p in parts)
    hworker = native.hessian_product_worker(X, proba, V, vb, sw.astype(X.dtype))
    hparts = [hworker([chunk]) for chunk in chunks]
    return loss, grad, gsum, proba.T, sum(p[0] for p in hparts), sum(p[1] for p in hparts)


def _close(actual, expected, rtol):
    # Inputs are O(1): a result near 0 (a loss of two rows, one of weight 0) is a
    # difference of O(1) terms, so its rounding is rtol in absolute terms.
    scale = max(np.abs(expected).max(), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("soft", [False, True])
def test_every_number_of_classes_equals_the_formula(isa, dtype, soft):
    rtol = 1e-12 if dtype == np.float64 else 3e-5
    n, d = 53, 7  # 53 rows: every block size leaves a partial last block
    for k in range(2, native.max_classes(dtype) + 1):
        X, y, sw, W, b, V, vb = _problem(n, d, k, dtype, seed=k)
        expected = _formula(X, np.eye(k)[y], sw.astype(dtype), W, b, V, vb)
        actual = _run(X, y, sw, W, b, V, vb, [(0, 20), (20, 21), (21, n)], soft)
        for a, e in zip(actual, expected):
            _close(a, e, rtol)


def test_float32_accumulators_are_flushed_into_float64(isa):
    # 1000 rows pass FLUSH_ROWS (256) several times; the float64 gradient stays
    # as close to the formula as float32 rows allow.
    X, y, sw, W, b, V, vb = _problem(1000, 70, 10, np.float32)
    expected = _formula(X, np.eye(10)[y], sw.astype(np.float32), W, b, V, vb)
    actual = _run(X, y, sw, W, b, V, vb, [(0, 1000)])
    for a, e in zip(actual, expected):
        _close(a, e, 2e-5)


@given(
    n=st.integers(1, 19),
    d=st.integers(1, 9),
    k=st.integers(2, 16),
    seed=st.integers(0, 2**16),
    cut=st.floats(0, 1),
)
@settings(max_examples=60, deadline=None)
def test_any_shape_equals_the_formula(n, d, k, seed, cut):
    k = min(k, native.max_classes(np.float64))
    X, y, sw, W, b, V, vb = _problem(n, d, k, np.float64, seed)
    split = int(cut * n)
    expected = _formula(X, np.eye(k)[y], sw, W, b, V, vb)
    for a, e in zip(_run(X, y, sw, W, b, V, vb, [(0, split), (split, n)]), expected):
        _close(a, e, 1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_error_in_ulps(isa, dtype):
    # Two classes with scores 0 and x: the kernel's p1 / p0 is its exp(x),
    # within an ulp or two of the correctly rounded one (NumPy's, checked in
    # float64 against the float64 result for float32).
    lo = -700.0 if dtype == np.float64 else -85.0
    x = np.linspace(lo, 0, 4001).astype(dtype)
    X = np.stack([np.ones_like(x), x], axis=1)
    W = np.array([[0, 0], [0, 1]], dtype)
    proba = np.empty((2, x.size), dtype)
    native.loss_gradient_worker(X, W, None, np.zeros(x.size, np.int64), None, False, proba)(
        [(0, x.size)]
    )
    got = proba[1] / proba[0]  # p1 / p0 with p0 = 1 / (1 + e): exact up to one rounding each
    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(dtype)).astype(np.float64)
    assert ulps.max() < 3.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_scores_underflow_to_zero_and_nan_propagates(isa, dtype):
    X, y, sw, W, b, V, vb = _problem(40, 6, 7, dtype, scale=1e4)
    worker = native.loss_gradient_worker(X, W, b, y, None, True, None)
    loss, grad, gsum = worker([(0, 40)])
    assert np.isfinite(loss) and np.all(np.isfinite(grad)) and np.all(np.isfinite(gsum))
    expected = _formula(X, np.eye(7)[y], np.ones(40, dtype), W, b, V, vb)[0]
    assert loss == pytest.approx(expected, rel=1e-5)
    X[3, 2] = np.nan
    loss, grad, _ = native.loss_gradient_worker(X, W, b, y, None, True, None)([(0, 40)])
    assert np.isnan(loss) and np.isnan(grad).any()


def test_loss_without_gradient(isa):
    X, y, sw, W, b, V, vb = _problem(30, 5, 4, np.float64)
    loss, grad, gsum = native.loss_gradient_worker(X, W, b, y, sw, False, None)([(0, 30)])
    assert grad is None and not gsum.any()
    assert loss == pytest.approx(_formula(X, np.eye(4)[y], sw, W, b, V, vb)[0], rel=1e-13)


def test_large_dense_problems_take_the_c_kernels(monkeypatch):
    X, y, sw, W, b, V, vb = _problem(3000, 100, 10, np.float64)
    calls = []
    worker = native.loss_gradient_worker
    monkeypatch.setattr(native, "loss_gradient_worker", lambda *a: calls.append(1) or worker(*a))
    ll = LinearModelLoss(10, 100, True)
    w = np.concatenate([W, b[:, None]], axis=1).ravel()
    value = ll.loss(w, X, y, sw)
    assert calls
    monkeypatch.setattr(native, "_lib", None)  # as without the library (or SOFTMAX_NATIVE=off)
    assert ll.loss(w, X, y, sw) == pytest.approx(value, rel=1e-12)
    assert len(calls) == 1


def test_more_classes_than_the_kernels_take_go_elsewhere(monkeypatch):
    k = native.max_classes(np.float64) + 1
    with pytest.raises(ValueError, match="at most"):
        native.loss_gradient_worker(np.zeros((4, 3)), np.zeros((k, 3)), None,
                                    np.zeros(4, np.int64), None, True, None)
    monkeypatch.setattr(kernels, "_NATIVE_MIN_WORK", 0)
    X = np.zeros((5, 3))
    assert kernels._native_kernels(X, k) is None
    assert kernels._native_kernels(X, k - 1) is native
    assert kernels._native_kernels(X.astype(np.float16), k - 1) is None
    assert kernels._native_kernels(np.asfortranarray(np.zeros((5, 3))), 2) is None
    monkeypatch.setattr(kernels, "_NATIVE_MIN_WORK", 5 * 3 * 2 + 1)  # small: the NumPy path
    assert kernels._native_kernels(X, 2) is None


def test_switched_off_or_capped_by_the_environment(monkeypatch):
    for value, expected in (("off", None), ("baseline", "baseline")):
        monkeypatch.setenv("SOFTMAX_NATIVE", value)
        lib, level = native._load()
        assert (None if level is None else native.ISAS[level]) == expected
    monkeypatch.setenv("SOFTMAX_NATIVE", "sse9")
    with pytest.raises(ValueError, match="SOFTMAX_NATIVE"):
        native._load()


def _hook():
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_hook_compiles_or_says_why(tmp_path, monkeypatch):
    hook = _hook()
    monkeypatch.setenv("CC", "no-such-compiler")
    problem = hook.compile_library(tmp_path / "lib" / "_fused.so")
    assert "no-such-compiler" in problem and not list((tmp_path / "lib").iterdir())
    monkeypatch.setenv("CC", "cc -include no/such/header.h")  # the compiler's complaint comes back
    assert "no/such/header.h" in hook.compile_library(tmp_path / "lib" / "_fused.so")
    assert not list((tmp_path / "lib").iterdir())
    if shutil.which("cc"):
        monkeypatch.setenv("CC", "cc")
        assert hook.compile_library(tmp_path / "lib" / "_fused.so") is None
        assert ctypes.CDLL(str(tmp_path / "lib" / "_fused.so")).sm_isa() == BEST


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_the_library_is_built_where_a_compiler_exists():
    # make and pip install -e compile it; CI runs on a machine with gcc, so
    # this fails if the build hook silently stopped building it.
    assert native.available() and native.isa() in native.ISAS
    assert sys.platform != "linux" or native._LIBRARY.exists()


def test_no_weights_are_weights_of_one(isa):
    # sw None reaches the kernels as NULL (no array of ones): the same numbers.
    X, y, sw, W, b, V, vb = _problem(37, 6, 5, np.float64)
    ones = np.ones(37)
    proba = np.empty((5, 37))
    for weights in (None, ones):
        loss, grad, gsum = native.loss_gradient_worker(X, W, b, y, weights, True, proba)([(0, 37)])
        hv, hsum = native.hessian_product_worker(X, proba, V, vb, weights)([(0, 37)])
        if weights is None:
            unweighted = (loss, grad.copy(), gsum.copy(), hv.copy(), hsum.copy())
    for a, e in zip(unweighted, (loss, grad, gsum, hv, hsum)):
        np.testing.assert_array_equal(a, e)
