"""glmnet's per-feature options: ``penalty_factor`` and ``lower_bounds``/``upper_bounds``.

Each is checked against a direct formulation: a penalty factor against a
rescaled column (or, for factor 0, against the objective written out here and
minimised by SciPy), bounds against the KKT conditions of that objective.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.datasets import load_iris

import softmax as sm
from softmax import SoftmaxRegression, SoftmaxRegressionCV
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
