"""The fit path: one problem, one objective, one solver, one report, whatever holds the rows.

:func:`fit` takes arrays in memory (NumPy, SciPy sparse), array-API arrays
on a device (PyTorch, CuPy; :mod:`softmax.model.device`), Dask collections
(:mod:`softmax.backends.dask`) or a stream of chunks
(:class:`softmax.backends.stream.ChunkStream`). Full-batch fits build a
:class:`~softmax.model.problem.Problem` and an
:class:`~softmax.loss.objective.Objective` over the rows and run a solver;
stochastic fits over chunks run :func:`softmax.backends.stream.run_epochs`.
Every path reports through :func:`softmax.model.fitted.set_fitted`.
"""

from __future__ import annotations

import dataclasses
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..backends.array_api import is_device_array
from ..backends.dask import DaskData, is_dask_collection
from ..backends.stream import ChunkStream
from ..loss import array_api
from ..loss.objective import Objective
from ..loss.standardize import feature_mean_scale
from ..loss.threads import single_threaded_blas
from ..solvers import SOLVERS, Solver, SolverResult, choose_solver
from . import device, glmnet
from . import offset as offsets
from .design import fit_design, require_labels
from .fitted import set_fitted
from .problem import Problem, check_classes, class_weights
from .report import announce_solver, convergence_advice, iteration_hook, separation_advice
from .separation import SeparationReport, check_fit
from .stochastic import chunk_rows, fit_stochastic
from .targets import check_soft_targets, is_probability_matrix, smooth_labels, soft_target_classes

__all__ = ["fit"]


def fit(model, X, y, sample_weight=None, offset=None):
    """Fit ``model``; see :meth:`SoftmaxRegression.fit`."""
    if isinstance(X, ChunkStream):
        glmnet.refuse(model, "a stream of chunks")
        offsets.refuse(offset, "a stream of chunks")
        return _fit_stream(model, X)
    if is_dask_collection(X) or is_dask_collection(y):
        require_labels(model, y)
        glmnet.refuse(model, "Dask collections")
        offsets.refuse(offset, "Dask collections")
        return _fit_dask(model, X, y, sample_weight)  # the data stay on the workers
    if is_device_array(X):
        require_labels(model, y)
        glmnet.refuse(model, "arrays on a device")
        offsets.refuse(offset, "arrays on a device")
        return _fit_device(model, X, y, sample_weight)  # the data stay on their device
    if model.formula is not None:  # a formula may drop rows, which the offset's would not follow
        offsets.refuse(offset, "formulas")
    # Tables and formulas become numbers here; the maths below never sees a column.
    encoding, X, y = fit_design(model, X, y)
    return _fit_arrays(model, X, y, sample_weight, encoding, offset)


