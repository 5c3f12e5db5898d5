"""Fits on array-API arrays (issue 15), tested on the CPU with array_api_strict and NumPy.

array_api_strict implements the standard and nothing more, with two fake
devices ("CPU_DEVICE", "device1"), so code that passes here uses no
NumPy-only call and keeps every array on the data's device; PyTorch and CuPy
run the same code (benchmarks/bench_gpu.py times it on a GPU).
"""

from __future__ import annotations

import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import load_iris, load_wine
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._array_api import (
    yield_mixed_namespace_input_permutations,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_mixed_inputs,
    check_array_api_same_namespace,
)

from softmax import SoftmaxRegression
from softmax.backends.array_api import move
from softmax.loss import array_api as aa
from softmax.loss import kernels
from softmax.loss.linear import LinearModelLoss

xps = pytest.importorskip("array_api_strict")
np_compat = pytest.importorskip("array_api_compat.numpy")

ROOT = Path(__file__).resolve().parents[1]

#: (namespace, device, dtype) as scikit-learn's tests combine them, NumPy included.
PLACES = [
    pytest.param(xps, xps.Device("CPU_DEVICE"), "float64", id="strict-cpu-float64"),
    pytest.param(xps, xps.Device("device1"), "float32", id="strict-device1-float32"),
    pytest.param(xps, xps.Device("device1"), "float64", id="strict-device1-float64"),
    pytest.param(np_compat, "cpu", "float64", id="numpy-float64"),
    pytest.param(np_compat, "cpu", "float32", id="numpy-float32"),
]


def _wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


IRIS = load_iris(return_X_y=True)
WINE = _wine()


def _on(xp, device, dtype, *arrays):
    return [xp.asarray(np.asarray(a, dtype=dtype) if a.dtype.kind == "f" else a, device=device)
            for a in arrays]  # fmt: skip


def _fit(model, X, y, **kwargs):
    with config_context(array_api_dispatch=True):
        return model.fit(X, y, **kwargs)


# -- the data term, written once ---------------------------------------------------------------


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    n, d, k = 300, 7, 4
    return dict(
        X=rng.normal(size=(n, d)), coef=rng.normal(size=(k, d)), intercept=rng.normal(size=k),
        codes=rng.integers(0, k, n), soft=rng.dirichlet(np.ones(k), size=n),
        sw=rng.uniform(0.1, 2.0, size=n), v=rng.normal(size=(k, d + 1)),
    )  # fmt: skip


