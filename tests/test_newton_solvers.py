"""Newton solvers: the full Hessian and its diagonal, and newton-cg / newton-cholesky fits."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from softmax import SoftmaxRegression
from softmax.loss.linear import LinearModelLoss
from softmax.loss.objective import Objective
from softmax.penalties import L2
from softmax.solvers import SOLVERS, NewtonCG, NewtonCholesky
from softmax.solvers.newton_cholesky import newton_direction

NEWTON = ["newton-cg", "newton-cholesky"]


def _standardised(loader, step=1):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X)[::step], y[::step]


# Every third digit keeps the suite fast and still has all 10 classes.
DATA = {
    "iris": _standardised(load_iris),
    "wine": _standardised(load_wine),
    "digits": _standardised(load_digits, step=3),
}


def _problem(kind, fit_intercept, rng, n=120, d=6, k=4):
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.5] = 0  # sparse-looking, so CSR has something to skip
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "csr":
        X = sparse.csr_matrix(X)
    y = rng.integers(0, k, n)
    sample_weight = rng.uniform(0.2, 3.0, n).astype(X.dtype)
    return X, y, sample_weight, LinearModelLoss(k, d, fit_intercept)


# -- the Hessian ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "csr", "float32"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_hessian_matches_hessp_and_finite_differences(kind, fit_intercept, weighted):
    rng = np.random.default_rng(0)
    X, y, sample_weight, loss = _problem(kind, fit_intercept, rng)
    sw = sample_weight if weighted else None
    w = 0.5 * rng.standard_normal(loss.n_params)
    value, grad, H = loss.gradient_hessian(w, X, y, sw)
    value_ref, grad_ref, hessp = loss.loss_gradient_hessp(w, X, y, sw)
    rtol = 1e-5 if kind == "float32" else 1e-10
    assert H.shape == (loss.n_params, loss.n_params) and H.dtype == np.float64
    assert value == pytest.approx(value_ref, rel=rtol)
    np.testing.assert_allclose(grad, grad_ref, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(H, H.T)
    assert np.linalg.eigvalsh(H).min() > -rtol * np.abs(H).max()
    np.testing.assert_allclose(np.diag(H), loss.hessian_diagonal(w, X, sw), rtol=rtol, atol=rtol)
    for _ in range(3):
        v = rng.standard_normal(loss.n_params)
        np.testing.assert_allclose(H @ v, hessp(v), rtol=rtol, atol=rtol * np.abs(H @ v).max())
    # Central differences of the gradient, in float64 (float32 would only measure rounding).
    X64 = X.astype(np.float64)
    v = rng.standard_normal(loss.n_params)
    eps = 1e-5
    fd = (
        loss.loss_gradient(w + eps * v, X64, y, sw)[1] - loss.loss_gradient(w - eps * v, X64, y, sw)[1]
    ) / (2 * eps)
    np.testing.assert_allclose(H @ v, fd, rtol=1e-4 if kind == "float32" else 1e-7, atol=1e-6)


def test_sparse_hessian_paths_agree_with_dense():
    # Sparse X takes one of two routes by density; both give the dense result.
    rng = np.random.default_rng(1)
    X, y, sw, loss = _problem("dense", True, rng)
    w = rng.standard_normal(loss.n_params)
    H_dense = loss.gradient_hessian(w, X, y, sw)[2]
    for density_threshold in (0.0, 1.0):
        loss._SPARSE_DENSIFY = density_threshold
        H = loss.gradient_hessian(w, sparse.csr_matrix(X), y, sw)[2]
        np.testing.assert_allclose(H, H_dense, rtol=1e-12, atol=1e-12)


def test_hessian_row_blocks_and_threads_add_up():
    rng = np.random.default_rng(2)
    X, y, sw, loss = _problem("dense", True, rng, n=500)
    w = rng.standard_normal(loss.n_params)
    H = loss.gradient_hessian(w, X, y, sw)[2]
    loss._BLOCK_ELEMENTS = 7 * loss.n_params  # blocks of 7 rows, the last one short
    np.testing.assert_allclose(loss.gradient_hessian(w, X, y, sw)[2], H, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loss.hessian_diagonal(w, X, sw), np.diag(H), rtol=1e-12)
    loss.n_threads, loss._HESSIAN_WORK_PER_THREAD = 3, 1  # rows split over 3 threads
    np.testing.assert_allclose(loss.gradient_hessian(w, X, y, sw)[2], H, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_hessian_adds_the_penalty_on_coef_only(fit_intercept):
    rng = np.random.default_rng(3)
    X, y, sw, loss = _problem("dense", fit_intercept, rng)
    objective = Objective(loss, L2(2.0), X, y, sw)
    w = rng.standard_normal(loss.n_params)
    value, grad, H = objective.value_grad_hessian(w)
    value_ref, grad_ref, hessp = objective.value_grad_hessp(w)
    assert value == pytest.approx(value_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, atol=1e-15)
    v = rng.standard_normal(loss.n_params)
    np.testing.assert_allclose(H @ v, hessp(v), rtol=1e-10)
    np.testing.assert_allclose(objective.hessian_diagonal(w), np.diag(H), rtol=1e-12)
    penalty = objective.penalty_hessian_diagonal(w).reshape(loss.n_classes, -1)
    np.testing.assert_allclose(penalty[:, : loss.n_features], 2.0 * objective.scale)
    if fit_intercept:
        np.testing.assert_array_equal(penalty[:, -1], 0)


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_standardised_hessian_and_diagonal_match_hessian_vector_products(kind, fit_intercept):
    from softmax.loss.standardize import StandardizedLinearLoss, feature_mean_scale

    rng = np.random.default_rng(4)
    X, y, sw, loss = _problem(kind, fit_intercept, rng)
    mean, scale = feature_mean_scale(X, sw, center=fit_intercept)
    objective = Objective(StandardizedLinearLoss(loss, mean, scale), L2(2.0), X, y, sw)
    w = rng.standard_normal(loss.n_params)
    value, grad, H = objective.value_grad_hessian(w)
    value_ref, grad_ref, hessp = objective.value_grad_hessp(w)
    assert value == pytest.approx(value_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, atol=1e-15)
    v = rng.standard_normal(loss.n_params)
    np.testing.assert_allclose(H @ v, hessp(v), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(objective.hessian_diagonal(w), np.diag(H), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("solver", NEWTON)
def test_newton_solvers_fit_in_standardised_coordinates(solver):
    X, y = load_wine(return_X_y=True)
    reference = SoftmaxRegression(solver="lbfgs", standardize=True, tol=1e-9).fit(X, y)
    model = SoftmaxRegression(solver=solver, standardize=True, tol=1e-9).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-5)


def test_newton_direction_on_the_singular_unpenalised_hessian():
    # Without a penalty the Hessian is singular along "add one vector to every
    # class row"; the gradient has no component there, and the step solves H d = -g.
    rng = np.random.default_rng(4)
    X, y, sw, loss = _problem("dense", True, rng)
    w = rng.standard_normal(loss.n_params)
    _, grad, H = loss.gradient_hessian(w, X, y, sw)
    assert np.linalg.eigvalsh(H).min() < 1e-12 * np.abs(H).max()
    d = newton_direction(H, grad)
    np.testing.assert_allclose(H @ d, -grad, atol=1e-8 * np.abs(grad).max())
    assert d @ grad < 0


# -- fits ---------------------------------------------------------------------------------------


def test_registered():
    assert SOLVERS["newton-cg"] is NewtonCG
    assert SOLVERS["newton-cholesky"] is NewtonCholesky


@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_newton_solvers_reach_the_lbfgs_optimum(name, C):
    X, y = DATA[name]
    lbfgs = SoftmaxRegression(C=C, tol=1e-10, max_iter=5000).fit(X, y)
    fits = [SoftmaxRegression(C=C, solver=s, tol=1e-10).fit(X, y) for s in NEWTON]
    loss = LinearModelLoss(len(lbfgs.classes_), X.shape[1], True)
    objective = Objective(loss, L2(1 / C), X, np.unique(y, return_inverse=True)[1], np.ones(len(y)))
    for fit in fits:
        assert fit.converged_
        # tol is met at the returned coefficients, not only inside the solver.
        _, grad = objective.value_grad(loss.pack(fit.coef_, fit.intercept_))
        assert np.abs(grad).max() <= 1.5e-10
        # No worse than L-BFGS (which may stop on a relative decrease of the objective).
        assert fit.objective_history_[-1] <= lbfgs.objective_history_[-1] + 1e-14
        np.testing.assert_allclose(fit.predict_proba(X), lbfgs.predict_proba(X), atol=1e-6)
    # max|grad| <= 1e-10 pins the coefficients to 1e-10 / (smallest Hessian
    # eigenvalue >= 1 / (C n)): 1e-6 up to C=1; C=100 is 100x looser.
    atol = 1e-6 if C <= 1 else 1e-5
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, atol=atol)
    np.testing.assert_allclose(fits[0].intercept_, fits[1].intercept_, atol=atol)
    if C <= 0.01:
        np.testing.assert_allclose(fits[1].coef_, lbfgs.coef_, atol=1e-6)


@pytest.mark.parametrize("solver", NEWTON)
def test_sample_weight_and_no_intercept(solver):
    X, y = DATA["wine"]
    sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    for fit_intercept in (True, False):
        params = dict(C=1.0, tol=1e-10, fit_intercept=fit_intercept)
        ref = SoftmaxRegression(**params, max_iter=5000).fit(X, y, sample_weight=sw)
        ours = SoftmaxRegression(**params, solver=solver).fit(X, y, sample_weight=sw)
        assert ours.converged_
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("solver", NEWTON)
def test_sparse_and_float32(solver):
    X, y = DATA["iris"]
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # a real sparsity pattern
    dense = SoftmaxRegression(solver=solver, tol=1e-10).fit(X, y)
    for Xs in (sparse.csr_matrix(X), sparse.csc_matrix(X)):
        fit = SoftmaxRegression(solver=solver, tol=1e-10).fit(Xs, y)
        np.testing.assert_allclose(fit.coef_, dense.coef_, atol=1e-8)
    f32 = SoftmaxRegression(solver=solver, tol=1e-5).fit(X.astype(np.float32), y)
    assert f32.converged_ and f32.coef_.dtype == np.float32
    np.testing.assert_allclose(f32.predict_proba(X), dense.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("solver", NEWTON)
def test_two_classes(solver):
    X, y = load_iris(return_X_y=True)
    X, y = X[y > 0], y[y > 0]  # versicolor vs virginica: not separable
    ref = SoftmaxRegression(C=1.0, tol=1e-10).fit(X, y)
    ours = SoftmaxRegression(C=1.0, solver=solver, tol=1e-10).fit(X, y)
    assert ours.converged_
    np.testing.assert_allclose(ours.coef_, -ours.coef_[::-1], atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("solver", NEWTON)
def test_no_penalty_on_overlapping_classes(solver):
    # C=inf: the Hessian is singular in the coefficients too; the optimum is finite.
    X, y = make_classification(
        n_samples=300, n_features=5, n_informative=5, n_redundant=0, n_classes=3, flip_y=0.2,
        random_state=0,
    )
    ref = SoftmaxRegression(C=np.inf, tol=1e-10, max_iter=5000).fit(X, y)
    ours = SoftmaxRegression(C=np.inf, solver=solver, tol=1e-10).fit(X, y)
    assert ours.converged_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


@pytest.mark.parametrize("solver", NEWTON)
def test_history_callback_and_non_convergence(solver):
    X, y = DATA["wine"]
    seen = []
    model = SoftmaxRegression(solver=solver, tol=1e-10, callback=seen.append).fit(X, y)
    assert [info.iteration for info in seen] == list(range(model.n_iter_[0] + 1))
    assert len(model.objective_history_) == model.n_iter_ + 1
    np.testing.assert_allclose([info.objective for info in seen], model.objective_history_)
    assert np.all(np.diff(model.objective_history_) <= 1e-15)
    assert seen[-1].gradient_max <= 1e-10
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        short = SoftmaxRegression(solver=solver, max_iter=1, tol=1e-10).fit(X, y)
    assert not short.converged_ and short.n_iter_ == 1


@pytest.mark.parametrize("data, products_at_most", [(load_wine, 1.15), (load_digits, 0.35)])
def test_preconditioner_undoes_feature_scales(data, products_at_most):
    # On unscaled features the preconditioned CG needs far fewer Newton
    # iterations (wine 47 -> 18, digits 29 -> 13) and, on digits, far fewer
    # Hessian products (2087 -> 198). Wine's product count moves with the BLAS
    # kernel's rounding (242 vs 299 with OpenBLAS's default kernel, 309 vs 292
    # with OPENBLAS_CORETYPE=Haswell), so there it is only held near level.
    X, y = data(return_X_y=True)
    loss = LinearModelLoss(len(np.unique(y)), X.shape[1], True)
    objective = Objective(loss, L2(1.0), X, y, np.ones(len(y)))
    w0 = np.zeros(loss.n_params)
    products, iterations = {}, {}
    for preconditioner in (False, True):
        result = NewtonCG(preconditioner=preconditioner).solve(objective, w0, max_iter=200, tol=1e-8)
        assert result.converged
        products[preconditioner] = int(result.message.split("(")[1].split()[0])
        iterations[preconditioner] = result.n_iter
    assert iterations[True] < 0.5 * iterations[False]
    assert products[True] < products_at_most * products[False]


def test_separable_data_stops_with_a_clear_state():
    # Without a penalty separable classes have no finite optimum: the solvers stop
    # (flat objective or max_iter) instead of looping or producing non-finite numbers.
    X, y = DATA["iris"]
    for solver in NEWTON:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SoftmaxRegression(C=np.inf, solver=solver, tol=1e-12, max_iter=50).fit(X, y)
        assert np.all(np.isfinite(model.coef_))
        assert model.score(X, y) >= 0.98


@pytest.mark.parametrize("solver", NEWTON)
def test_float32_rounding_does_not_drift_the_intercepts(solver):
    # float32 gradients carry a rounding component along "same intercept shift
    # for every class"; amplified by the singular Hessian it once sent the
    # intercepts to -1e3 and ran to max_iter (scikit-learn's dtype check data).
    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(20, 5)).astype(np.float32)
    y = np.array([1, 2] * 10)
    model = SoftmaxRegression(solver=solver).fit(X, y)
    assert model.converged_ and model.n_iter_ < 20
    assert np.abs(model.intercept_).max() < 10
    # An unreachable tol stops at the rounding level of float32, quickly; the result is
    # as optimal as float32 allows, so converged and no warning (issue 11, item 16).
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(solver=solver, C=np.inf, tol=1e-12).fit(X, y)
    assert model.converged_ and model.n_iter_ < 50


@pytest.mark.slow
@parametrize_with_checks([SoftmaxRegression(solver=solver) for solver in NEWTON])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_newton_cholesky_refuses_a_hessian_too_large():
    X, y = DATA["iris"]
    loss = LinearModelLoss(3, X.shape[1], True)
    objective = Objective(loss, L2(1.0), X, y, np.ones(len(y)))
    with pytest.raises(ValueError, match="newton-cg"):
        NewtonCholesky(max_hessian_bytes=1000).solve(
            objective, np.zeros(loss.n_params), max_iter=10, tol=1e-6
        )


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "csr", "float32", "standardised"])
def test_hessian_traces_are_the_diagonals_row_sums(fit_intercept, layout, layout_problem):
    # Newton-CG's preconditioner takes the per-class traces without forming the diagonal,
    # from the probabilities the evaluation at w kept (HessianProduct.traces).
    rng = np.random.default_rng(0)
    X, sw, offset, loss = layout_problem(layout, fit_intercept, rng)
    w = rng.standard_normal(loss.n_params)
    rtol = 1e-6 if layout == "float32" else 1e-12
    for o in (None, offset):
        diagonal = loss.hessian_diagonal(w, X, sw, offset=o).reshape(4, -1).sum(axis=1)
        np.testing.assert_allclose(loss.hessian_traces(w, X, sw, offset=o), diagonal, rtol=rtol)
        y = rng.integers(0, 4, 300)
        kept = loss.loss_gradient_hessp(w, X, y, sw, offset=o)[2].traces()
        np.testing.assert_allclose(kept, diagonal, rtol=rtol)


@pytest.mark.parametrize("layout", ["dense", "csr", "float32", "standardised"])
def test_hessian_traces_take_the_rows_norms_from_the_cache(layout, layout_problem):
    # The rows' squared norms are the traces' one pass over X; the rows keep them
    # between evaluations (MemoryRows' dict), so only the first traces pay for it.
    rng = np.random.default_rng(4)
    X, sw, _, loss = layout_problem(layout, False, rng)  # traces are h @ norms
    y = rng.integers(0, 4, 300)
    rtol = 1e-6 if layout == "float32" else 1e-12
    norms = {}
    for _ in range(2):
        w = rng.standard_normal(loss.n_params)
        diagonal = loss.hessian_diagonal(w, X, sw).reshape(4, -1).sum(axis=1)
        traces = loss.loss_gradient_hessp(w, X, y, sw, norms=norms)[2].traces()
        np.testing.assert_allclose(traces, diagonal, rtol=rtol)
        assert len(norms) == 1
    (key, kept), = norms.items()
    norms[key] = 2 * kept  # the cached norms are what the next traces read
    doubled = loss.loss_gradient_hessp(w, X, y, sw, norms=norms)[2].traces()
    np.testing.assert_allclose(doubled, 2 * diagonal, rtol=rtol)


def test_newton_cg_takes_the_rows_norms_once_per_fit(monkeypatch):
    calls = []
    row_norms = LinearModelLoss._row_norms

    def counted(self, *args):
        calls.append(1)
        return row_norms(self, *args)

    monkeypatch.setattr(LinearModelLoss, "_row_norms", counted)
    X, y = DATA["wine"]
    model = SoftmaxRegression(solver="newton-cg", C=100.0, tol=1e-10).fit(X, y)
    assert model.n_iter_[0] >= 4 and len(calls) == 1

@pytest.mark.parametrize("layout", ["dense", "csr", "standardised"])
def test_float32_products_are_the_hessian_to_float32_precision(layout):
    # Newton-CG's products for float64 rows, done in float32 (HessianProduct.low).
    from softmax.loss.standardize import StandardizedLinearLoss, feature_mean_scale

    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 9)) * rng.uniform(0.5, 2, 9)
    y, sw = rng.integers(0, 5, 400), rng.uniform(0.5, 2, 400)
    loss = LinearModelLoss(5, 9, True)
    if layout == "csr":
        X = sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    elif layout == "standardised":
        loss = StandardizedLinearLoss(loss, *feature_mean_scale(X, sw, center=True))
    w, v = rng.standard_normal(loss.n_params), rng.standard_normal(loss.n_params)
    _, _, hessian = loss.loss_gradient_hessp(w, X, y, sw, X_low=X.astype(np.float32))
    exact, low = hessian(v), hessian.low(v)
    assert low.dtype == np.float64
    np.testing.assert_allclose(low, exact, rtol=0, atol=1e-5 * np.abs(exact).max())
    assert not np.array_equal(low, exact)  # computed in float32 indeed


def test_newton_cg_float32_products_keep_the_float64_optimum(monkeypatch):
    import softmax.solvers.newton_cg as newton_cg

    X, y = _standardised(load_digits)  # moments equal; 1797 x 650 is above the size gate
    objective = Objective(LinearModelLoss(10, 64, True), L2(1.0), X, y, np.ones(len(y)))
    assert newton_cg._float32_products(objective, objective.feature_second_moments())
    used = []
    original = objective.value_grad_hessp

    def spy(w, low_precision=False):
        value, grad, hessian = original(w, low_precision)
        if hessian.low is not None:
            low = hessian.low
            hessian.low = lambda v: used.append(1) or low(v)
        return value, grad, hessian

    monkeypatch.setattr(objective, "value_grad_hessp", spy)
    w0 = np.zeros(objective.n_params)
    fast = NewtonCG().solve(objective, w0, max_iter=100, tol=1e-9)
    monkeypatch.setattr(newton_cg, "_float32_products", lambda *a: False)
    exact = NewtonCG().solve(objective, w0, max_iter=100, tol=1e-9)
    assert fast.converged and exact.converged and used
    np.testing.assert_allclose(fast.w, exact.w, atol=1e-7)


def test_float32_products_skip_small_and_badly_scaled_data():
    from softmax.solvers.newton_cg import _float32_products

    def gate(X, y):
        objective = Objective(
            LinearModelLoss(int(y.max()) + 1, X.shape[1], True), L2(1.0), X, y, np.ones(len(y))
        )
        return _float32_products(objective, objective.feature_second_moments())

    X, y = make_classification(20_000, 20, n_informative=10, n_classes=5, random_state=0)
    assert gate(X, y)  # 20,000 x 105 parameters, moments within 1e3
    assert not gate(X.astype(np.float32), y)  # float32 data: float32 products anyway
    assert not gate(X[:500], y[:500])  # too small to repay the copy
    X[:, 3] *= 1e3
    assert not gate(X, y)  # moments 1e6 apart: float32 rounding would swamp small features