def _fit_arrays(model, X, y, sample_weight, encoding, offset=None):
    if is_probability_matrix(y):
        X, targets, classes, sample_weight = _validate_soft(model, X, y, sample_weight)
        weight_per_class = targets.T @ sample_weight.astype(np.float64)
        codes = None
    else:
        table = _plain_table(X, y)
        if table is not None:
            X, y, names = table
        X, y = validate_data(
            model, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
            # a table's arrays passed _checked_plain_arrays in _plain_table
            skip_check_array=table is not None or _checked_plain_arrays(X, y),
        )  # fmt: skip
        if table is not None:  # what validate_data sets for a table with string column names
            model.feature_names_in_ = names
        # Integer, boolean and string labels are classes by their type, and whole
        # finite floats by their values; scikit-learn's check (type_of_target) cost
        # 0.5 ms a fit, a tenth of a fit on iris.
        if not _label_array(y):
            check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        sample_weight = (
            np.ones(X.shape[0], dtype=X.dtype)  # what the check returns for None, 0.06 ms sooner
            if sample_weight is None
            else _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        )
        totals = np.bincount(codes, weights=sample_weight, minlength=len(classes))
        per_class = class_weights(model.class_weight, classes, totals)
        if per_class is not None:
            sample_weight = sample_weight * per_class[codes].astype(X.dtype)
        weight_per_class = np.bincount(codes, weights=sample_weight, minlength=len(classes))
        targets = codes
        if model.label_smoothing > 0:
            targets = smooth_labels(codes, len(classes), model.label_smoothing, X.dtype)
    check_classes(classes, weight_per_class)
    if offset is not None:
        offset = offsets.check(offset, X.shape[0], len(classes), X.dtype)

    mean_scale = None
    if model.standardize:
        mean_scale = feature_mean_scale(X, sample_weight, center=model.fit_intercept)
    total = float(sample_weight.sum(dtype=np.float64))
    problem = Problem.build(model, classes, X.shape[1], total, mean_scale)
    name, reason = choose_solver(
        model.solver, X, len(classes), model.l1_ratio, penalised=problem.smooth.strength > 0,
        bounded=problem.bounds is not None,
    )  # fmt: skip
    solver_cls = SOLVERS[name]
    _check_learning_rate(model, solver_cls)
    glmnet.check_solver(model, name, solver_cls, problem)
    if name == "sgd":  # its stochastic state continues in partial_fit, which has no offset
        offsets.refuse(offset, "solver='sgd'")
    if problem.nonsmooth is not None and not solver_cls.supports_nonsmooth:
        raise ValueError(
            f"l1_ratio={model.l1_ratio} (an L1 penalty) needs solver='prox-newton' or "
            f"'auto'; solver={model.solver!r} handles only the smooth L2 penalty"
        )
    objective = Objective(
        problem.linear_loss, problem.smooth, X, targets, sample_weight,
        nonsmooth=problem.nonsmooth, bounds=problem.bounds, offset=offset,
    )  # fmt: skip
    # NumPy and SciPy each bundle an OpenBLAS; both spinning 2 threads made
    # digits 5x and a 50,000 x 100 fit 1.8x slower than single-threaded BLAS.
    announce_solver(model, name, reason)
    with single_threaded_blas():
        result = _solve(model, solver_cls, objective, problem.w0)
        separation = None
        names = encoding.names_out if encoding else getattr(model, "feature_names_in_", None)
        # The separation check reads scores without an offset: not with one.
        plain = codes is not None and model.label_smoothing == 0 and offset is None
        if _unpenalised(problem) and plain:
            separation = _separation(model, problem, result, X, codes, sample_weight, names)
    # validate_data has set n_features_in_ and feature_names_in_, for the encoded features:
    # the model's are the input columns.
    features = {} if encoding is None else dict(
        n_features=len(encoding.feature_names_in), feature_names=encoding.feature_names_in,
        encoding=encoding,
    )  # fmt: skip
    _publish(
        model, problem, result, X.dtype, solver=name, separation=separation,
        offset_used=offset is not None, **features,
    )  # fmt: skip
    return model


def _unpenalised(problem: Problem) -> bool:
    # Bounds keep coefficients finite: separation cannot send them to infinity.
    return problem.smooth.strength == 0 and problem.nonsmooth is None and problem.bounds is None


def _separation(model, problem: Problem, result: SolverResult, X, codes, sample_weight, names):
    """What separates the classes of an unpenalised fit, or None (see :mod:`.separation`).

    Without a penalty the optimum of separated classes is at infinity, where
    the gradient vanishes: the solver then stops "converged" at large
    coefficients, which only this check reveals. (Dask and stream fits are
    not checked: the rows stay on the workers or in the files.)
    """
    if not np.all(np.isfinite(result.w)):
        return None  # _publish refuses the fit anyway
    coef, intercept = problem.coefficients(result.w, np.float64)
    return check_fit(
        X, codes, sample_weight, problem.classes, coef,
        intercept if model.fit_intercept else None, names,
    )  # fmt: skip


def _checked_plain_arrays(X, y) -> bool:
    """Whether ``X`` and ``y`` pass ``check_X_y`` as they are, told by cheaper checks.

    A 2-D float32/float64 ndarray with rows and columns and only finite
    values, with a 1-D ndarray of labels (:func:`_label_array`) of the same
    length, is what ``check_X_y`` would return unchanged; its checks
    cost 0.27 ms, a twelfth of a fit on iris, where these cost 5 us (a sum
    for the finite check, as scikit-learn's own first test).
    Anything else (and any failure, for its message) goes through it.
    """
    return (
        type(X) is np.ndarray and type(y) is np.ndarray
        and X.ndim == 2 and y.ndim == 1 and X.shape[0] == y.shape[0] > 0 and X.shape[1] > 0
        and X.dtype in (np.float64, np.float32) and _label_array(y)
        # NaN and infinities propagate into the sum; an overflowing sum takes the full check.
        and bool(np.isfinite(X.sum()))
    )  # fmt: skip


