"""Newton-CG's class-block preconditioner: the blocks, their inverse, and the fits it speeds up."""

import numpy as np
import pytest
from scipy import sparse

import softmax.loss.class_blocks as class_blocks_module
import softmax.solvers.newton_cg as newton_cg
from softmax import SoftmaxRegression
from softmax.loss.class_blocks import class_blocks
from softmax.loss.linear import LinearModelLoss
from softmax.loss.objective import Objective
from softmax.penalties import L2
from softmax.solvers import NewtonCG


def _exact_blocks(loss, w, X, y, sw, offset=None):
    k, q = loss.n_classes, loss.n_params // loss.n_classes
    H = loss.gradient_hessian(w, X, y, sw, offset)[2]
    return np.stack([H[a * q : (a + 1) * q, a * q : (a + 1) * q] for a in range(k)])


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "csr", "float32", "standardised"])
def test_blocks_without_threshold_are_the_hessians_diagonal_blocks(
    fit_intercept, layout, layout_problem, monkeypatch
):
    monkeypatch.setattr(class_blocks_module, "CLASS_BLOCK_THRESHOLD", 0.0)
    rng = np.random.default_rng(0)
    X, sw, offset, loss = layout_problem(layout, fit_intercept, rng)
    y = rng.integers(0, 4, 300)
    rtol = 1e-5 if layout == "float32" else 1e-10
    w = 0.3 * rng.standard_normal(loss.n_params)
    for o in (None, offset):
        blocks = loss.loss_gradient_hessp(w, X, y, sw, offset=o)[2].blocks()
        assert blocks.dtype == X.dtype
        exact = _exact_blocks(loss, w, X, y, sw, o)
        np.testing.assert_allclose(blocks, exact, rtol=rtol, atol=rtol * np.abs(exact).max())


