"""Non-smooth penalties (L1, elastic net, grouped L1) and the proximal Newton solver."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from softmax.loss.linear import LinearModelLoss
from softmax.loss.objective import Objective
from softmax.loss.standardize import StandardizedLinearLoss, feature_mean_scale
from softmax.penalties import L1, L2, GroupL1, elastic_net
from softmax.solvers import LBFGS, ProxNewton

C = 0.1
RATIOS = (0.5, 1.0)


def _data(name):
    X, y = {"iris": load_iris, "wine": load_wine}[name](return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _objective(X, y, l1_ratio, grouped=False, fit_intercept=True, sample_weight=None, C=C):
    k = len(np.unique(y))
    loss = LinearModelLoss(k, X.shape[1], fit_intercept)
    smooth, nonsmooth = elastic_net(1.0 / C, l1_ratio, grouped)
    weight = np.ones(len(y)) if sample_weight is None else sample_weight
    return Objective(loss, smooth, X, y, weight, nonsmooth=nonsmooth)


def _centred(objective, w):
    """``w`` with centred intercepts: they are identified only up to a common constant."""
    coef, intercept = objective.linear_loss.unpack(w)
    return objective.linear_loss.pack(coef, intercept - intercept.mean())


def _solve(objective, tol=1e-10, **options):
    return ProxNewton(**options).solve(
        objective, np.zeros(objective.n_params), max_iter=100, tol=tol
    )


# -- Proximal operators and subgradients ---------------------------------------------------


def _prox_objective(penalty, u, z, step):
    return 0.5 * np.sum((u - z) ** 2) + step * penalty.value(u)


@pytest.mark.parametrize("penalty", [L1(0.7), GroupL1(0.7)], ids=["l1", "group"])
def test_prox_beats_random_perturbations(penalty):
    # The prox is the minimiser: no perturbation of it may do better.
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 6))
    z[:, 1] *= 0.1  # a column the group prox zeroes
    step = 0.8
    u = penalty.prox(z, step)
    best = _prox_objective(penalty, u, z, step)
    for scale in (1e-1, 1e-3, 1e-6):
        for _ in range(200):
            trial = u + scale * rng.normal(size=u.shape)
            assert _prox_objective(penalty, trial, z, step) >= best - 1e-14


def test_l1_prox_is_soft_thresholding_with_per_entry_steps():
    z = np.array([[3.0, -0.5, 0.2], [-2.0, 1.0, 0.0]])
    steps = np.array([[1.0, 1.0, 0.1], [0.5, 2.0, 1.0]])
    expected = np.array([[2.0, 0.0, 0.1], [-1.5, 0.0, 0.0]])
    assert_allclose(L1(1.0).prox(z, steps), expected)


def test_group_prox_shrinks_column_norms():
    z = np.array([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    out = GroupL1(2.0).prox(z, 0.5)  # threshold 1
    assert_allclose(out[:, 0], z[:, 0] * (1 - 1 / 5))
    assert_allclose(out[:, 1], 0.0)
    assert_allclose(GroupL1(1.0).prox(np.zeros((3, 2)), 1.0), 0.0)


def test_min_norm_subgradients():
    coef = np.array([[1.0, 0.0, 0.0], [-2.0, 0.0, 0.0]])
    grad = np.array([[0.5, 0.3, -1.5], [0.1, 2.0, 0.4]])
    assert_allclose(
        L1(1.0).min_norm_subgradient(coef, grad, scale=0.5),
        [[1.0, 0.0, -1.0], [-0.4, 1.5, 0.0]],
    )
    sub = GroupL1(1.0).min_norm_subgradient(coef, grad)
    norm0 = np.hypot(1.0, 2.0)
    assert_allclose(sub[:, 0], grad[:, 0] + coef[:, 0] / norm0)
    # A zero column: the gradient shrunk by the ball of radius 1, or zero inside it.
    assert_allclose(sub[:, 1], grad[:, 1] * (1 - 1 / np.linalg.norm(grad[:, 1])))
    assert_allclose(sub[:, 2], grad[:, 2] * (1 - 1 / np.linalg.norm(grad[:, 2])))
    assert_allclose(GroupL1(5.0).min_norm_subgradient(coef, grad)[:, 1:], 0.0)


def test_group_smooth_derivatives_match_finite_differences():
    rng = np.random.default_rng(1)
    coef = rng.normal(size=(3, 4))
    coef[:, 2] = 0.0
    penalty = GroupL1(1.3)
    free, grad, hessian = penalty.smooth_derivatives(coef)
    assert not free[:, 2].any() and free[:, [0, 1, 3]].all()
    eps = 1e-6
    for j in (0, 1, 3):
        for a in range(3):
            step = np.zeros_like(coef)
            step[a, j] = eps
            fd = (penalty.value(coef + step) - penalty.value(coef - step)) / (2 * eps)
            assert_allclose(grad[a, j], fd, rtol=1e-6)
            dg = (penalty.smooth_derivatives(coef + step)[1] - grad)[:, j] / eps
            assert_allclose(hessian[j][:, a], dg, atol=1e-5)
    assert_allclose(grad[:, 2], 0.0)
    assert_allclose(hessian[2], 0.0)


def test_elastic_net_split_is_sklearn_penalty():
    coef = np.array([[1.0, -2.0], [0.5, 0.0]])
    smooth, nonsmooth = elastic_net(4.0, 0.25)
    assert isinstance(smooth, L2) and isinstance(nonsmooth, L1)
    expected = 4.0 * (0.75 / 2 * np.sum(coef**2) + 0.25 * np.abs(coef).sum())
    assert_allclose(smooth.value(coef) + nonsmooth.value(coef), expected)
    assert isinstance(elastic_net(4.0, 1.0, grouped=True)[1], GroupL1)
    assert elastic_net(4.0, 0.0)[1] is None
    with pytest.raises(ValueError, match="l1_ratio"):
        elastic_net(1.0, 1.5)
    with pytest.raises(ValueError, match=">= 0"):
        L1(-1.0)


def test_objective_with_nonsmooth_part():
    X, y = _data("iris")
    objective = _objective(X, y, 0.5)
    loss = objective.linear_loss
    w = np.random.default_rng(2).normal(size=loss.n_params)
    coef = loss.coef_view(w)
    smooth, grad = objective.value_grad(w)
    S = len(y)
    assert_allclose(objective.value(w), smooth + 0.5 / C * np.abs(coef).sum() / S)
    assert_allclose(objective.nonsmooth_value(w), 0.5 / C * np.abs(coef).sum() / S)
    moved = objective.prox(w, 2.0)
    assert_allclose(loss.unpack(moved)[1], loss.unpack(w)[1])  # intercepts untouched
    assert_allclose(loss.coef_view(moved), L1(0.5 / C).prox(coef, 2.0 / S))
    sub = objective.min_norm_subgradient(w, grad)
    assert objective.optimality(w, grad) == np.max(np.abs(sub))
    # Without a non-smooth part the measure is the gradient's.
    plain = _objective(X, y, 0.0)
    assert plain.optimality(w, plain.value_grad(w)[1]) == np.max(np.abs(plain.value_grad(w)[1]))


# -- The solver against scikit-learn -------------------------------------------------------


@pytest.fixture(scope="module")
def saga():
    """scikit-learn's saga optima (its only multinomial L1 solver), computed once."""
    out = {}
    for name in ("iris", "wine"):
        X, y = _data(name)
        for ratio in RATIOS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = LogisticRegression(
                    solver="saga", C=C, l1_ratio=ratio, tol=1e-10, max_iter=100000
                ).fit(X, y)
            out[name, ratio] = model.coef_, model.intercept_
    return out