def _label_array(y: np.ndarray) -> bool:
    """Whether ``y`` holds class labels by its type (integer, boolean, string) or values.

    Floats count when all are finite whole numbers, what scikit-learn's
    ``type_of_target`` calls binary or multiclass (anes96's ``PID`` is 0.0-6.0).
    """
    if y.dtype.kind in "iubUS":
        return True
    return y.dtype.kind == "f" and bool(np.all(np.isfinite(y) & (y == np.round(y))))


def _plain_table(X, y):
    """``(X, y, column names)`` as arrays for a numeric pandas table, or None.

    A DataFrame of float and integer columns with string names, and a Series
    or array of labels, become what ``check_X_y`` would make of them (the
    same ``np.asarray``) when :func:`_checked_plain_arrays` passes them:
    scikit-learn's checks of the table and the Series cost 1.4 ms of a 6.6 ms
    fit on anes96 (944 x 5). Anything else takes the full checks.
    """
    pd = sys.modules.get("pandas")  # a DataFrame means pandas is imported
    if pd is None or type(X) is not pd.DataFrame or type(y) not in (pd.Series, np.ndarray):
        return None
    if not all(isinstance(name, str) for name in X.columns):
        return None
    dtypes = list(X.dtypes)
    if not all(isinstance(t, np.dtype) and t.kind in "fiu" for t in dtypes):
        return None
    dtype = np.float32 if all(t == np.float32 for t in dtypes) else np.float64
    X_array, y_array = np.asarray(X, dtype=dtype), np.asarray(y)
    if not _checked_plain_arrays(X_array, y_array):
        return None
    return X_array, y_array, np.asarray(X.columns, dtype=object)


def _validate_soft(model, X, y, sample_weight):
    """Features, soft-target matrix, class labels and weights for probability targets."""
    if model.class_weight is not None or model.label_smoothing > 0:
        raise ValueError(
            "class_weight and label_smoothing apply to class labels; with probability "
            "targets, put the weights or the smoothing into the target matrix"
        )
    classes = soft_target_classes(y, np.asarray(y).shape[1])
    X, Y = validate_data(
        model, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
        multi_output=True, y_numeric=True,
    )  # fmt: skip
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )
    return X, check_soft_targets(Y, X.dtype), classes, sample_weight


def _fit_dask(model, X, y, sample_weight):
    if model.standardize:
        raise ValueError("standardize=True is not supported for Dask input; scale the features")
    data = DaskData(X, y, sample_weight)
    classes, totals = data.class_totals()
    rows = data.rows(classes, class_weights(model.class_weight, classes, totals))
    check_classes(classes, rows.weight_per_class)
    # "auto": L-BFGS, whose evaluations are one pass over the blocks each; an L1
    # part needs proximal steps, which only the stochastic solver takes here.
    name, reason = model.solver, "chosen by the user"
    if name == "auto":
        name = "sgd" if model.l1_ratio > 0 else "lbfgs"
        reason = "auto: Dask blocks, one pass over them per evaluation"
    announce_solver(model, name, reason)
    if name == "sgd":
        return fit_stochastic(
            model, rows.memory_chunks, classes, data.n_features,
            total_weight=rows.total_weight, total_rows=rows.n_rows,
            feature_names=data.feature_names, dtype=data.dtype, progress=bool(model.verbose),
        )  # fmt: skip
    solver_cls = SOLVERS[name]
    if not _runs_on(solver_cls, rows):
        usable = [n for n, c in SOLVERS.items() if n != "sgd" and _runs_on(c, rows)]
        raise ValueError(
            f"solver={model.solver!r} cannot fit Dask collections; use one of "
            f"{', '.join(usable)} (full batch, distributed) or 'sgd' (streams blocks)"
        )
    _check_learning_rate(model, solver_cls)
    problem = Problem.build(model, classes, data.n_features, rows.total_weight)
    if problem.nonsmooth is not None:
        raise ValueError(
            "Dask fits with full-batch solvers take the L2 penalty only; set l1_ratio=0, or "
            "use solver='sgd' (proximal steps) for an elastic net"
        )
    objective = Objective.over(problem.linear_loss, problem.smooth, rows, rows.scale)
    result = _solve(model, solver_cls, objective, problem.w0)
    _publish(
        model, problem, result, data.dtype, solver=name,
        n_features=data.n_features, feature_names=data.feature_names,
    )  # fmt: skip
    return model