def test_blocks_keep_the_rows_that_matter_to_each_class():
    # The default threshold leaves out, per class, rows whose curvature is below
    # 1e-2 of the largest: an oracle over the kept rows, and a thread split that
    # changes nothing.
    rng = np.random.default_rng(1)
    n, d, k = 2000, 5, 30
    X = rng.standard_normal((n, d))
    scores = X @ rng.standard_normal((d, k)) * 2
    proba = np.exp(scores - scores.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    h = (proba * (1 - proba)).T.copy()
    blocks = class_blocks(h, X, fit_intercept=True)
    Xt = np.hstack([X, np.ones((n, 1))])
    kept = 0
    for a in range(k):
        rows = h[a] >= 1e-2 * h[a].max()
        kept += rows.sum()
        oracle = (Xt[rows] * h[a, rows, None]).T @ Xt[rows]
        np.testing.assert_allclose(blocks[a], oracle, rtol=1e-10, atol=1e-14)
    assert kept < 0.5 * n * k  # the point of it: most (row, class) pairs are left out
    np.testing.assert_array_equal(class_blocks(h, X, True, threads=2), blocks)
    csc = class_blocks(h, sparse.csc_matrix(X), True)
    assert csc is None  # column-major rows: no blocks, Newton-CG keeps its diagonal


def test_block_preconditioner_inverts_the_blocks_with_the_penalty():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((400, 6)) * rng.uniform(0.1, 5, 6) + rng.uniform(-2, 2, 6)
    y, sw = rng.integers(0, 5, 400), rng.uniform(0.5, 2, 400)
    loss = LinearModelLoss(5, 6, True)
    objective = Objective(loss, L2(3.0), X, y, sw)
    w = 0.2 * rng.standard_normal(loss.n_params)
    _, _, hessp = objective.value_grad_hessp(w)
    apply = newton_cg._block_preconditioner(objective, w, hessp)
    blocks = hessp.blocks()
    q = loss.n_params // 5
    penalty = objective.penalty_hessian_diagonal(w).reshape(5, q)
    M = blocks + np.stack([np.diag(p) for p in penalty])
    M += np.stack([np.eye(q) * 1e-4 * np.trace(m) / q for m in M])  # the solver's floor
    v = rng.standard_normal(loss.n_params)
    Mv = np.einsum("aij,aj->ai", M, v.reshape(5, q)).ravel()
    np.testing.assert_allclose(apply(Mv), v, rtol=1e-8, atol=1e-10)
    assert apply(Mv).dtype == np.float64


def _planted(n=3000, d=24, k=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    scores = X @ rng.standard_normal((d, k)) * (3 / np.sqrt(d))
    y = np.argmax(scores + rng.gumbel(size=(n, k)), axis=1)
    return X, np.unique(y, return_inverse=True)[1]


def test_newton_cg_with_class_blocks_takes_fewer_cg_steps_to_the_same_optimum(monkeypatch):
    # Many classes, each probable on a few rows: the diagonal leaves CG slow there.
    X, y = _planted()
    k = int(y.max()) + 1
    objective = Objective(LinearModelLoss(k, X.shape[1], True), L2(1.0), X, y, np.ones(len(y)))
    assert newton_cg._blocks_affordable(objective)
    w0 = np.zeros(objective.n_params)
    built = []
    original = newton_cg._block_preconditioner
    monkeypatch.setattr(
        newton_cg, "_block_preconditioner", lambda *a: built.append(1) or original(*a)
    )
    fast = NewtonCG().solve(objective, w0, max_iter=100, tol=1e-9)
    monkeypatch.setattr(newton_cg, "BLOCKS_AFTER", 10**9)
    plain = NewtonCG().solve(objective, w0, max_iter=100, tol=1e-9)
    assert fast.converged and plain.converged and built
    steps = [int(r.message.split("(")[1].split()[0]) for r in (fast, plain)]
    assert steps[0] < 0.6 * steps[1], steps
    # Gradients below 1e-9 with curvature down to about 1/C n = 3e-4: equal to ~3e-6.
    np.testing.assert_allclose(fast.w, plain.w, atol=1e-6)
    assert objective.value(fast.w) == pytest.approx(objective.value(plain.w), rel=1e-13)


def test_class_blocks_are_skipped_when_too_large():
    def affordable(n, d, k):
        X = np.zeros((n, d))
        y = np.arange(n) % k
        objective = Objective(LinearModelLoss(k, d, True), L2(1.0), X, y, np.ones(n))
        return newton_cg._blocks_affordable(objective)

    assert affordable(30_000, 256, 200)  # 13M elements, as many as 4 per probability kept
    assert affordable(400, 300, 10)  # 0.9M elements: under the floor whatever n
    assert not affordable(10_000, 2_000, 20)  # 80M elements for 0.2M probabilities
    assert not affordable(300, 300, 10)  # too small a fit: 0.9M rows x parameters


@pytest.mark.parametrize("kind", ["float32", "standardised"])
def test_estimator_fits_with_and_without_class_blocks_agree(kind, monkeypatch):
    # The blocks serve float32 rows and standardised coordinates alike.
    X, y = _planted(n=2500, d=16, k=30, seed=3)  # above BLOCKS_MIN_WORK
    options = {"solver": "newton-cg", "tol": 1e-8}
    if kind == "float32":
        X, options["tol"] = X.astype(np.float32), 1e-5
    else:
        X, options["standardize"] = X * 7 + 3, True
    built = []
    original = newton_cg._block_preconditioner
    monkeypatch.setattr(
        newton_cg, "_block_preconditioner", lambda *a: built.append(1) or original(*a)
    )
    fast = SoftmaxRegression(**options).fit(X, y)
    monkeypatch.setattr(newton_cg, "BLOCKS_AFTER", 10**9)
    plain = SoftmaxRegression(**options).fit(X, y)
    assert built and fast.converged_ and plain.converged_
    atol = 1e-4 if kind == "float32" else 1e-6
    np.testing.assert_allclose(fast.predict_proba(X), plain.predict_proba(X), atol=atol)


def test_rows_without_blocks_keep_the_diagonal_preconditioner():
    # CSC rows (like Dask's and the array API's) give no blocks: Newton-CG goes on
    # with its diagonal, to the same optimum.
    X, y = _planted()
    k = int(y.max()) + 1
    csc = sparse.csc_matrix(X)
    objective = Objective(LinearModelLoss(k, X.shape[1], True), L2(1.0), csc, y, np.ones(len(y)))
    w0 = np.zeros(objective.n_params)
    _, _, hessp = objective.value_grad_hessp(w0)
    assert hessp.blocks() is None and newton_cg._block_preconditioner(objective, w0, hessp) is None
    result = NewtonCG().solve(objective, w0, max_iter=100, tol=1e-9)
    dense = Objective(LinearModelLoss(k, X.shape[1], True), L2(1.0), X, y, np.ones(len(y)))
    reference = NewtonCG().solve(dense, w0, max_iter=100, tol=1e-9)
    assert result.converged
    np.testing.assert_allclose(result.w, reference.w, atol=1e-6)