@pytest.mark.parametrize("xp, device", [(xps, xps.Device("device1")), (np_compat, "cpu")])
@pytest.mark.parametrize("target", ["codes", "soft"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_data_term_agrees_with_the_numpy_kernels(problem, xp, device, target, weighted):
    """Value, gradient, Hessian products and diagonal, second moments: as LinearModelLoss."""
    P = problem
    y, sw = P[target], (P["sw"] if weighted else None)
    d = P["X"].shape[1]
    X, coef, intercept, y_dev, v = _on(xp, device, "float64", P["X"], P["coef"],
                                       P["intercept"], y, P["v"])  # fmt: skip
    sw_dev = None if sw is None else xp.asarray(sw, device=device)
    loss, g_coef, g_intercept, proba = aa.loss_gradient(
        X, coef, intercept, y_dev, sw_dev, keep_proba=True
    )
    value, grad, ref_proba = kernels.loss_gradient(
        P["X"], P["coef"], P["intercept"], y, sw, keep_proba=True
    )
    assert float(loss) == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(aa.to_numpy(g_coef), grad[:, :d], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(aa.to_numpy(g_intercept), grad[:, d], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(aa.to_numpy(proba), ref_proba.T, rtol=1e-13)

    hv_coef, hv_intercept = aa.hessian_product(X, proba, v[:, :d], v[:, d], sw_dev)
    hv = kernels.hessian_product(P["X"], ref_proba, P["v"][:, :d], P["v"][:, d], sw)
    np.testing.assert_allclose(aa.to_numpy(hv_coef), hv[:, :d], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(aa.to_numpy(hv_intercept), hv[:, d], rtol=1e-12, atol=1e-12)

    linear = LinearModelLoss(4, d, True)
    w = linear.pack(P["coef"], P["intercept"])
    diag_coef, diag_intercept = aa.hessian_diagonal(X, proba, sw_dev)
    diag = linear.hessian_diagonal(w, P["X"], sw).reshape(4, -1)
    np.testing.assert_allclose(aa.to_numpy(diag_coef), diag[:, :d], rtol=1e-12)
    np.testing.assert_allclose(aa.to_numpy(diag_intercept), diag[:, d], rtol=1e-12)
    traces = aa.hessian_traces(X, proba, sw_dev)
    np.testing.assert_allclose(aa.to_numpy(traces), diag.sum(axis=1), rtol=1e-12)
    ones = np.ones(len(P["X"])) if sw is None else sw
    moments = aa.second_moments(X, xp.asarray(ones, device=device))
    np.testing.assert_allclose(aa.to_numpy(moments), ones @ P["X"] ** 2, rtol=1e-12)


def test_huge_scores_do_not_overflow():
    z = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]])
    loss, grad, proba = aa.softmax_loss(np_compat, z, np.array([0, 2]), keep_proba=True)
    assert float(loss) == pytest.approx(800.0)
    assert np.all(np.isfinite(grad)) and np.allclose(proba.sum(axis=1), 1)


# -- fits: the same optimum, the namespace, device and dtype kept -------------------------------


@pytest.mark.parametrize("xp, device, dtype", PLACES)
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_same_optimum_as_the_numpy_path(xp, device, dtype, solver):
    X, y = WINE
    X = X.astype(dtype)
    host = SoftmaxRegression(solver=solver, C=0.5, tol=1e-9).fit(X, y)
    model = _fit(SoftmaxRegression(solver=solver, C=0.5, tol=1e-9), *_on(xp, device, dtype, X, y))
    rel = 1e-8 if dtype == "float64" else 1e-6
    assert float(model.objective_history_[-1]) == pytest.approx(
        host.objective_history_[-1], rel=rel
    )
    assert model.converged_ and model.solver_ == solver
    atol = 1e-6 if dtype == "float64" else 1e-3
    np.testing.assert_allclose(aa.to_numpy(model.coef_), host.coef_, atol=atol)


@pytest.mark.parametrize("xp, device, dtype", PLACES)
def test_attributes_and_predictions_stay_in_the_namespace_and_dtype(xp, device, dtype):
    X, y = IRIS
    Xd, yd = _on(xp, device, dtype, X, y)
    model = _fit(SoftmaxRegression(tol=1e-10), Xd, yd)
    for array in (model.coef_, model.intercept_, model.n_iter_):
        assert aa.namespace(array) is aa.namespace(Xd) and aa.device(array) == device
    assert model.coef_.dtype == Xd.dtype and model.intercept_.dtype == Xd.dtype
    assert model.n_iter_.dtype == xp.int32 and tuple(model.n_iter_.shape) == (1,)
    assert isinstance(model.classes_, np.ndarray)
    assert isinstance(model.objective_history_, np.ndarray)
    reference = SoftmaxRegression(tol=1e-10).fit(X.astype(dtype), y)
    with config_context(array_api_dispatch=True):
        outputs = {
            name: getattr(model, name)(Xd)
            for name in ("predict", "predict_proba", "predict_log_proba", "decision_function")
        }
        assert model.score(Xd, yd) == pytest.approx(reference.score(X.astype(dtype), y))
    tolerance = dict(atol=1e-6) if dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
    for name, out in outputs.items():
        expected = getattr(reference, name)(X.astype(dtype))
        assert aa.namespace(out) is aa.namespace(Xd) and aa.device(out) == device
        assert aa.to_numpy(out).dtype == expected.dtype and tuple(out.shape) == expected.shape
        if name == "predict":
            np.testing.assert_array_equal(aa.to_numpy(out), expected)
        else:
            np.testing.assert_allclose(aa.to_numpy(out), expected, **tolerance)


def test_predictions_dispatch_without_the_context():
    """A model fitted on a device predicts on that device's arrays outside the context too."""
    Xd, yd = _on(xps, xps.Device("device1"), "float64", *IRIS)
    model = _fit(SoftmaxRegression(), Xd, yd)
    proba = model.predict_proba(Xd)
    assert aa.namespace(proba) is xps and proba.device == xps.Device("device1")


def test_two_classes_give_one_score_column():
    X, y = IRIS
    Xd, yd = _on(xps, xps.Device("device1"), "float64", X[y > 0], y[y > 0])
    model = _fit(SoftmaxRegression(), Xd, yd)
    host = SoftmaxRegression().fit(X[y > 0], y[y > 0])
    with config_context(array_api_dispatch=True):
        scores = model.decision_function(Xd)
    assert tuple(scores.shape) == (int(Xd.shape[0]),)
    np.testing.assert_allclose(aa.to_numpy(scores), host.decision_function(X[y > 0]), atol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weighting", ["sample_weight", "balanced", "dict"])
def test_sample_and_class_weights(dtype, weighting):
    X, y = WINE
    X = X.astype(dtype)
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.2, 3.0, size=len(y)) if weighting == "sample_weight" else None
    cw = {"balanced": "balanced", "dict": {0: 2.0, 2: 0.5}}.get(weighting)
    params = dict(solver="newton-cg", class_weight=cw, tol=1e-9)
    host = SoftmaxRegression(**params).fit(X, y, sample_weight=sw)
    device = xps.Device("device1")
    Xd, yd = _on(xps, device, dtype, X, y)
    swd = None if sw is None else xps.asarray(sw.astype(dtype), device=device)
    model = _fit(SoftmaxRegression(**params), Xd, yd, sample_weight=swd)
    rel = 1e-8 if dtype == "float64" else 1e-6
    assert float(model.objective_history_[-1]) == pytest.approx(
        host.objective_history_[-1], rel=rel
    )


def test_labels_and_weights_from_the_host_are_moved_to_the_device():
    """Text labels and NumPy weights with device X: codes and weights go to the device."""
    X, y = IRIS
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    sw = np.linspace(0.5, 2.0, len(y))
    (Xd,) = _on(xps, xps.Device("device1"), "float64", X)
    model = _fit(SoftmaxRegression(tol=1e-9), Xd, names, sample_weight=sw)
    host = SoftmaxRegression(solver="newton-cg", tol=1e-9).fit(X, names, sample_weight=sw)
    assert model.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert float(model.objective_history_[-1]) == pytest.approx(
        host.objective_history_[-1], rel=1e-8
    )
    with config_context(array_api_dispatch=True):
        labels = model.predict(Xd)
    assert isinstance(labels, np.ndarray)  # text exists only on the host
    np.testing.assert_array_equal(labels, host.predict(X))


def test_warm_start_continues_on_the_device():
    Xd, yd = _on(xps, xps.Device("device1"), "float64", *IRIS)
    model = _fit(SoftmaxRegression(warm_start=True, tol=1e-8), Xd, yd)
    again = _fit(model, Xd, yd)
    assert int(again.n_iter_[0]) <= 1


def test_the_tag_follows_the_options():
    assert get_tags(SoftmaxRegression()).array_api_support
    assert get_tags(SoftmaxRegression(solver="lbfgs")).array_api_support
    for unsupported in (dict(solver="sgd"), dict(solver="newton-cholesky"), dict(l1_ratio=0.5),
                        dict(standardize=True)):  # fmt: skip
        assert not get_tags(SoftmaxRegression(**unsupported)).array_api_support


# -- what is not supported says so ---------------------------------------------------------------


@pytest.mark.parametrize(
    "params, words",
    [
        (dict(solver="sgd", alpha=1e-3), "solver='sgd'"),
        (dict(solver="newton-cholesky"), "solver='newton-cholesky'"),
        (dict(solver="prox-newton", l1_ratio=1.0), "solver='prox-newton'"),
        (dict(l1_ratio=0.5), "l1_ratio=0.5"),
        (dict(standardize=True), "standardize=True"),
        (dict(label_smoothing=0.1), "label_smoothing=0.1"),
    ],
)
def test_unsupported_options_are_named(params, words):
    Xd, yd = _on(xps, xps.Device("device1"), "float64", *IRIS)
    with pytest.raises(ValueError, match="does not support") as error:
        _fit(SoftmaxRegression(**params), Xd, yd)
    assert words in str(error.value) and "It supports solver 'auto', 'lbfgs'" in str(error.value)


def test_probability_targets_are_refused():
    X, y = IRIS
    Xd, Yd = _on(xps, xps.Device("device1"), "float64", X, np.eye(3)[y])
    with pytest.raises(ValueError, match="takes class labels"):
        _fit(SoftmaxRegression(), Xd, Yd)


def test_host_only_methods_refuse_a_device_model():
    Xd, yd = _on(xps, xps.Device("device1"), "float64", *IRIS)
    model = _fit(SoftmaxRegression(), Xd, yd)
    with pytest.raises(ValueError, match="inference works on NumPy arrays"):
        model.inference(Xd, yd)
    with pytest.raises(ValueError, match="save works on NumPy arrays"):
        model.save("unused.softmax")
    with pytest.raises(ValueError, match="calibrate works on NumPy arrays"):
        model.calibrate(Xd, yd)
    with pytest.raises(ValueError, match="partial_fit works on NumPy arrays"), config_context(
        array_api_dispatch=True
    ):
        SoftmaxRegression(solver="sgd", alpha=1e-3).partial_fit(Xd, yd)


def test_predicting_across_namespaces_is_refused():
    X, y = IRIS
    Xd, yd = _on(xps, xps.Device("device1"), "float64", X, y)
    model = _fit(SoftmaxRegression(), Xd, yd)
    with pytest.raises(ValueError, match=r"SoftmaxRegression.predict\(\) must use the same"):
        model.predict(X)
    other = xps.asarray(X, device=xps.Device("CPU_DEVICE"))
    with pytest.raises(ValueError, match="must use the same namespace and the same device"):
        model.predict_proba(other)
    host = SoftmaxRegression().fit(X, y)
    with config_context(array_api_dispatch=True), pytest.raises(ValueError, match="same device"):
        host.predict(Xd)


def test_move_takes_arrays_of_any_library_to_the_device():
    device = xps.Device("device1")
    for source in ([1.0, 2.0], np.array([1.0, 2.0]), xps.asarray([1.0, 2.0])):
        moved = move(source, xps, device)
        assert moved.device == device and aa.to_numpy(moved).tolist() == [1.0, 2.0]
    already = xps.asarray([1.0], device=device)
    assert move(already, xps, device) is already


# -- scikit-learn's own array-API estimator checks ----------------------------------------------


def _checks():
    for namespace, device, dtype in yield_namespace_device_dtype_combinations():
        name = f"{namespace}-{device}-{dtype}"
        yield pytest.param(
            partial(check_array_api_input, array_namespace=namespace, device_name=device,
                    dtype_name=dtype),  # fmt: skip
            id=f"input-{name}",
        )
        yield pytest.param(
            partial(check_array_api_input, array_namespace=namespace, device_name=device,
                    dtype_name=dtype, check_sample_weight=True),  # fmt: skip
            id=f"input-weights-{name}",
        )
    for other, X_place, name in yield_mixed_namespace_input_permutations():
        yield pytest.param(
            partial(check_array_api_mixed_inputs, X_ns_and_device=X_place,
                    other_ns_and_device=other),  # fmt: skip
            id=f"mixed-{name.replace(' ', '-')}",
        )
    yield pytest.param(
        partial(check_array_api_same_namespace, array_namespace="array_api_strict"),
        id="same-namespace",
    )


@pytest.mark.parametrize("check", list(_checks()))
@pytest.mark.parametrize("solver", ["auto", "lbfgs", "newton-cg"])
def test_sklearn_array_api_checks(check, solver):
    # Libraries that are not installed (torch, cupy, dpnp) are skipped by the check itself.
    check("SoftmaxRegression", SoftmaxRegression(solver=solver))


# -- NumPy users pay nothing; the GPU benchmark keeps working ------------------------------------


def test_numpy_fits_do_not_import_array_api_compat():
    code = (
        "import sys; from sklearn.datasets import load_iris; from softmax import "
        "SoftmaxRegression; SoftmaxRegression().fit(*load_iris(return_X_y=True)); "
        "print('array_api_compat' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gpu_benchmark_smoke_run(tmp_path):
    """``bench_gpu.py --smoke``: tiny sizes on the CPU, every code path of the full run."""
    output = tmp_path / "gpu-smoke.md"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_gpu.py"), "--smoke",
         "--output", str(output)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = output.read_text()
    assert "softmax" in report and "scikit-learn" in report and "smoke" in report
