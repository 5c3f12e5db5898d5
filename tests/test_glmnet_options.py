"""glmnet's options: ``penalty_factor``, ``lower_bounds``/``upper_bounds`` and ``offset``.

Each is checked against a direct formulation: a penalty factor against a
rescaled column (or, for factor 0, against the objective written out here and
minimised by SciPy), bounds against the KKT conditions of that objective, an
offset against an extra column whose coefficients are pinned.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.datasets import load_iris

import softmax as sm
from softmax import SoftmaxRegression, SoftmaxRegressionCV
from softmax.io.model_file import read_metadata
from softmax.loss import kernels
from softmax.loss.linear import LinearModelLoss
from softmax.selection.path import prepare, smallest_c

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
N_CLASSES = 3


def objective_and_gradient(w, X, y, C, factor, l1_ratio=0.0):
    """The estimator's objective written out: summed cross-entropy plus the factored penalty.

    ``w`` is ``[coef | intercept]`` flattened by class; returns the value and
    the gradient of the smooth part (``l1_ratio=0`` only for the gradient).
    """
    k, d = N_CLASSES, X.shape[1]
    W = w.reshape(k, d + 1)
    coef, intercept = W[:, :d], W[:, d]
    scores = X @ coef.T + intercept
    value = -log_softmax(scores, axis=1)[np.arange(len(y)), y].sum()
    ridge, lasso = (factor * coef**2).sum(), (factor * abs(coef)).sum()
    value += ((1 - l1_ratio) / 2 * ridge + l1_ratio * lasso) / C
    residual = softmax(scores, axis=1)
    residual[np.arange(len(y)), y] -= 1
    grad = np.empty_like(W)
    grad[:, :d] = residual.T @ X + (1 - l1_ratio) / C * factor * coef
    grad[:, d] = residual.sum(axis=0)
    return value, grad.ravel()


def centred(coef):
    """Rows summing to zero: the representative of the symmetric parametrisation."""
    return coef - coef.mean(axis=0)


# -- penalty_factor ---------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "prox-newton"])
def test_factor_of_ones_is_no_factor(solver):
    plain = SoftmaxRegression(solver=solver, tol=1e-9).fit(X_IRIS, Y_IRIS)
    ones = SoftmaxRegression(solver=solver, tol=1e-9, penalty_factor=np.ones(4))
    ones.fit(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(ones.coef_, plain.coef_, atol=1e-12)  # up to summation order


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "prox-newton"])
def test_l2_factor_equals_a_rescaled_column(solver):
    # f * c^2 with c x equals c'^2 with c' (x / sqrt(f)) for c = c' / sqrt(f).
    factor = np.array([4.0, 1.0, 0.25, 2.0])
    fitted = SoftmaxRegression(C=0.5, solver=solver, tol=1e-10, penalty_factor=factor)
    fitted.fit(X_IRIS, Y_IRIS)
    rescaled = SoftmaxRegression(C=0.5, solver=solver, tol=1e-10)
    rescaled.fit(X_IRIS / np.sqrt(factor), Y_IRIS)
    np.testing.assert_allclose(fitted.coef_, rescaled.coef_ / np.sqrt(factor), atol=1e-6)
    np.testing.assert_allclose(fitted.intercept_, rescaled.intercept_, atol=1e-6)


@pytest.mark.parametrize("grouped", [False, True])
def test_l1_factor_equals_a_rescaled_column(grouped):
    # f * |c| with c x equals |c'| with c' (x / f) for c = c' / f (column norms alike).
    factor = np.array([2.0, 1.0, 0.5, 3.0])
    options = dict(C=0.2, l1_ratio=1.0, grouped=grouped, tol=1e-10)
    fitted = SoftmaxRegression(penalty_factor=factor, **options).fit(X_IRIS, Y_IRIS)
    rescaled = SoftmaxRegression(**options).fit(X_IRIS / factor, Y_IRIS)
    assert np.any(fitted.coef_ == 0)  # the lasso is active
    np.testing.assert_allclose(fitted.coef_, rescaled.coef_ / factor, atol=1e-6)
    np.testing.assert_array_equal(fitted.coef_ == 0, rescaled.coef_ == 0)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "prox-newton"])
def test_factor_zero_leaves_a_feature_unpenalised(solver):
    """Factor 0 is C=inf on that column: compare with SciPy on the objective written out."""
    factor = np.array([0.0, 1.0, 1.0, 1.0])
    model = SoftmaxRegression(C=0.1, solver=solver, tol=1e-10, penalty_factor=factor)
    model.fit(X_IRIS, Y_IRIS)
    assert model.converged_
    found = minimize(
        objective_and_gradient, np.zeros(N_CLASSES * 5), args=(X_IRIS, Y_IRIS, 0.1, factor),
        jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 10_000},
    )  # fmt: skip
    W = found.x.reshape(N_CLASSES, 5)
    np.testing.assert_allclose(model.coef_, centred(W[:, :4]), atol=1e-4)
    np.testing.assert_allclose(model.intercept_, W[:, 4] - W[:, 4].mean(), atol=1e-3)


def test_factor_zero_with_l1_keeps_the_feature():
    factor = np.array([0.0, 1.0, 1.0, 1.0])
    model = SoftmaxRegression(C=0.01, l1_ratio=1.0, penalty_factor=factor, tol=1e-9)
    model.fit(X_IRIS, Y_IRIS)
    # A penalty this strong zeroes every penalised feature but not the free one.
    assert np.all(model.coef_[:, 1:] == 0) and np.all(model.coef_[:, 0] != 0)


def test_factor_applies_to_standardised_coefficients():
    factor = np.array([0.5, 1.0, 2.0, 0.0])
    mean, scale = X_IRIS.mean(axis=0), X_IRIS.std(axis=0)
    model = SoftmaxRegression(C=0.3, standardize=True, penalty_factor=factor, tol=1e-10)
    model.fit(X_IRIS, Y_IRIS)
    by_hand = SoftmaxRegression(C=0.3, penalty_factor=factor, tol=1e-10)
    by_hand.fit((X_IRIS - mean) / scale, Y_IRIS)
    np.testing.assert_allclose(model.coef_, by_hand.coef_ / scale, atol=1e-6)


def test_factor_is_checked():
    with pytest.raises(ValueError, match=r"one entry per feature, shape \(4,\)"):
        SoftmaxRegression(penalty_factor=[1.0, 2.0]).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="finite and >= 0"):
        SoftmaxRegression(penalty_factor=[1.0, -1.0, 1.0, 1.0]).fit(X_IRIS, Y_IRIS)


# -- lower_bounds / upper_bounds --------------------------------------------------------

LOWER = np.array([[-np.inf, 0.0, 0.0, 0.0]] * N_CLASSES)


@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("upper", [np.inf, 2.0])
def test_bounds_hold_and_meet_the_kkt_conditions(standardize, upper):
    model = SoftmaxRegression(
        C=1.0, lower_bounds=LOWER, upper_bounds=upper, standardize=standardize, tol=1e-9
    ).fit(X_IRIS, Y_IRIS)
    assert model.solver_ == "lbfgs" and model.converged_
    coef = model.coef_
    assert np.all(coef >= LOWER) and np.all(coef <= upper)
    assert np.any(coef == 0) and (upper == np.inf or np.any(coef == upper))  # bounds bind
    if standardize:
        return  # the penalty is on the standardised coefficients: KKT checked below without
    w = np.hstack([coef, model.intercept_[:, None]]).ravel()
    grad = objective_and_gradient(w, X_IRIS, Y_IRIS, 1.0, np.ones(4))[1].reshape(N_CLASSES, 5)
    grad = grad / len(Y_IRIS)  # the mean scale of tol
    g = grad[:, :4]
    tolerance = 1e-6
    at_lower, at_upper = coef <= LOWER, coef >= upper
    free = ~(at_lower | at_upper)
    assert np.all(g[at_lower] >= -tolerance)
    assert np.all(g[at_upper] <= tolerance)
    assert np.all(np.abs(g[free]) <= tolerance)
    assert np.all(np.abs(grad[:, 4]) <= tolerance)  # intercepts are never bounded


def test_non_binding_bounds_equal_the_unconstrained_fit():
    free = SoftmaxRegression(C=1.0, tol=1e-10).fit(X_IRIS, Y_IRIS)
    boxed = SoftmaxRegression(C=1.0, tol=1e-10, lower_bounds=-100.0, upper_bounds=100.0)
    boxed.fit(X_IRIS, Y_IRIS)
    assert boxed.solver_ == "lbfgs"
    # Not re-centred with bounds, but the L2 optimum has rows summing to zero anyway.
    np.testing.assert_allclose(boxed.coef_, free.coef_, atol=1e-6)
    np.testing.assert_allclose(boxed.predict_proba(X_IRIS), free.predict_proba(X_IRIS), atol=1e-7)


def test_pinned_unpenalised_coefficient():
    """lower == upper pins a column; with factor 0 its value does not touch the penalty."""
    pinned = np.array([0.7, -0.2, -0.5])
    lower = np.full((N_CLASSES, 4), -np.inf)
    upper = np.full((N_CLASSES, 4), np.inf)
    lower[:, 3] = upper[:, 3] = pinned
    model = SoftmaxRegression(
        C=0.5, lower_bounds=lower, upper_bounds=upper, penalty_factor=[1, 1, 1, 0], tol=1e-9
    ).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(model.coef_[:, 3], pinned)
    # The other columns are the fit of the first three features with that known part.
    offset = X_IRIS[:, 3:] * pinned
    found = minimize(
        lambda w: _with_known_part(w, X_IRIS[:, :3], Y_IRIS, offset, 0.5), np.zeros(12),
        jac=True, method="BFGS", options={"gtol": 1e-9},
    )  # fmt: skip
    W = found.x.reshape(N_CLASSES, 4)
    np.testing.assert_allclose(model.coef_[:, :3], centred(W[:, :3]), atol=1e-4)


def _with_known_part(w, X, y, offset, C):
    """Cross-entropy of ``X @ coef.T + intercept + offset`` plus ``||coef||^2 / (2 C)``."""
    k, d = N_CLASSES, X.shape[1]
    W = w.reshape(k, d + 1)
    scores = X @ W[:, :d].T + W[:, d] + offset
    value = -log_softmax(scores, axis=1)[np.arange(len(y)), y].sum()
    value += (W[:, :d] ** 2).sum() / (2 * C)
    residual = softmax(scores, axis=1)
    residual[np.arange(len(y)), y] -= 1
    grad = np.hstack([residual.T @ X + W[:, :d] / C, residual.sum(axis=0)[:, None]])
    return value, grad.ravel()


def test_bounds_need_lbfgs_and_no_l1():
    with pytest.raises(ValueError, match="need solver='lbfgs'.*solver='newton-cg' cannot"):
        SoftmaxRegression(solver="newton-cg", lower_bounds=0.0).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="L2 penalty only.*l1_ratio=0"):
        SoftmaxRegression(l1_ratio=0.5, upper_bounds=1.0).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="must not exceed"):
        SoftmaxRegression(lower_bounds=1.0, upper_bounds=0.0).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match=r"broadcast to coef_'s shape \(3, 4\)"):
        SoftmaxRegression(lower_bounds=np.zeros(3)).fit(X_IRIS, Y_IRIS)


def test_other_fit_paths_refuse_the_options():
    model = SoftmaxRegression(solver="sgd", alpha=1e-3, penalty_factor=np.ones(4))
    with pytest.raises(ValueError, match="penalty_factor is not supported for partial_fit"):
        model.partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2])


# -- cross-validation and model files ---------------------------------------------------


def test_cv_passes_the_options_through():
    factor = np.array([0.0, 1.0, 2.0, 1.0])
    bounds = dict(lower_bounds=-5.0, upper_bounds=5.0)
    cv = SoftmaxRegressionCV(Cs=4, cv=3, penalty_factor=factor, **bounds).fit(X_IRIS, Y_IRIS)
    assert np.all(np.abs(cv.coef_) <= 5.0) and np.any(np.abs(cv.coef_) == 5.0)
    direct = SoftmaxRegression(C=cv.C_, penalty_factor=factor, tol=cv.tol, **bounds)
    direct.fit(X_IRIS, Y_IRIS)
    # Both solved to tol=1e-6 on the gradient, at C_=100 (ill-conditioned): 1e-4 apart.
    proba = cv.predict_proba(X_IRIS)
    np.testing.assert_allclose(proba, direct.predict_proba(X_IRIS), atol=1e-4)


def test_default_l1_grid_divides_by_the_factors():
    factor = np.array([0.5, 1.0, 2.0, 4.0])
    template = SoftmaxRegression(l1_ratio=1.0, penalty_factor=factor)
    data = prepare(template, X_IRIS, Y_IRIS, np.ones(len(Y_IRIS)))
    C_min = smallest_c(data, 1.0, grouped=False)
    # Just below C_min every coefficient is zero; just above, one is not.
    lasso = dict(l1_ratio=1.0, penalty_factor=factor)
    below = SoftmaxRegression(C=0.99 * C_min, **lasso).fit(X_IRIS, Y_IRIS)
    above = SoftmaxRegression(C=1.05 * C_min, **lasso).fit(X_IRIS, Y_IRIS)
    assert np.count_nonzero(below.coef_) == 0 and np.count_nonzero(above.coef_) > 0
    plain = prepare(SoftmaxRegression(), X_IRIS, Y_IRIS, np.ones(len(Y_IRIS)))
    assert C_min != smallest_c(plain, 1.0, grouped=False)
    cv = SoftmaxRegressionCV(Cs=3, cv=3, l1_ratios=[1.0], penalty_factor=factor)
    cv.fit(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(cv.Cs_[0, 0], C_min, rtol=1e-6)


def test_options_round_trip_through_a_model_file(tmp_path):
    model = SoftmaxRegression(
        penalty_factor=np.array([0.0, 1.0, 2.0, 1.0]), lower_bounds=LOWER, upper_bounds=2.0
    ).fit(X_IRIS, Y_IRIS)
    path = model.save(tmp_path / "model.softmax")
    loaded = sm.load(os.fspath(path))
    np.testing.assert_array_equal(loaded.penalty_factor, model.penalty_factor)
    np.testing.assert_array_equal(loaded.lower_bounds, LOWER)
    assert loaded.upper_bounds == 2.0
    np.testing.assert_array_equal(loaded.predict_proba(X_IRIS), model.predict_proba(X_IRIS))
    refitted = SoftmaxRegression(**loaded.get_params()).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(refitted.coef_, model.coef_)


@pytest.mark.parametrize("standardize", [False, True])
def test_inference_uses_the_penalty_factors(standardize):
    """The Newton refinement of ``inference`` solves the fitted problem: it stays at the fit."""
    model = SoftmaxRegression(
        C=0.5, penalty_factor=[0, 1, 2, 1], standardize=standardize, tol=1e-10
    ).fit(X_IRIS, Y_IRIS)
    results = model.inference(X_IRIS, Y_IRIS)
    proba = model.predict_proba(X_IRIS)
    np.testing.assert_allclose(results.predict_proba(X_IRIS), proba, atol=1e-8)
    bounded = SoftmaxRegression(lower_bounds=0.0).fit(X_IRIS, Y_IRIS)
    with pytest.raises(sm.SoftmaxInputError, match="does not support lower_bounds"):
        bounded.inference(X_IRIS, Y_IRIS)


# -- offset: a known part of the scores --------------------------------------------------
# The direct formulation: an offset x_extra * c is the extra column whose coefficients
# are pinned to c (lower == upper) and unpenalised (factor 0).

PIN = np.array([0.7, -0.2, -0.5])
OFFSET = X_IRIS[:, 3:] * PIN


def _pinned(**params):
    lower, upper = np.full((N_CLASSES, 4), -np.inf), np.full((N_CLASSES, 4), np.inf)
    lower[:, 3] = upper[:, 3] = PIN
    return SoftmaxRegression(
        lower_bounds=lower, upper_bounds=upper, penalty_factor=[1, 1, 1, 0], **params
    ).fit(X_IRIS, Y_IRIS)


@pytest.mark.parametrize(
    "solver, standardize, sparse",
    [("auto", False, False), ("lbfgs", True, False), ("newton-cg", False, True)],
)
def test_offset_equals_a_pinned_column(solver, standardize, sparse):
    X = sp.csr_matrix(X_IRIS[:, :3]) if sparse else X_IRIS[:, :3]
    model = SoftmaxRegression(C=0.5, solver=solver, standardize=standardize, tol=1e-10)
    model.fit(X, Y_IRIS, offset=OFFSET)
    direct = _pinned(C=0.5, standardize=standardize, tol=1e-10)
    assert model.offset_used_ and not direct.offset_used_
    np.testing.assert_allclose(
        model.predict_proba(X, offset=OFFSET), direct.predict_proba(X_IRIS), atol=1e-6
    )
    scores = model.decision_function(X, offset=OFFSET)
    np.testing.assert_allclose(scores - OFFSET, model.decision_function(X, offset=0 * OFFSET))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_offset_gradient_matches_finite_differences(sparse, fit_intercept):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    X[X < 0.3] = 0.0
    X = sp.csr_matrix(X) if sparse else X
    y, offset = rng.integers(0, 3, 40), rng.normal(size=(40, 3))
    sw = rng.uniform(0.5, 2.0, 40)
    loss = LinearModelLoss(3, 5, fit_intercept)
    w = rng.normal(size=loss.n_params)
    value, grad, hessp = loss.loss_gradient_hessp(w, X, y, sw, offset)
    assert value == pytest.approx(loss.loss(w, X, y, sw, offset))
    assert not np.isclose(value, loss.loss(w, X, y, sw))  # the offset counts
    eps, v = 1e-6, rng.normal(size=loss.n_params)
    numeric = [
        (loss.loss(w + eps * e, X, y, sw, offset) - loss.loss(w - eps * e, X, y, sw, offset))
        / (2 * eps)
        for e in np.eye(loss.n_params)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)
    change = loss.loss_gradient(w + eps * v, X, y, sw, offset)[1]
    change -= loss.loss_gradient(w - eps * v, X, y, sw, offset)[1]
    np.testing.assert_allclose(hessp(v), change / (2 * eps), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(loss.gradient_hessian(w, X, y, sw, offset)[2] @ v, hessp(v))


@pytest.mark.parametrize("sparse, k", [(False, 3), (False, 12), (True, 12)])
def test_offset_in_the_compiled_kernels_equals_an_extra_column(sparse, k):
    """Large enough for the compiled kernels (with Numba): the block path adds the offset.

    Without the offset, k=3 dense takes the fused kernels, k=12 the block path.
    """
    rng = np.random.default_rng(1)
    n, d = 20_000, 100
    X = rng.normal(size=(n, d + 1))
    X = sp.random(n, d + 1, density=0.2, format="csr", random_state=1) if sparse else X
    W, b = rng.normal(size=(k, d + 1)) * 0.1, rng.normal(size=k)
    y = rng.integers(0, k, n)
    extra = np.asarray(X[:, d].todense()).ravel() if sparse else X[:, d]
    offset = extra[:, None] * W[:, d]
    with_offset = kernels.loss_gradient(X[:, :d], W[:, :d], b, y, None, offset=offset)
    extended = kernels.loss_gradient(X, W, b, y, None)
    assert with_offset[0] == pytest.approx(extended[0], rel=1e-10)
    np.testing.assert_allclose(with_offset[1][:, :d], extended[1][:, :d], rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(with_offset[1][:, d], extended[1][:, d + 1], rtol=1e-8, atol=1e-8)


def test_zero_offset_is_the_plain_fit():
    plain = SoftmaxRegression(C=0.5, tol=1e-10).fit(X_IRIS, Y_IRIS)
    zero = SoftmaxRegression(C=0.5, tol=1e-10).fit(X_IRIS, Y_IRIS, offset=np.zeros((150, 3)))
    np.testing.assert_allclose(zero.coef_, plain.coef_, atol=1e-8)
    np.testing.assert_allclose(zero.intercept_, plain.intercept_, atol=1e-8)


def test_offset_is_needed_at_prediction_and_kept_in_model_files(tmp_path):
    model = SoftmaxRegression(C=0.5).fit(X_IRIS[:, :3], Y_IRIS, offset=OFFSET)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(ValueError, match="fitted with an offset.*newoffset"):
            getattr(model, method)(X_IRIS[:, :3])
    with pytest.raises(ValueError, match="fitted without an offset"):
        SoftmaxRegression().fit(X_IRIS, Y_IRIS).predict(X_IRIS, offset=OFFSET)
    path = model.save(tmp_path / "offset.softmax")
    assert read_metadata(path)["format_version"] == 3
    loaded = sm.load(path)
    assert loaded.offset_used_
    np.testing.assert_array_equal(
        loaded.predict_proba(X_IRIS[:, :3], offset=OFFSET),
        model.predict_proba(X_IRIS[:, :3], offset=OFFSET),
    )
    with pytest.raises(ValueError, match="fitted with an offset"):
        loaded.predict(X_IRIS[:, :3])
    plain = sm.load(SoftmaxRegression().fit(X_IRIS, Y_IRIS).save(tmp_path / "plain.softmax"))
    assert not plain.offset_used_


def test_cv_splits_the_offset_with_the_rows():
    params = dict(Cs=[0.1, 1.0, 10.0], cv=3, random_state=0, tol=1e-8)
    plain = SoftmaxRegressionCV(**params).fit(X_IRIS, Y_IRIS)
    zero = SoftmaxRegressionCV(**params).fit(X_IRIS, Y_IRIS, offset=np.zeros((150, 3)))
    np.testing.assert_allclose(
        zero.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"], rtol=1e-6
    )
    np.testing.assert_allclose(zero.coef_, plain.coef_, atol=1e-6)
    assert zero.offset_used_ and zero.best_estimator_.offset_used_
    with pytest.raises(ValueError, match="fitted with an offset"):
        zero.predict_proba(X_IRIS)
    model = SoftmaxRegressionCV(**params).fit(X_IRIS[:, :3], Y_IRIS, offset=OFFSET)
    direct = SoftmaxRegression(C=model.C_, tol=1e-8).fit(X_IRIS[:, :3], Y_IRIS, offset=OFFSET)
    np.testing.assert_allclose(
        model.predict_proba(X_IRIS[:, :3], OFFSET),
        direct.predict_proba(X_IRIS[:, :3], offset=OFFSET), atol=1e-5,
    )  # fmt: skip


def test_offset_refusals(tmp_path):
    with pytest.raises(ValueError, match="one column per class.*cancels in the softmax"):
        SoftmaxRegression().fit(X_IRIS, Y_IRIS, offset=np.zeros(150))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\) = \(150, 3\)"):
        SoftmaxRegression().fit(X_IRIS, Y_IRIS, offset=np.zeros((150, 2)))
    with pytest.raises(ValueError, match="finite"):
        SoftmaxRegression().fit(X_IRIS, Y_IRIS, offset=np.full((150, 3), np.nan))
    with pytest.raises(ValueError, match="offset is not supported for solver='sgd'"):
        SoftmaxRegression(solver="sgd").fit(X_IRIS, Y_IRIS, offset=OFFSET)
    dask_array = pytest.importorskip("dask.array")
    X_dask = dask_array.from_array(X_IRIS, chunks=50)
    with pytest.raises(ValueError, match="offset is not supported for Dask collections"):
        SoftmaxRegression().fit(X_dask, dask_array.from_array(Y_IRIS, chunks=50), offset=OFFSET)
    fitted = SoftmaxRegression().fit(X_IRIS[:, :3], Y_IRIS, offset=OFFSET)
    with pytest.raises(ValueError, match="prediction on Dask collections does not support"):
        fitted.predict(dask_array.from_array(X_IRIS[:, :3], chunks=50))
    with pytest.raises(ValueError, match="inference does not support a model fitted with an"):
        fitted.inference(X_IRIS[:, :3], Y_IRIS)
    with pytest.raises(ValueError, match="to_onnx does not support"):
        fitted.to_onnx()
    fitted.set_params(solver="sgd", alpha=1e-3)
    with pytest.raises(ValueError, match="partial_fit does not support"):
        fitted.partial_fit(X_IRIS[:, :3], Y_IRIS)
    frame = pytest.importorskip("pandas").DataFrame(X_IRIS, columns=["a", "b", "c", "d"])
    frame["y"] = Y_IRIS
    with pytest.raises(ValueError, match="offset is not supported for formulas"):
        SoftmaxRegression(formula="y ~ a + b").fit(frame, offset=OFFSET)
    beta = fitted.calibrate(X_IRIS[:, :3], Y_IRIS, offset=OFFSET).beta_  # passed through
    assert 0 < beta < np.inf
