"""SoftmaxRegression: scikit-learn conventions, agreement with scikit-learn, accuracy."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from softmax import SoftmaxRegression, SoftmaxRegressionCV


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


DATA = {
    "iris": _standardised(load_iris),
    "wine": _standardised(load_wine),
    "digits": _standardised(load_digits),
}


def _expected_failures(estimator) -> dict[str, str]:
    """Checks an estimator fails by design, with why (scikit-learn's own list does the same)."""
    if not isinstance(estimator, SoftmaxRegressionCV):
        return {}
    # As scikit-learn's LogisticRegressionCV: a repeated row and a weight of 2 fall into
    # folds differently, so the scores, hence the chosen C and the model, differ.
    why = "cross-validation folds differ between repeated rows and weights"
    return {
        "check_sample_weight_equivalence_on_dense_data": why,
        "check_sample_weight_equivalence_on_sparse_data": why,
    }


@parametrize_with_checks(
    [
        SoftmaxRegression(),
        SoftmaxRegression(solver="gd", tol=1e-4, max_iter=5000),
        SoftmaxRegressionCV(Cs=5, cv=3),  # small grid: the checks fit it many times
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    # Every check runs, none skipped: conftest.py sets SCIPY_ARRAY_API, without
    # which scikit-learn would skip check_array_api_input.
    check(estimator)


# -- agreement with scikit-learn's LogisticRegression -------------------------------------


def _weights(kind, y, seed=0):
    if kind == "sample_weight":
        return np.random.default_rng(seed).uniform(0.2, 3.0, size=len(y)), None
    if kind == "balanced":
        return None, "balanced"
    return None, None


# tol=1e-10 is below L-BFGS's rounding floor on some of these problems: it then
# warns (honestly) and stops at that floor; the check is on the probabilities.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("weighting", ["none", "sample_weight", "balanced"])
def test_lbfgs_matches_sklearn(name, C, weighting):
    X, y = DATA[name]
    if name == "digits":  # keep the suite fast: every third row still has all 10 classes
        X, y = X[::3], y[::3]
    sw, cw = _weights(weighting, y)
    ours = SoftmaxRegression(C=C, tol=1e-10, max_iter=5000, class_weight=cw).fit(X, y, sample_weight=sw)
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=10000, class_weight=cw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("name", ["iris", "wine"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_gradient_descent_reaches_the_lbfgs_optimum(name, C):
    X, y = DATA[name]
    lbfgs = SoftmaxRegression(C=C, tol=1e-9).fit(X, y)
    gd = SoftmaxRegression(C=C, solver="gd", tol=1e-8, max_iter=50_000).fit(X, y)
    assert gd.converged_
    assert gd.objective_history_[-1] == pytest.approx(lbfgs.objective_history_[-1], rel=1e-8)
    np.testing.assert_allclose(gd.predict_proba(X), lbfgs.predict_proba(X), atol=1e-5)


def test_gradient_descent_fixed_learning_rate():
    X, y = DATA["iris"]
    gd = SoftmaxRegression(solver="gd", learning_rate=0.5, tol=1e-6, max_iter=20_000).fit(X, y)
    ref = SoftmaxRegression(tol=1e-9).fit(X, y)
    assert gd.converged_
    np.testing.assert_allclose(gd.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    # The objective never rises with a step below 2/L.
    assert np.all(np.diff(gd.objective_history_) <= 1e-15)


@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
def test_two_classes_are_logistic_regression_with_twice_C(C):
    X, y = load_iris(return_X_y=True)
    X, y = X[y > 0], y[y > 0]
    ours = SoftmaxRegression(C=C, tol=1e-10).fit(X, y)
    ref = LogisticRegression(C=2 * C, tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], ref.coef_[0], rtol=1e-4, atol=1e-5)


def test_no_penalty_matches_sklearn_without_penalty():
    X, y = DATA["wine"]
    ours = SoftmaxRegression(C=np.inf, tol=1e-10, max_iter=10000)
    with warnings.catch_warnings():
        # wine is separable: the unpenalised optimum is at infinity, both libraries stop early.
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y)
    assert ours.score(X, y) == 1.0


def test_no_intercept():
    X, y = DATA["iris"]
    ours = SoftmaxRegression(fit_intercept=False, tol=1e-10).fit(X, y)
    ref = LogisticRegression(fit_intercept=False, tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_array_equal(ours.intercept_, 0)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


# -- accuracy --------------------------------------------------------------------------------


def test_iris_cross_validated_accuracy():
    X, y = load_iris(return_X_y=True)
    scores = cross_val_score(SoftmaxRegression(), X, y, cv=KFold(10, shuffle=True, random_state=0))
    assert scores.mean() >= 0.95


def test_digits_cross_validated_accuracy():
    X, y = load_digits(return_X_y=True)
    model = make_pipeline(StandardScaler(), SoftmaxRegression(C=0.1, tol=1e-4))
    scores = cross_val_score(model, X, y, cv=KFold(10, shuffle=True, random_state=0))
    assert scores.mean() >= 0.96


# -- inputs and attributes --------------------------------------------------------------------


def test_string_labels_and_feature_names():
    data = load_iris(as_frame=True)
    X = data.data
    y = data.target.map(dict(enumerate(data.target_names)))
    model = SoftmaxRegression().fit(X, y)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.predict(X.iloc[:1])[0] == "setosa"
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0, atol=1e-12)
    assert model.n_iter_ == len(model.objective_history_) - 1
    assert np.all(np.diff(model.objective_history_) <= 1e-12)


def test_predict_methods_are_consistent():
    X, y = DATA["wine"]
    model = SoftmaxRegression().fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(model.decision_function(X).argmax(axis=1), proba.argmax(axis=1))
    assert model.score(X, y) == np.mean(model.predict(X) == y)


def test_sparse_equals_dense_and_float32_stays_float32():
    X, y = DATA["wine"]
    dense = SoftmaxRegression(tol=1e-10).fit(X, y)
    for fmt in ("csr", "csc"):
        sp = SoftmaxRegression(tol=1e-10).fit(sparse.csr_matrix(X).asformat(fmt), y)
        np.testing.assert_allclose(sp.coef_, dense.coef_, rtol=1e-7, atol=1e-8)
    single = SoftmaxRegression(tol=1e-6).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32 and single.intercept_.dtype == np.float32
    assert single.predict_proba(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(single.predict_proba(X), dense.predict_proba(X), atol=1e-4)


def test_sample_weight_equals_repeated_rows():
    X, y = DATA["iris"]
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    weighted = SoftmaxRegression(tol=1e-10).fit(X, y, sample_weight=counts)
    repeated = SoftmaxRegression(tol=1e-10).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-7)


def test_class_weight_dict_equals_sample_weight():
    X, y = DATA["iris"]
    by_class = SoftmaxRegression(tol=1e-10, class_weight={0: 1.0, 1: 3.0, 2: 0.5}).fit(X, y)
    by_sample = SoftmaxRegression(tol=1e-10).fit(X, y, sample_weight=np.array([1.0, 3.0, 0.5])[y])
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-7, atol=1e-8)


def test_warm_start_starts_from_the_previous_solution():
    X, y = DATA["digits"]
    model = SoftmaxRegression(tol=1e-6, warm_start=True).fit(X, y)
    first = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ < max(3, first // 10)
    cold = SoftmaxRegression(tol=1e-6).fit(X, y)
    assert cold.n_iter_ == first


def test_callback_and_verbose(capsys):
    X, y = DATA["iris"]
    seen = []
    model = SoftmaxRegression(callback=seen.append, verbose=1).fit(X, y)
    assert [info.iteration for info in seen] == list(range(model.n_iter_[0] + 1))
    assert seen[-1].objective == pytest.approx(model.objective_history_[-1])
    assert capsys.readouterr().out.count("objective") == model.n_iter_ + 1


# -- failing loudly --------------------------------------------------------------------------


def test_non_convergence_warns_with_advice():
    X, y = load_wine(return_X_y=True)  # unscaled: columns differ by 1000x
    model = SoftmaxRegression(max_iter=5)
    with pytest.warns(ConvergenceWarning, match=r"did not converge after 5 iterations.*increase max_iter.*standardize=True"):
        model.fit(X, y)
    assert not model.converged_ and model.n_iter_ == 5


@pytest.mark.parametrize(
    ("kwargs", "fit_args", "message"),
    [
        ({}, (np.ones((4, 2)), [1, 1, 1, 1]), "only one class"),
        ({}, (np.ones((4, 2)), [0, 0, 1, 1], np.array([1.0, 1, 0, 0])), "only one class"),
        ({"learning_rate": 0.1}, (np.ones((4, 2)), [0, 0, 1, 1]), "learning_rate is only used"),
        ({}, (np.array([[0.0, np.nan], [1, 2]]), [0, 1]), "NaN"),
        ({}, (np.array([[0.0, np.inf], [1, 2]]), [0, 1]), "infinity"),
        ({"solver": "newton"}, (np.ones((4, 2)), [0, 0, 1, 1]), "solver"),
        ({"C": 0}, (np.ones((4, 2)), [0, 0, 1, 1]), "C"),
    ],
)
def test_bad_input_gives_clear_errors(kwargs, fit_args, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression(**kwargs).fit(*fit_args)


def test_wrong_feature_count_at_predict():
    X, y = DATA["iris"]
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="feature names"):
        SoftmaxRegression().fit(pd.DataFrame(X, columns=list("abcd")), y).predict(
            pd.DataFrame(X, columns=list("abce"))
        )