def _fit_device(model, X, y, sample_weight):
    """Fit on array-API arrays where they are (:mod:`softmax.model.device`)."""
    X, data = device.validate(model, X, y, sample_weight)
    rows, weight_per_class, total = data.rows(
        class_weights(model.class_weight, data.classes, data.class_totals)
    )
    check_classes(data.classes, weight_per_class)
    problem = Problem.build(model, data.classes, X.shape[1], total)
    name, reason = choose_solver(
        model.solver, X, len(data.classes), model.l1_ratio,
        penalised=problem.smooth.strength > 0, full_hessian=False,
    )  # fmt: skip
    solver_cls = SOLVERS[name]
    _check_learning_rate(model, solver_cls)
    objective = Objective.over(problem.linear_loss, problem.smooth, rows, 1.0 / total)
    announce_solver(model, name, reason)
    result = _solve(model, solver_cls, objective, problem.w0)
    # Unpenalised fits are not checked for separation: that needs X on the host.
    _publish(
        model, problem, result, rows.dtype, solver=name,
        to_arrays=lambda a: array_api.to_device(data.xp, a, data.device),
    )  # fmt: skip
    return model


def _fit_stream(model, stream: ChunkStream):
    if model.solver not in ("sgd", "auto"):
        raise ValueError(
            f"a stream of chunks is fitted with solver='sgd', not solver={model.solver!r}"
        )
    announce_solver(model, "sgd", "a stream of chunks is read one chunk at a time")
    classes = np.asarray(stream.classes)
    per_class = class_weights(model.class_weight, classes, None)

    def chunks(rng):
        for X, y, sample_weight in stream.make_chunks(rng):
            X = np.asarray(X) if not hasattr(X, "tocsr") else X.tocsr()
            yield chunk_rows(X, np.asarray(y), sample_weight, classes, per_class)

    return fit_stochastic(
        model, chunks, classes, stream.n_features, total_weight=stream.total_weight,
        total_rows=stream.total_rows, feature_names=stream.feature_names, dtype=stream.dtype,
        progress=stream.progress,
    )  # fmt: skip


def _runs_on(solver_cls: type[Solver], rows) -> bool:
    """Whether the rows backend has every method the solver needs."""
    return all(hasattr(rows, need) for need in solver_cls.needs)


def _check_learning_rate(model, solver_cls: type[Solver]) -> None:
    if model.learning_rate is not None and "learning_rate" not in solver_cls.options:
        raise ValueError(
            f"learning_rate is only used by solver='gd' and 'sgd', not solver={model.solver!r}; "
            "leave it as None"
        )


def _solve(model, solver_cls: type[Solver], objective: Objective, w0) -> SolverResult:
    solver = solver_cls(**{name: getattr(model, name) for name in solver_cls.options})
    return solver.solve(
        objective, w0, max_iter=model.max_iter, tol=model.tol, callback=iteration_hook(model)
    )


def _publish(
    model, problem: Problem, result: SolverResult, dtype, solver: str,
    separation: SeparationReport | None = None, **features,
) -> None:  # fmt: skip
    """Set the fitted attributes, then refuse non-finite results and warn on non-convergence.

    Separated classes (``separation``) have no finite optimum: not converged,
    whatever the solver says. ``features`` are further keywords of
    :func:`set_fitted`: feature counts and names, ``to_arrays`` after a fit
    on a device, ``offset_used``.
    """
    if separation is not None:
        result = dataclasses.replace(result, converged=False)
    coef, intercept = problem.coefficients(result.w, dtype)
    set_fitted(
        model, classes=problem.classes, coef=coef, intercept=intercept, n_iter=result.n_iter,
        converged=result.converged, objective_history=result.objective_history, solver=solver,
        **features,
    )  # fmt: skip
    if not np.all(np.isfinite(result.w)):
        raise FloatingPointError(
            "the solver produced non-finite coefficients; check the data for extreme "
            "values and standardise the features"
        )
    if not result.converged:
        # stacklevel 6: the user's call, above _publish, _fit_*, fit here, the estimator's
        # fit and scikit-learn's wrapper of it.
        message = (
            convergence_advice(model, result)
            if separation is None
            else separation_advice(model, separation)
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=6)
