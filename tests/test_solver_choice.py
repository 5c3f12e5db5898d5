"""Every solver reaches the same optimum; solver="auto"; L1 and grouped penalties via the estimator."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from softmax import SoftmaxRegression
from softmax.solvers import choose_solver


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_all_smooth_solvers_agree(wine, C):
    X, y = wine
    ref = SoftmaxRegression(C=C, tol=1e-10).fit(X, y)
    for solver in ("newton-cg", "newton-cholesky", "prox-newton", "auto"):
        model = SoftmaxRegression(C=C, solver=solver, tol=1e-10).fit(X, y)
        assert model.converged_, solver
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-4, atol=1e-5, err_msg=solver)
        assert model.objective_history_[-1] == pytest.approx(ref.objective_history_[-1], rel=1e-10)


def test_auto_rule():
    dense_small, dense_wide = np.ones((10, 4)), np.ones((10, 500))

    def chosen(*args, **kwargs):
        return choose_solver(*args, **kwargs)[0]

    assert choose_solver("lbfgs", dense_small, 3, 0.0) == ("lbfgs", "chosen by the user")
    assert chosen("auto", dense_small, 3, 0.5) == "prox-newton"
    assert chosen("auto", sparse.csr_matrix(dense_wide), 3, 0.0) == "newton-cg"
    assert chosen("auto", dense_small, 3, 0.0) == "newton-cholesky"
    assert chosen("auto", dense_small.astype(np.float32), 3, 0.0) == "newton-cholesky"
    assert chosen("auto", dense_wide, 3, 0.0) == "lbfgs"
    assert chosen("auto", dense_wide, 3, 0.0, penalised=False) == "newton-cg"
    assert chosen("auto", dense_wide, 4, 0.0) == "newton-cg"
    # The threshold is on n_classes * (n_features + 1): 10 * 10 = 100, 10 * 11 = 110.
    assert chosen("auto", np.ones((10, 9)), 10, 0.0) == "newton-cholesky"
    assert chosen("auto", np.ones((10, 10)), 10, 0.0) == "newton-cg"


def test_auto_is_the_default_and_solver_says_why(wine, capsys):
    X, y = wine
    model = SoftmaxRegression(verbose=1).fit(X, y)
    assert model.solver == "auto" and model.solver_ == "newton-cholesky"
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "solver newton-cholesky (auto: 42 parameters <= 100, the full Hessian is cheap)"
    assert SoftmaxRegression(solver="lbfgs").fit(X, y).solver_ == "lbfgs"
    assert SoftmaxRegression(C=0.1, l1_ratio=0.5).fit(X, y).solver_ == "prox-newton"


def test_anes96_default_fit_converges_fast_without_warning():
    """statsmodels' MNLogit example, unpenalised, on raw features: a Newton method."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.anes96.load_pandas().data
    X, y = data[["logpopul", "selfLR", "age", "educ", "income"]], data["PID"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(C=np.inf).fit(X, y)
    assert model.converged_ and model.n_iter_[0] < 30
    assert model.solver_ == "newton-cholesky"
    llf = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", disp=0).llf
    assert model.objective_history_[-1] * len(y) == pytest.approx(-llf, rel=1e-10)


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_elastic_net_matches_sklearn_saga_objective(l1_ratio):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    C = 0.5
    ours = SoftmaxRegression(C=C, l1_ratio=l1_ratio, solver="auto", tol=1e-10).fit(X, y)
    saga = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)

    def objective(coef, intercept):
        raw = X @ coef.T + intercept
        lse = np.logaddexp.reduce(raw, axis=1)
        ce = np.sum(lse - raw[np.arange(len(y)), y])
        pen = (1 - l1_ratio) / 2 * np.sum(coef**2) + l1_ratio * np.sum(np.abs(coef))
        return ce + pen / C

    ours_value = objective(ours.coef_, ours.intercept_)
    saga_value = objective(saga.coef_, saga.intercept_)
    assert ours_value <= saga_value * (1 + 1e-9)
    assert ours_value == pytest.approx(saga_value, rel=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), saga.predict_proba(X), atol=1e-4)


def test_grouped_penalty_drops_whole_features(wine):
    X, y = wine
    model = SoftmaxRegression(C=0.02, l1_ratio=1.0, grouped=True, solver="auto").fit(X, y)
    zero_columns = np.all(model.coef_ == 0, axis=0)
    assert 0 < zero_columns.sum() < X.shape[1]
    # A feature is in or out for all classes at once.
    assert np.all(np.any(model.coef_ == 0, axis=0) == zero_columns)


def test_l1_needs_a_proximal_solver(wine):
    X, y = wine
    with pytest.raises(ValueError, match="needs solver='prox-newton'"):
        SoftmaxRegression(l1_ratio=0.5, solver="lbfgs").fit(X, y)


# -- soft targets and label smoothing ---------------------------------------------------------


def test_one_hot_soft_targets_equal_labels(wine):
    X, y = wine
    onehot = np.eye(3)[y]
    labels = SoftmaxRegression(tol=1e-10).fit(X, y)
    soft = SoftmaxRegression(tol=1e-10).fit(X, onehot)
    np.testing.assert_array_equal(soft.classes_, [0, 1, 2])
    np.testing.assert_allclose(soft.coef_, labels.coef_, rtol=1e-7, atol=1e-9)


def test_label_smoothing_equals_its_soft_targets_and_softens(wine):
    import pandas as pd

    X, y = wine
    eps = 0.2
    smoothed = SoftmaxRegression(label_smoothing=eps, tol=1e-10).fit(X, y)
    targets = pd.DataFrame((1 - eps) * np.eye(3)[y] + eps / 3, columns=["a", "b", "c"])
    soft = SoftmaxRegression(tol=1e-10).fit(X, targets)
    assert list(soft.classes_) == ["a", "b", "c"]
    np.testing.assert_allclose(soft.coef_, smoothed.coef_, rtol=1e-7, atol=1e-9)
    sharp = SoftmaxRegression(tol=1e-10).fit(X, y)
    assert smoothed.predict_proba(X).max() < sharp.predict_proba(X).max()


def test_bad_soft_targets(wine):
    X, y = wine
    with pytest.raises(ValueError, match="row 0 sums to"):
        SoftmaxRegression().fit(X, np.full((len(y), 3), 0.5))
    with pytest.raises(ValueError, match="negative"):
        SoftmaxRegression().fit(X, np.tile([1.5, -0.5, 0.0], (len(y), 1)))
    with pytest.raises(ValueError, match="class labels"):
        SoftmaxRegression(class_weight="balanced").fit(X, np.eye(3)[y])
