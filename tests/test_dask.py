"""Dask collections on a 2-worker distributed cluster: the in-memory optimum, lazily predicted."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from softmax import SoftmaxRegression  # noqa: E402
from softmax.backends.dask import is_dask_collection  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    # Dask turns pandas' string columns into object arrays, and says so.
    "ignore:Dask currently has limited support:UserWarning",
)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=600, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, y


def test_detection_does_not_need_dask_for_plain_arrays(data):
    X, _ = data
    assert not is_dask_collection(X)
    assert is_dask_collection(da.from_array(X))


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_fit_on_the_cluster_matches_the_in_memory_fit(client, data, solver):
    X, y = data
    Xd, yd = da.from_array(X, chunks=(150, 6)), da.from_array(y, chunks=150)
    in_memory = SoftmaxRegression(solver=solver, C=0.5, tol=1e-8).fit(X, y)
    distributed_fit = SoftmaxRegression(solver=solver, C=0.5, tol=1e-8).fit(Xd, yd)
    np.testing.assert_allclose(distributed_fit.coef_, in_memory.coef_, atol=1e-6)
    np.testing.assert_allclose(distributed_fit.intercept_, in_memory.intercept_, atol=1e-6)
    # The same sums grouped by block: the same path, up to rounding.
    assert abs(distributed_fit.n_iter_ - in_memory.n_iter_) <= 2
    proba = distributed_fit.predict_proba(Xd)
    assert isinstance(proba, da.Array) and proba.shape == (600, 3)
    np.testing.assert_allclose(proba.compute(), in_memory.predict_proba(X), atol=1e-6)


def test_dataframe_with_string_labels_and_weights(client, data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(6)])
    frame["kind"] = np.array(["ant", "bee", "cat"])[y]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    ddf = dd.from_pandas(frame, npartitions=3)
    features = [f"f{j}" for j in range(6)]
    model = SoftmaxRegression(tol=1e-8).fit(ddf[features], ddf["kind"], sample_weight=weights)
    reference = SoftmaxRegression(tol=1e-8).fit(
        frame[features], frame["kind"], sample_weight=weights
    )
    assert model.classes_.tolist() == ["ant", "bee", "cat"]
    assert model.feature_names_in_.tolist() == features
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    predicted = model.predict(ddf[features])
    assert isinstance(predicted, da.Array)
    assert predicted.compute().tolist() == reference.predict(frame[features]).tolist()


def test_sgd_streams_the_blocks(client, data):
    X, y = data
    Xd, yd = da.from_array(X, chunks=(100, 6)), da.from_array(y, chunks=100)
    model = SoftmaxRegression(solver="sgd", random_state=0, max_iter=30).fit(Xd, yd)
    reference = SoftmaxRegression().fit(X, y)
    assert np.mean(model.predict(X) == reference.predict(X)) > 0.95


def test_unsupported_settings_are_clear_errors(client, data):
    X, y = data
    Xd, yd = da.from_array(X, chunks=(300, 6)), da.from_array(y, chunks=300)
    with pytest.raises(ValueError, match="cannot fit Dask collections"):
        SoftmaxRegression(solver="newton-cholesky").fit(Xd, yd)
    with pytest.raises(ValueError, match="one value per row"):
        SoftmaxRegression().fit(Xd, yd[:-1])


def test_newton_cg_on_the_cluster_uses_its_preconditioner(client, data, monkeypatch):
    # Features on scales 0.1 to 1000: what the preconditioner is for.
    from softmax.loss.objective import Objective

    X, y = data
    X = X * np.array([1.0, 10.0, 100.0, 0.1, 1000.0, 1.0])
    seen = []
    moments = Objective.feature_second_moments

    def spy(objective):
        seen.append(type(objective.rows).__name__)
        return moments(objective)

    monkeypatch.setattr(Objective, "feature_second_moments", spy)
    in_memory = SoftmaxRegression(solver="newton-cg", C=0.5, tol=1e-9).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(150, 6)), da.from_array(y, chunks=150)
    on_cluster = SoftmaxRegression(solver="newton-cg", C=0.5, tol=1e-9).fit(Xd, yd)
    assert seen == ["MemoryRows", "DaskRows"]
    assert in_memory.converged_ and on_cluster.converged_
    best = in_memory.objective_history_[-1]
    assert abs(on_cluster.objective_history_[-1] - best) <= 1e-8 * abs(best)


def test_balanced_class_weights_are_counted_on_the_workers(client, data):
    X, y = data
    keep = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:50]]  # unbalanced
    X, y = X[keep], y[keep]
    Xd, yd = da.from_array(X, chunks=(100, 6)), da.from_array(y, chunks=100)
    in_memory = SoftmaxRegression(class_weight="balanced", tol=1e-8).fit(X, y)
    on_cluster = SoftmaxRegression(class_weight="balanced", tol=1e-8).fit(Xd, yd)
    np.testing.assert_allclose(on_cluster.coef_, in_memory.coef_, atol=1e-6)
