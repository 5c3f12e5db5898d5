"""Stochastic training: the pure optimisers, partial_fit, fit(solver="sgd"), resuming."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from softmax import SoftmaxRegression, load
from softmax.backends.stream import StochasticRun
from softmax.loss.linear import LinearModelLoss
from softmax.solvers import SOLVERS, sgd

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _mean_objective(model, X, y, alpha):
    loss = LinearModelLoss(len(model.classes_), X.shape[1], True)
    w = loss.pack(model.coef_.astype(float), model.intercept_.astype(float))
    codes = np.searchsorted(model.classes_, y)
    return loss.loss(w, X, codes) / len(y) + alpha / 2 * float(np.sum(model.coef_**2))


# -- the pure optimisers --------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", sgd.OPTIMIZERS)
def test_update_is_pure_and_minimises_a_quadratic(optimizer):
    config = sgd.SGDConfig(optimizer, "constant", eta0=0.05 if optimizer != "adam" else 0.05)
    target = np.array([1.0, -2.0, 3.0])
    state = sgd.init(np.zeros(3), config)
    first = state
    for _ in range(2000):
        state = sgd.update(state, state.w - target, config)
    assert first.t == 0 and np.array_equal(first.w, np.zeros(3))  # never modified
    assert state.t == 2000
    np.testing.assert_allclose(sgd.solution(state, config), target, atol=1e-2)


def test_schedules():
    constant = sgd.SGDConfig("sgd", "constant", eta0=0.3, alpha=0.1)
    assert sgd.step_size(constant, 1000) == 0.3
    inverse = sgd.SGDConfig("sgd", "invscaling", eta0=0.3)
    assert sgd.step_size(inverse, 3) == pytest.approx(0.3 / 2)
    optimal = sgd.SGDConfig("sgd", "optimal", eta0=0.5, alpha=0.1)
    assert sgd.step_size(optimal, 0) == 0.5
    assert sgd.step_size(optimal, 100) == pytest.approx(1 / (0.1 * (100 + 1 / (0.1 * 0.5))))
    # Without a penalty the "optimal" schedule has no curvature to use: constant.
    assert sgd.step_size(optimal._replace(alpha=0.0), 10**6) == 0.5


def test_proximal_step_zeroes_small_coefficients():
    config = sgd.SGDConfig("sgd", "constant", eta0=0.1)
    state = sgd.init(np.array([0.05, -1.0]), config)

    def prox(w, step):  # soft-thresholding by step * 1.0
        return np.sign(w) * np.maximum(np.abs(w) - step, 0.0)

    state = sgd.update(state, np.zeros(2), config, prox)
    np.testing.assert_allclose(state.w, [0.0, -0.9])


def test_curvature_bound_makes_the_default_step_scale_free(iris):
    X, _ = iris
    assert sgd.curvature_bound(100 * X, True) > 100 * sgd.curvature_bound(X, True)
    assert sgd.default_step("adam", 123.0) == 0.01


def test_sgd_is_a_registered_solver():
    assert SOLVERS["sgd"] is sgd.SGD


def test_partial_fit_reaches_the_optimum_of_a_weakly_penalised_problem():
    # Standardised wine is nearly separable: with alpha = 1 / (10 n) the curvature
    # spans L down to alpha, where plain steps of 1 / L end percents above the optimum.
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    n = len(y)
    alpha = 1 / (10 * n)
    full = LogisticRegression(C=1 / (alpha * n), tol=1e-12, max_iter=10_000).fit(X, y)
    order = np.random.default_rng(0).permutation(n)
    chunks = [order[i : i + 30] for i in range(0, n, 30)]
    model = SoftmaxRegression(solver="sgd", alpha=alpha, random_state=0)
    for _ in range(300):  # passes over the chunks, in a fixed order
        for rows in chunks:
            model.partial_fit(X[rows], y[rows], classes=np.arange(3))
    best = _mean_objective(full, X, y, alpha)
    assert 0 <= _mean_objective(model, X, y, alpha) - best < 1e-3 * best


def test_asgd_state_without_momentum_from_older_files_continues_plain(iris):
    X, y = iris
    model = SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0).partial_fit(X, y)
    arrays, fields = model.sgd_state_.to_file()
    assert "sgd_m" in arrays and fields["config"]["asgd_momentum"] == 0.95
    del arrays["sgd_m"], fields["config"]["asgd_momentum"]
    run = StochasticRun.from_file(fields, arrays, model.sgd_state_.state.w.size)
    assert run.config.asgd_momentum == 0.0 and run.state.m.size == 0


# -- partial_fit ------------------------------------------------------------------------------


def test_partial_fit_converges_to_the_full_batch_optimum(digits):
    X, y = digits
    alpha = 1e-2
    full = SoftmaxRegression(alpha=alpha, tol=1e-10).fit(X, y)
    model = SoftmaxRegression(solver="sgd", alpha=alpha, batch_size=32, random_state=0)
    rng = np.random.default_rng(0)
    for _ in range(40):  # epochs of shuffled mini-batches, 4 chunks each
        for rows in np.array_split(rng.permutation(len(y)), 4):
            model.partial_fit(X[rows], y[rows], classes=np.arange(10))
    gap = _mean_objective(model, X, y, alpha) - _mean_objective(full, X, y, alpha)
    assert 0 <= gap < 1e-3
    assert model.n_iter_ == 160 and len(model.objective_history_) == 160
    # Same settings through fit: the same optimum, the same predictions.
    fitted = SoftmaxRegression(solver="sgd", alpha=alpha, batch_size=32, random_state=0).fit(X, y)
    assert np.mean(model.predict(X) == fitted.predict(X)) > 0.995
    assert np.mean(model.predict(X) == full.predict(X)) > 0.995


def test_partial_fit_unseen_class_is_a_clear_error(iris):
    X, y = iris
    model = SoftmaxRegression(solver="sgd", alpha=1e-3)
    model.partial_fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"label\(s\) \[2\] that are not in classes_"):
        model.partial_fit(X, y)
    with pytest.raises(ValueError, match="not the same as in the first call"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="at least 2 classes"):
        SoftmaxRegression(solver="sgd", alpha=1e-3).partial_fit(X[:10], y[:10])
    # With every label declared up front, a chunk may hold any subset.
    declared = SoftmaxRegression(solver="sgd", alpha=1e-3)
    declared.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    declared.partial_fit(X, y)
    assert declared.classes_.tolist() == [0, 1, 2]


def test_partial_fit_needs_alpha_and_the_sgd_solver(iris):
    X, y = iris
    with pytest.raises(ValueError, match="partial_fit needs alpha"):
        SoftmaxRegression(solver="sgd").partial_fit(X, y)
    assert not hasattr(SoftmaxRegression(), "partial_fit")  # as MLPClassifier(solver="lbfgs")
    with pytest.raises(ValueError, match="class_weight='balanced'"):
        SoftmaxRegression(solver="sgd", alpha=1e-3, class_weight="balanced").partial_fit(X, y)


def test_partial_fit_after_fit_continues_from_it(iris):
    X, y = iris
    model = SoftmaxRegression(solver="sgd", alpha=1e-2, random_state=0, max_iter=200).fit(X, y)
    before = model.coef_.copy()
    model.partial_fit(X, y)
    np.testing.assert_allclose(model.coef_, before, atol=0.2)
    model.fit(X, y)  # a new fit ends the stream
    assert not hasattr(model, "sgd_state_") and model.n_iter_ > 1


@pytest.mark.parametrize("optimizer", sgd.OPTIMIZERS)
def test_resuming_from_a_saved_file_is_bit_identical(tmp_path, digits, optimizer):
    X, y = digits
    chunks = np.array_split(np.random.default_rng(1).permutation(len(y)), 8)
    params = dict(solver="sgd", alpha=1e-3, optimizer=optimizer, batch_size=50, random_state=7)
    straight = SoftmaxRegression(**params)
    for rows in chunks:
        straight.partial_fit(X[rows], y[rows], classes=np.arange(10))
    first = SoftmaxRegression(**params)
    for rows in chunks[:3]:
        first.partial_fit(X[rows], y[rows], classes=np.arange(10))
    first.save(tmp_path / "half.softmax")
    resumed = load(tmp_path / "half.softmax")
    for rows in chunks[3:]:
        resumed.partial_fit(X[rows], y[rows])
    for name in ("coef_", "intercept_", "objective_history_"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(straight, name))
    assert resumed.n_iter_ == straight.n_iter_


def test_random_state_makes_runs_repeatable(iris):
    X, y = iris
    a = SoftmaxRegression(solver="sgd", batch_size=16, random_state=3, max_iter=20).fit(X, y)
    b = SoftmaxRegression(solver="sgd", batch_size=16, random_state=3, max_iter=20).fit(X, y)
    c = SoftmaxRegression(solver="sgd", batch_size=16, random_state=4, max_iter=20).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


# -- fit(solver="sgd") and the penalty rule ---------------------------------------------------


def test_alpha_is_c_per_sample_and_wins(iris):
    X, y = iris
    alpha = 1e-2
    by_alpha = SoftmaxRegression(C=123.0, alpha=alpha, tol=1e-10).fit(X, y)  # C is ignored
    by_c = SoftmaxRegression(C=1 / (alpha * len(y)), tol=1e-10).fit(X, y)
    np.testing.assert_allclose(by_alpha.coef_, by_c.coef_, atol=1e-7)
    # fit(solver="sgd") without alpha uses C, turned per sample by the training size.
    sgd_c = SoftmaxRegression(C=1 / (alpha * len(y)), solver="sgd", random_state=0).fit(X, y)
    gap = _mean_objective(sgd_c, X, y, alpha) - _mean_objective(by_c, X, y, alpha)
    assert 0 <= gap < 1e-3


@pytest.mark.parametrize("optimizer", sgd.OPTIMIZERS)
def test_every_optimizer_fits(iris, optimizer):
    X, y = iris
    model = SoftmaxRegression(solver="sgd", optimizer=optimizer, random_state=0, max_iter=200)
    assert model.fit(X, y).score(X, y) > 0.9
    assert len(model.objective_history_) == model.n_iter_ + 1


def test_early_stopping_keeps_the_best_epoch(digits, capsys):
    X, y = digits
    model = SoftmaxRegression(
        solver="sgd", early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
        tol=1e-4, random_state=0, verbose=1,
    ).fit(X, y)  # fmt: skip
    assert model.converged_ and model.n_iter_ < 1000
    assert model.score(X, y) > 0.95
    err = capsys.readouterr()
    assert "rows/s" in err.err  # the progress bar, on stderr
    assert "iter" in err.out  # one line per epoch


def test_elastic_net_by_proximal_steps():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    settings = dict(alpha=0.02, l1_ratio=0.7)
    exact = SoftmaxRegression(solver="prox-newton", tol=1e-10, **settings).fit(X, y)
    model = SoftmaxRegression(
        solver="sgd", optimizer="sgd", batch_size=32, random_state=0, **settings
    ).fit(X, y)
    assert model.objective_history_[-1] - exact.objective_history_[-1] < 1e-3
    assert np.count_nonzero(model.coef_ == 0) > 0  # proximal steps give exact zeros
    stream = SoftmaxRegression(
        solver="sgd", optimizer="sgd", batch_size=32, random_state=0, **settings
    )
    rng = np.random.default_rng(0)
    for _ in range(60):
        rows = rng.permutation(len(y))
        stream.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    assert np.count_nonzero(stream.coef_ == 0) > 0

    def objective(m):
        l1 = 0.02 * 0.7 * float(np.abs(m.coef_).sum())
        return _mean_objective(m, X, y, 0.02 * 0.3) + l1

    assert objective(stream) - objective(exact) < 2e-3


def test_float32_and_sparse_input(iris):
    from scipy import sparse

    X, y = iris
    model = SoftmaxRegression(solver="sgd", random_state=0, max_iter=50)
    dense = model.fit(X.astype(np.float32), y)
    assert dense.coef_.dtype == np.float32
    sp = SoftmaxRegression(solver="sgd", random_state=0, max_iter=50).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(sp.coef_, dense.coef_, atol=1e-3)


# Stochastic: a row of weight 2 and two copies of it take different random paths,
# so scikit-learn's weight-equivalence checks cannot hold (as for SGDClassifier).
_EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": "stochastic: weights are not repetitions",
    "check_sample_weight_equivalence_on_sparse_data": "stochastic: weights are not repetitions",
}


@parametrize_with_checks(
    [SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0, max_iter=30)],
    expected_failed_checks=lambda estimator: _EXPECTED_FAILURES,
)
def test_sklearn_estimator_checks_sgd(estimator, check):
    check(estimator)


def test_the_stochastic_state_is_a_public_attribute_with_a_file_form(iris):
    from softmax.backends.stream import StochasticRun

    X, y = iris
    model = SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0).partial_fit(X, y)
    run = model.sgd_state_
    assert isinstance(run, StochasticRun)
    arrays, fields = run.to_file()
    again = StochasticRun.from_file(fields, arrays, run.state.w.size)
    np.testing.assert_array_equal(again.solution(), run.solution())
    with pytest.raises(ValueError, match="unexpected optimiser arrays"):
        StochasticRun.from_file(fields, {**arrays, "sgd_other": np.zeros(1)}, run.state.w.size)
    model.fit(X, y)  # a full-batch fit ends the stream
    assert not hasattr(model, "sgd_state_")
