"""Issue 11, fitting: weights, separation, convergence reports, beta.

Each test here failed on the main of 2026-12-01.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from softmax import SoftmaxRegression
from softmax.functions import hardmax, log_softmax, softmax


# -- 5. class_weight="balanced" with sample_weight -------------------------------------------


@pytest.mark.parametrize("loader", [load_iris, load_wine])
@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0, 1: 0.5}])
@pytest.mark.parametrize("weighted", [False, True])
def test_weights_and_class_weights_match_scikit_learn(loader, class_weight, weighted):
    X, y = loader(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    keep = np.r_[0:40, 50:150] if loader is load_iris else np.arange(len(y))  # unbalanced
    X, y = X[keep], y[keep]
    sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y)) if weighted else None
    ours = SoftmaxRegression(class_weight=class_weight, tol=1e-10, max_iter=10_000)
    ours.fit(X, y, sample_weight=sw)
    ref = LogisticRegression(class_weight=class_weight, tol=1e-12, max_iter=10_000)
    ref.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


# -- 6. separation without a penalty -----------------------------------------------------------


def test_unpenalised_fit_of_separated_data_warns_and_names_classes():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(Warning, match="separat") as record:
        model = SoftmaxRegression(C=np.inf).fit(X, y)
    message = " ".join(str(w.message) for w in record)
    assert "0" in message  # names the class (labels 0, 1, 2 here)
    assert not model.converged_


# -- 10. beta = inf is hard-max ---------------------------------------------------------------


def test_beta_infinity_is_hardmax():
    z = np.array([3.0, 7.0, 14.0])
    np.testing.assert_array_equal(softmax(z, beta=np.inf), hardmax(z))
    np.testing.assert_array_equal(softmax([1.0, 5.0, 5.0], beta=np.inf), [0, 0.5, 0.5])
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(log_softmax(z, beta=np.inf), np.log(hardmax(z)))


# -- 14, 15, 16. scikit-learn compatibility ---------------------------------------------------


def test_n_iter_is_an_array_and_max_iter_zero_is_allowed():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression().fit(X, y)
    assert model.n_iter_.shape == (1,) and model.n_iter_[0] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = SoftmaxRegression(max_iter=0).fit(X, y)
    assert start.n_iter_[0] == 0
    np.testing.assert_allclose(start.predict_proba(X[:3]), 1 / 3)


def test_sgd_that_stalls_does_not_claim_convergence():
    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with pytest.warns(ConvergenceWarning, match="stall|improv"):
        model = SoftmaxRegression(solver="sgd", alpha=1 / (10 * len(y)), max_iter=200,
                                  random_state=0).fit(X, y)
    assert not model.converged_


def test_tol_below_rounding_level_does_not_warn_at_the_optimum():
    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegression(tol=1e-12).fit(X, y)
        SoftmaxRegression(tol=1e-8).fit(X.astype(np.float32), y)
    reference = SoftmaxRegression(solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    # A fit that really stops short still warns.
    with pytest.warns(ConvergenceWarning):
        SoftmaxRegression(tol=1e-12, max_iter=5).fit(X, y)
