"""standardize=True: a change of coordinates equal to fitting on standardised features."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from softmax import SoftmaxRegression
from softmax.loss.linear import LinearModelLoss
from softmax.loss.standardize import StandardizedLinearLoss, feature_mean_scale


@pytest.fixture(scope="module")
def wine():
    return load_wine(return_X_y=True)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_loss_equals_the_loss_on_standardised_features(wine, fit_intercept, as_sparse):
    X, y = wine
    sw = np.random.default_rng(0).uniform(0.5, 2, len(y))
    mean, scale = feature_mean_scale(sparse.csr_matrix(X) if as_sparse else X, sw, center=fit_intercept)
    np.testing.assert_allclose(scale, np.sqrt(np.cov(X, rowvar=False, aweights=sw, bias=True).diagonal()))
    Z = (X - mean) / scale
    inner = LinearModelLoss(3, X.shape[1], fit_intercept)
    wrapped = StandardizedLinearLoss(inner, mean, scale)
    w = np.random.default_rng(1).normal(size=inner.n_params)
    v = np.random.default_rng(2).normal(size=inner.n_params)
    value, grad, hessp = wrapped.loss_gradient_hessp(w, sparse.csr_matrix(X) if as_sparse else X, y, sw)
    ref_value, ref_grad, ref_hessp = inner.loss_gradient_hessp(w, Z, y, sw)
    assert value == pytest.approx(ref_value, rel=1e-10)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(hessp(v), ref_hessp(v), rtol=1e-8, atol=1e-8)
    # The adjoint is the transpose of the coordinate map.
    u = np.random.default_rng(3).normal(size=inner.n_params)
    assert np.dot(wrapped.to_original(v), u) == pytest.approx(np.dot(v, wrapped.adjoint(u)))


def test_fit_equals_a_fit_on_standardised_data_in_original_units():
    X, y = load_digits(return_X_y=True)
    scaler = StandardScaler().fit(X)
    # L-BFGS's iterates are the same in both coordinates (Newton-CG's preconditioner is not).
    ours = SoftmaxRegression(standardize=True, tol=1e-8, solver="lbfgs").fit(X, y)
    ref = SoftmaxRegression(tol=1e-8, solver="lbfgs").fit(scaler.transform(X), y)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(scaler.transform(X)), atol=1e-7)
    sp = SoftmaxRegression(standardize=True, tol=1e-8, solver="lbfgs").fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(sp.predict_proba(X), ours.predict_proba(X), atol=1e-6)


def test_badly_scaled_data_converges_only_with_standardize(wine):
    X, y = wine
    with pytest.warns(ConvergenceWarning, match="standardize=True"):
        SoftmaxRegression(max_iter=100, solver="lbfgs").fit(X, y)  # first order: scale-bound
    model = SoftmaxRegression(standardize=True, max_iter=100, solver="lbfgs").fit(X, y)
    assert model.converged_ and model.n_iter_ < 50


def test_warm_start_and_no_penalty_optimum(wine):
    X, y = wine
    X, y = X[y < 2], y[y < 2]
    # Unpenalised, standardising does not move the optimum (given one exists).
    X = X + np.random.default_rng(0).normal(scale=X.std(axis=0) * 3, size=X.shape)
    plain = SoftmaxRegression(C=np.inf, standardize=False, tol=1e-9, max_iter=100_000).fit(X, y)
    model = SoftmaxRegression(C=np.inf, standardize=True, tol=1e-9, warm_start=True).fit(X, y)
    # The unscaled fit itself is only this accurate: that is the point of standardize.
    np.testing.assert_allclose(model.predict_proba(X), plain.predict_proba(X), atol=1e-4)
    assert model.objective_history_[-1] <= plain.objective_history_[-1] + 1e-12
    model.fit(X, y)
    assert model.n_iter_ <= 2


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_newton_cg_preconditions_in_standardised_coordinates(fit_intercept):
    """standardize=True takes the iterations of a fit on pre-standardised data (was 18 vs 10)."""
    X, y = load_digits(return_X_y=True)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    mean, scale = feature_mean_scale(X, sw, center=fit_intercept)
    loss = StandardizedLinearLoss(LinearModelLoss(10, X.shape[1], fit_intercept), mean, scale)
    second = (sw / sw.sum()) @ np.square(X)
    expected = (sw / sw.sum()) @ np.square((X - mean) / scale)
    np.testing.assert_allclose(loss.solver_second_moments(second), expected, atol=1e-10)
    Xs = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    fits = [
        SoftmaxRegression(solver="newton-cg", standardize=std, tol=1e-8).fit(data, y)
        for std, data in ((True, X), (False, Xs))
    ]
    assert fits[0].n_iter_[0] <= fits[1].n_iter_[0] + 1
