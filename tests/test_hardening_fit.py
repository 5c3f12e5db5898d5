"""Issue 11, fitting: weights, separation, convergence reports, beta.

Each test here failed on the main of 2026-12-01.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_class_weight

from softmax import SoftmaxRegression
from softmax.functions import hardmax, log_softmax, softmax
from softmax.model.problem import class_weights


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


def test_balanced_weights_are_scikit_learns_on_digits_and_dask_blocks():
    # Fitting digits with scikit-learn at tol=1e-12 takes 17 s: compare the weights.
    _, y = load_digits(return_X_y=True)
    y = y[(y != 3) | (np.arange(len(y)) % 4 == 0)]
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    classes, codes = np.unique(y, return_inverse=True)
    for weights in (None, sw):
        totals = np.bincount(codes, weights=weights)
        np.testing.assert_allclose(
            class_weights("balanced", classes, totals),
            compute_class_weight("balanced", classes=classes, y=y, sample_weight=weights),
        )
    da = pytest.importorskip("dask.array")
    import dask

    X, y = load_iris(return_X_y=True)
    X, y = X[np.r_[0:40, 50:150]], y[np.r_[0:40, 50:150]]
    sw = sw[: len(y)]
    memory = SoftmaxRegression(class_weight="balanced", tol=1e-9).fit(X, y, sample_weight=sw)
    with dask.config.set(scheduler="synchronous"):
        blocks = SoftmaxRegression(class_weight="balanced", tol=1e-9).fit(
            da.from_array(X, chunks=37), da.from_array(y, chunks=37),
            sample_weight=da.from_array(sw, chunks=37),
        )  # fmt: skip
    np.testing.assert_allclose(blocks.predict_proba(X), memory.predict_proba(X), atol=1e-6)


# -- 6. separation without a penalty -----------------------------------------------------------


def test_unpenalised_fit_of_separated_data_warns_and_names_classes():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(Warning, match="separat") as record:
        model = SoftmaxRegression(C=np.inf).fit(X, y)
    message = " ".join(str(w.message) for w in record)
    assert "0" in message  # names the class (labels 0, 1, 2 here)
    assert not model.converged_
    assert "x2" in message and "finite C" in message and "Firth" in message


def test_unpenalised_fit_of_overlapping_classes_does_not_warn():
    # The fit itself proves that no separation exists: no linear programme, no warning.
    X, y = make_classification(n_samples=300, n_features=5, n_informative=5, n_redundant=0,
                               n_classes=3, flip_y=0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(C=np.inf).fit(X, y)
    assert model.converged_


@pytest.fixture
def programme_sizes(monkeypatch):
    """The number of constraints of each linear programme the separation check solves."""
    from softmax.model import separation

    sizes = []
    linprog = separation.linprog

    def counted(c, A_ub, **options):
        sizes.append(A_ub.shape[0])
        return linprog(c, A_ub=A_ub, **options)

    monkeypatch.setattr(separation, "linprog", counted)
    return sizes


def _planted(n, d, K, scale, seed):
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((n, d)), rng.standard_normal((K, d)) * scale
    scores = X @ W.T
    P = np.exp(scores - scores.max(axis=1, keepdims=True))
    y = (np.cumsum(P / P.sum(axis=1, keepdims=True), axis=1) > rng.random((n, 1))).argmax(axis=1)
    return np.column_stack([np.ones(n), X]), y, scores


@pytest.mark.parametrize(
    "n, d, K, scale, kind",
    [(2000, 5, 6, 3.0, None), (200, 10, 4, 5.0, "complete"), (150, 4, 3, 30.0, "complete"),
     ("iris", 4, 3, None, "quasi-complete")],
)  # fmt: skip
def test_separation_programme_from_the_likely_constraints_gives_the_full_answer(
    n, d, K, scale, kind, programme_sizes
):
    # Row generation: each programme starts from every row's most likely other
    # class and adds the constraints its solution violates; the report is the one
    # the programme over all n (K - 1) constraints gives.
    from softmax.model import separation

    sizes = programme_sizes
    if n == "iris":
        X, y = load_iris(return_X_y=True)
        Z = np.column_stack([np.ones(len(y)), X])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = SoftmaxRegression(C=np.inf, max_iter=50).fit(X, y)
        likely = X @ fit.coef_.T + fit.intercept_
    else:
        Z, y, likely = _planted(n, d, K, scale, seed=1)
    names = ["intercept"] + [f"x{j}" for j in range(d)]
    sizes.clear()  # the iris fit above ran its own check
    full = separation.detect_separation(Z, y, np.arange(K), names, True)
    n_full = list(sizes)
    sizes.clear()
    rows = separation.detect_separation(Z, y, np.arange(K), names, True, likely=likely)
    assert (full is None) == (kind is None) and (rows is None) == (kind is None)
    if kind is not None:
        assert rows.kind == full.kind == kind and rows.message == full.message
    assert set(n_full) == {len(y) * (K - 1)}
    assert sizes[0] == len(y) * separation._FIRST_PER_ROW


def test_separation_programme_adds_the_constraints_its_solution_violates(
    programme_sizes, monkeypatch
):
    # Scores that rank each row's classes backwards: the first programme keeps only
    # constraints against unlikely classes, which the planted direction makes strict;
    # its solution violates constraints it left out, which the next one takes in.
    from softmax.model import separation

    sizes = programme_sizes
    Z, y, scores = _planted(300, 3, 5, 2.0, seed=2)
    names = ["intercept", "x0", "x1", "x2"]
    assert separation.detect_separation(Z, y, np.arange(5), names, True, likely=-scores) is None
    assert len(sizes) >= 2 and sizes[0] == 300 * separation._FIRST_PER_ROW
    assert sizes == sorted(set(sizes))  # each round adds constraints
    assert sizes[-1] < 300 * 4  # never needed them all
    assert separation.detect_separation(Z, y, np.arange(5), names, True) is None
    sizes.clear()  # past the rounds' limit, one programme over all constraints
    monkeypatch.setattr(separation, "_GENERATION_ROUNDS", 1)
    assert separation.detect_separation(Z, y, np.arange(5), names, True, likely=-scores) is None
    assert sizes == [300 * separation._FIRST_PER_ROW, 300 * 4]


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
    assert model.n_iter_.dtype == np.int32 and len(model.objective_history_) == model.n_iter_[0] + 1
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        sgd = SoftmaxRegression(solver="sgd", max_iter=0).fit(X, y)
    assert sgd.n_iter_[0] == 0 and not sgd.converged_
    stream = SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0)
    for _ in range(3):
        stream.partial_fit(X, y)
    assert stream.n_iter_.shape == (1,) and stream.n_iter_[0] == 3


def test_sgd_that_stalls_does_not_claim_convergence():
    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with pytest.warns(ConvergenceWarning, match="stall|improv"):
        model = SoftmaxRegression(solver="sgd", alpha=1 / (10 * len(y)), max_iter=200,
                                  random_state=0).fit(X, y)
    assert not model.converged_


def test_sgd_stall_is_not_convergence_but_early_stopping_is():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    settings = dict(solver="sgd", optimizer="sgd", schedule="constant", batch_size=8,
                    alpha=1e-2, random_state=0)
    with pytest.warns(ConvergenceWarning, match="stalled") as record:
        model = SoftmaxRegression(**settings).fit(X, y)
    assert not model.converged_ and model.n_iter_[0] < 1000  # stopped by the stall
    assert "learning_rate" in str(record[0].message) and "lbfgs" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        early = SoftmaxRegression(early_stopping=True, **settings).fit(X, y)
    assert early.converged_


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