@pytest.mark.parametrize("name", ["iris", "wine"])
@pytest.mark.parametrize("ratio", RATIOS)
def test_optimum_matches_sklearn_saga(saga, name, ratio):
    X, y = _data(name)
    objective = _objective(X, y, ratio)
    result = _solve(objective)
    assert result.converged, result.message
    ours = objective.value(result.w)
    theirs = objective.value(objective.linear_loss.pack(*saga[name, ratio]))
    assert ours <= theirs + 1e-12
    assert_allclose(ours, theirs, rtol=1e-5)
    coef = objective.linear_loss.unpack(result.w)[0]
    assert_allclose(coef, saga[name, ratio][0], atol=1e-3)
    assert np.count_nonzero(coef == 0) > 0  # L1 gives exact zeros
    # The reported measure is the minimum-norm subgradient's.
    assert result.gradient_max == objective.optimality(result.w, objective.value_grad(result.w)[1])


@pytest.mark.parametrize("name", ["iris", "wine"])
def test_group_penalty_kkt(name):
    X, y = _data(name)
    objective = _objective(X, y, 1.0, grouped=True, C=0.05)
    result = _solve(objective)
    assert result.converged, result.message
    loss = objective.linear_loss
    coef = loss.unpack(result.w)[0]
    grad = loss.coef_view(objective.value_grad(result.w)[1])
    lam = objective.nonsmooth.strength * objective.scale
    norms = np.linalg.norm(coef, axis=0)
    zero = norms == 0
    assert zero.any() and not zero.all()
    # A column is zero for all classes or for none.
    assert np.all((coef == 0).all(axis=0) == (coef == 0).any(axis=0))
    assert np.all(np.linalg.norm(grad[:, zero], axis=0) <= lam + 1e-9)
    assert_allclose(grad[:, ~zero], -lam * coef[:, ~zero] / norms[~zero], atol=1e-9)
    # The intercepts are not penalised.
    assert_allclose(loss.unpack(objective.value_grad(result.w)[1])[1], 0.0, atol=1e-9)


