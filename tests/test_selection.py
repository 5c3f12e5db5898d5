"""SoftmaxRegressionCV and regularisation paths (softmax.selection), and their pictures.

Cross-validation scores are checked against scikit-learn's GridSearchCV over
SoftmaxRegression with the same folds; path solutions against independent
fits at each C; screening against no screening.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.axes import Axes
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from softmax import SoftmaxRegression, SoftmaxRegressionCV
from softmax import plotting as P
from softmax.selection.path import fit_path, prepare, smallest_c
from softmax.selection.scores import select


def _digits(step: int = 1):
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[::step]), y[::step]


@pytest.fixture(scope="module")
def digits():
    """Standardised digits, every third row (599 rows, 10 classes): fast, yet the real data."""
    return _digits(3)


@pytest.fixture(scope="module")
def iris_cv():
    X, y = load_iris(return_X_y=True)
    return SoftmaxRegressionCV(Cs=6, cv=3, standardize=True, random_state=0).fit(X, y), X, y


def _compare_with_grid_search(X, y, Cs, tol):
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    ours = SoftmaxRegressionCV(Cs=Cs, cv=folds, tol=tol).fit(X, y)
    grid = GridSearchCV(
        SoftmaxRegression(tol=tol), {"C": Cs}, cv=folds, scoring="neg_log_loss"
    ).fit(X, y)
    for key in ["mean_test_score", "std_test_score"] + [f"split{i}_test_score" for i in range(5)]:
        np.testing.assert_allclose(ours.cv_results_[key], grid.cv_results_[key], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(
        ours.cv_results_["rank_test_score"], grid.cv_results_["rank_test_score"]
    )
    np.testing.assert_array_equal(np.asarray(ours.cv_results_["param_C"]), Cs)
    assert ours.C_ == grid.best_params_["C"]
    assert ours.best_index_ == grid.best_index_
    np.testing.assert_allclose(
        ours.predict_proba(X), grid.best_estimator_.predict_proba(X), rtol=0, atol=1e-6
    )
    return ours


def test_cv_scores_equal_grid_search(digits):
    X, y = digits
    # tol 1e-11: at C = 1e4 the objective is so flat that 1e-8 moved the scores by 1e-4.
    ours = _compare_with_grid_search(X, y, np.logspace(-4, 4, 20), tol=1e-11)
    assert ours.solver_ == "newton-cg" and ours.converged_
    assert ours.coef_path_.shape == (1, 20, 10, 64)
    # The final model is the full-data path's point at C_.
    np.testing.assert_array_equal(ours.coef_, ours.coef_path_[0, ours.best_index_])


@pytest.mark.slow
def test_cv_scores_equal_grid_search_on_full_digits():
    X, y = _digits()
    _compare_with_grid_search(X, y, np.logspace(-4, 4, 20), tol=1e-10)


def test_the_1se_rule_picks_the_strongest_penalty_within_one_standard_error(digits):
    X, y = digits
    Cs = np.logspace(-2, 2, 25)  # fine enough for one SE to span several Cs
    model = SoftmaxRegressionCV(Cs=Cs, cv=5, rule="1se", random_state=0).fit(X, y)
    results = model.cv_results_
    mean, std = results["mean_test_score"], results["std_test_score"]
    np.testing.assert_allclose(results["se_test_score"], std / np.sqrt(5))
    best = int(np.argmax(mean))
    within = mean >= mean[best] - std[best] / np.sqrt(5)
    expected = np.min(np.asarray(results["param_C"])[within])
    assert model.C_ == expected
    assert model.C_ < results["param_C"][best]  # a stronger penalty than the best one's here
    # Both rules' choices are kept (glmnet's lambda.min and lambda.1se); rule picks one.
    assert model.rule_indices_ == {"min": best, "1se": model.best_index_}


def test_select_stays_on_the_best_l1_ratio():
    results = {
        "mean_test_score": np.array([-1.0, -0.52, -0.5, -0.51, -0.9, -0.45]),
        "se_test_score": np.full(6, 0.03),
        "rank_test_score": np.array([6, 3, 2, 3, 5, 1]),
        "param_C": np.array([0.1, 1.0, 10.0, 0.1, 1.0, 10.0]),
        "param_l1_ratio": np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0]),
    }
    assert select(results, "min") == 5
    assert select(results, "1se") == 5  # -0.51 is within 1 SE but on the other l1_ratio
    with pytest.raises(ValueError, match="rule must be one of"):
        select(results, "2se")


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_elastic_net_path_equals_independent_fits(digits, l1_ratio):
    X, y = digits
    template = SoftmaxRegression(l1_ratio=l1_ratio, tol=1e-10)
    data = prepare(template, X, y, np.ones(len(y)))
    Cs = smallest_c(data, l1_ratio, grouped=False) * np.logspace(0.1, 3, 6)
    path = fit_path(template, data, Cs)
    assert path.converged.all() and path.solver == "prox-newton"
    for C, objective, coef in zip(Cs, path.objective, path.coef):
        single = SoftmaxRegression(C=C, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
        assert objective == pytest.approx(single.objective_history_[-1], rel=1e-8)
        np.testing.assert_allclose(coef, single.coef_, atol=1e-5)


def test_the_smallest_c_zeroes_every_coefficient(digits):
    X, y = digits
    for l1_ratio, grouped in [(1.0, False), (0.5, False), (1.0, True)]:
        template = SoftmaxRegression(l1_ratio=l1_ratio, grouped=grouped, tol=1e-10)
        data = prepare(template, X, y, np.ones(len(y)))
        C_min = smallest_c(data, l1_ratio, grouped)
        path = fit_path(template, data, [0.99 * C_min, 1.05 * C_min])
        assert not np.any(path.coef[0]) and np.any(path.coef[1])
        # glmnet's scale: lambda_max = l1_ratio / (C_min * n) on the mean objective.
        fit = SoftmaxRegression(C=0.99 * C_min, l1_ratio=l1_ratio, grouped=grouped).fit(X, y)
        assert not np.any(fit.coef_)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_screening_gives_the_same_solution(digits, l1_ratio, grouped):
    X, y = digits
    template = SoftmaxRegression(l1_ratio=l1_ratio, grouped=grouped, tol=1e-9)
    data = prepare(template, X, y, np.ones(len(y)))
    # A fine grid, as glmnet's: the strong rule screens when C grows little per step.
    Cs = smallest_c(data, l1_ratio, grouped) * np.logspace(0, 1.5, 16)
    screened = fit_path(template, data, Cs, screening=True)
    full = fit_path(template, data, Cs, screening=False)
    assert screened.converged.all() and full.converged.all()
    np.testing.assert_allclose(screened.objective, full.objective, rtol=1e-10)
    np.testing.assert_allclose(screened.coef, full.coef, atol=1e-5)
    assert np.all(screened.n_solved <= X.shape[1]) and screened.n_solved.min() < X.shape[1] / 2
    assert np.all(full.n_solved == X.shape[1])


def test_the_default_l1_grid_starts_where_every_coefficient_is_zero(digits):
    X, y = digits
    model = SoftmaxRegressionCV(Cs=5, cv=3, l1_ratios=[0.5, 1.0], random_state=0).fit(X, y)
    assert model.Cs_.shape == (2, 5) and model.coef_path_.shape == (2, 5, 10, 64)
    assert model.intercept_path_.shape == (2, 5, 10)
    assert not np.any(model.coef_path_[:, 0])  # C_min: the empty model
    np.testing.assert_allclose(model.Cs_[:, -1] / model.Cs_[:, 0], 1e4)
    # C_min = l1_ratio / (n * lambda_max): proportional to l1_ratio.
    assert model.Cs_[0, 0] == pytest.approx(model.Cs_[1, 0] / 2, rel=1e-12)
    assert len(model.cv_results_["params"]) == 10
    assert model.l1_ratio_ in (0.5, 1.0) and model.C_ in model.Cs_
    assert model.best_estimator_.l1_ratio == model.l1_ratio_
    assert model.best_estimator_.C == model.C_


def test_the_default_l2_grid_is_logistic_regression_cvs(iris_cv):
    model, X, y = iris_cv
    np.testing.assert_allclose(model.Cs_, [np.logspace(-4, 4, 6)])
    np.testing.assert_array_equal(model.l1_ratios_, [0.0])
    assert model.predict(X).shape == (len(y),) and model.score(X, y) > 0.9
    np.testing.assert_array_equal(model.predict_proba(X), model.best_estimator_.predict_proba(X))


def test_refit_false_keeps_only_the_cross_validation(iris_cv):
    _, X, y = iris_cv
    model = SoftmaxRegressionCV(Cs=4, cv=3, refit=False, random_state=0).fit(X, y)
    assert model.C_ in model.Cs_ and not hasattr(model, "coef_path_")
    with pytest.raises(AttributeError, match="no attribute 'predict'") as raised:
        model.predict(X)
    assert "set refit=True" in str(raised.value.__cause__)


def test_parallel_folds_give_the_same_results(iris_cv):
    model, X, y = iris_cv
    parallel = SoftmaxRegressionCV(
        Cs=6, cv=3, standardize=True, random_state=0, n_jobs=2
    ).fit(X, y)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], model.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(parallel.coef_path_, model.coef_path_)


def test_options_pass_through(digits):
    X, y = digits
    model = SoftmaxRegressionCV(
        Cs=[0.1, 1.0], cv=3, scoring="accuracy", class_weight="balanced", solver="lbfgs",
        fit_intercept=False, random_state=0,
    ).fit(X, y)
    assert model.solver_ == "lbfgs" and not np.any(model.intercept_)
    assert model.best_estimator_.class_weight == "balanced"
    assert 0.5 < model.best_score_ <= 1.0


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_the_final_model_is_the_fit_at_the_chosen_c(l1_ratio):
    X, y = load_iris(return_X_y=True)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    options = dict(standardize=True, class_weight="balanced", label_smoothing=0.1, tol=1e-10)
    model = SoftmaxRegressionCV(Cs=4, cv=3, l1_ratios=[l1_ratio], random_state=0, **options)
    model.fit(X, y, sample_weight=weights)
    single = SoftmaxRegression(C=model.C_, l1_ratio=l1_ratio, **options)
    single.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, single.coef_, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, single.intercept_, atol=1e-6)
    assert model.objective_history_[-1] == pytest.approx(single.objective_history_[-1], rel=1e-10)


def test_clear_errors(digits):
    X, y = digits
    with pytest.raises(ValueError, match="positive finite"):
        SoftmaxRegressionCV(Cs=[1.0, -1.0]).fit(X, y)
    with pytest.raises(ValueError, match=r"l1_ratios must be .* in \[0, 1\]"):
        SoftmaxRegressionCV(l1_ratios=[1.5]).fit(X, y)
    with pytest.raises(ValueError, match="needs solver='prox-newton'"):
        SoftmaxRegressionCV(Cs=2, l1_ratios=[0.5], solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        SoftmaxRegressionCV().fit(X[:5], np.zeros(5))


def test_non_convergence_is_one_warning(digits):
    X, y = digits
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegressionCV(Cs=[1.0, 100.0], cv=3, max_iter=1, random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if "did not converge" in str(w.message)]
    assert len(messages) == 1 and "increase max_iter (now 1)" in messages[0]


def test_pictures(iris_cv, tmp_path):
    model, _, _ = iris_cv
    ax = P.plot_cv_curve(model, path=tmp_path / "cv.png")
    assert isinstance(ax, Axes) and ax.get_xscale() == "log"
    assert (tmp_path / "cv.png").read_bytes()[:4] == b"\x89PNG"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("(min)" in label for label in labels) and any("(1se)" in label for label in labels)
    ax = P.plot_coef_path(model)
    assert isinstance(ax, Axes) and len(ax.get_lines()) == 3 * 4 + 2  # + y = 0 and C_
    norms = P.plot_coef_path(model, kind="norm")
    assert len(norms.get_lines()) == 4 + 1
    with pytest.raises(ValueError, match="was not tried"):
        P.plot_coef_path(model, l1_ratio=0.5)
    unfitted = SoftmaxRegressionCV(refit=False)
    with pytest.raises(ValueError, match="cv_results_"):
        P.plot_cv_curve(unfitted)


def test_pictures_draw_on_given_axes(iris_cv):
    from softmax.plotting.base import figure

    model, _, _ = iris_cv
    left, right = figure(10, 4).subplots(1, 2)
    assert P.plot_cv_curve(model, ax=left) is left
    assert P.plot_coef_path(model, ax=right) is right