def test_l1_ratio_zero_is_the_l2_optimum():
    X, y = _data("wine")
    objective = _objective(X, y, 0.0)
    assert objective.nonsmooth is None
    ours = _solve(objective)
    reference = LBFGS().solve(objective, np.zeros(objective.n_params), max_iter=1000, tol=1e-10)
    assert ours.converged
    assert_allclose(_centred(objective, ours.w), _centred(objective, reference.w), atol=1e-7)


class _OtherLoss(LinearModelLoss):
    """A loss the working-set Hessian does not know: Hessian-vector products are used."""


@pytest.mark.parametrize("grouped", [False, True])
def test_working_set_variants_agree(grouped):
    X, y = _data("wine")
    objective = _objective(X, y, 1.0, grouped=grouped)
    reference = _centred(objective, _solve(objective).w)
    # A working set grown from 10 features instead of all violators at once.
    small = _solve(objective, working_set_size=1)
    assert small.converged, small.message
    assert_allclose(_centred(objective, small.w), reference, atol=1e-8)
    # The Hessian from one Hessian-vector product per entry.
    other = _objective(X, y, 1.0, grouped=grouped)
    other.linear_loss = _OtherLoss(3, X.shape[1], True)
    columns = _solve(other)
    assert columns.converged, columns.message
    assert_allclose(_centred(objective, columns.w), reference, atol=1e-8)


def test_standardized_coordinates():
    # Fitting through StandardizedLinearLoss on raw X is fitting on standardised X.
    X, y = load_wine(return_X_y=True)
    objective = _objective(X, y, 0.5)
    mean, scale = feature_mean_scale(X, np.ones(len(y)), center=True)
    objective.linear_loss = StandardizedLinearLoss(objective.linear_loss, mean, scale)
    result = _solve(objective)
    assert result.converged, result.message
    plain = _objective((X - mean) / scale, y, 0.5)
    assert_allclose(_centred(plain, result.w), _centred(plain, _solve(plain).w), atol=1e-8)


def test_weights_binary_and_no_intercept():
    X, y = _data("iris")
    X, y = X[50:], y[50:] - 1  # two classes
    weight = np.random.default_rng(3).integers(0, 3, size=len(y)).astype(float)
    # Pure L1 with two classes has a continuum of optima (any split of coef_1 - coef_0
    # with opposite signs): the L2 part makes the optimum unique.
    objective = _objective(X, y, 0.5, fit_intercept=False, sample_weight=weight)
    result = _solve(objective)
    assert result.converged
    # Integer weights are repeated rows.
    rows = np.repeat(np.arange(len(y)), weight.astype(int))
    repeated = _objective(X[rows], y[rows], 0.5, fit_intercept=False)
    assert_allclose(_solve(repeated).w, result.w, atol=1e-8)


def test_history_decreases_and_callback_reports_the_measure():
    X, y = _data("iris")
    objective = _objective(X, y, 1.0)
    infos = []
    result = ProxNewton().solve(
        objective, np.zeros(objective.n_params), max_iter=100, tol=1e-8, callback=infos.append
    )
    assert len(infos) == result.n_iter + 1
    assert np.all(np.diff(result.objective_history) <= 1e-15)
    assert infos[-1].gradient_max == result.gradient_max <= 1e-8
    capped = ProxNewton().solve(objective, np.zeros(objective.n_params), max_iter=1, tol=1e-8)
    assert not capped.converged and capped.n_iter == 1


def test_only_proximal_solvers_declare_nonsmooth_support():
    from softmax.solvers import SOLVERS

    assert SOLVERS["prox-newton"] is ProxNewton
    assert ProxNewton.supports_nonsmooth
    # "sgd" is proximal too: it takes the L1 part by proximal steps (proximal SGD).
    assert SOLVERS["sgd"].supports_nonsmooth
    others = [cls for name, cls in SOLVERS.items() if name not in ("prox-newton", "sgd")]
    assert not any(getattr(cls, "supports_nonsmooth", False) for cls in others)
