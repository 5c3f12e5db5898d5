"""Dask collections: fit on data spread over workers, predict lazily.

The data stay where they are: row blocks of a Dask array (or the partitions
of a Dask DataFrame) are converted once on the workers (labels to class codes,
weights scaled to sum to one) and kept there with ``persist``. A full-batch
solver (L-BFGS, Newton-CG, gradient descent) then runs on the client against
a :class:`DaskObjective`: each evaluation sends the small parameter vector to
the workers, every block computes its partial sum of the loss and gradient
(or a Hessian-vector product) with :class:`softmax.loss.linear.LinearModelLoss`,
and the client adds the partial sums in a fixed order (so results do not
depend on which worker finished first) and adds the penalty. The optimum is
the in-memory fit's: the objective is the same sum, grouped differently.

``solver="sgd"`` streams the blocks instead: each epoch visits them in a
random order, computing one at a time (see :func:`softmax.backends.stream.fit_chunks`).

It runs on whatever scheduler is active: the local threaded one by default,
or a ``distributed`` cluster once a ``Client`` exists. For a real
multi-machine cluster, start a scheduler (``dask scheduler``) and workers on
each machine (``dask worker tcp://SCHEDULER:8786 --nworkers 1 --nthreads 8``),
read the data on the workers (``dd.read_parquet("s3://...")``, not on the
client) and create ``distributed.Client("tcp://SCHEDULER:8786")`` before
``fit``; softmax must be installed on every worker.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.multiclass import check_classification_targets

from ..loss.linear import LinearModelLoss

__all__ = ["DaskObjective", "fit", "is_dask_collection", "predict"]

#: Solvers that need only values, gradients and Hessian-vector products.
FULL_BATCH_SOLVERS = ("lbfgs", "newton-cg", "gd")


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a Dask array, DataFrame or Series (without importing Dask)."""
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj)


# -- work done on the workers, one block at a time -------------------------------------------


def _block_labels(y: NDArray) -> NDArray:
    return np.unique(np.asarray(y))


def _block_label_counts(y: NDArray) -> tuple[NDArray, NDArray]:
    return np.unique(np.asarray(y), return_counts=True)


def _block_part(X, y, sw, classes: NDArray, class_weight: NDArray | None, dtype):
    """(X, codes, weights) of one block; weights are not yet scaled."""
    X = np.asarray(X, dtype=dtype)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if len(y) != len(X) or (sw is not None and len(sw) != len(X)):
        raise ValueError("y and sample_weight must have one value per row of X, block by block")
    codes = np.searchsorted(classes, y)
    s = np.ones(len(codes), dtype=dtype) if sw is None else np.asarray(sw, dtype=dtype)
    if class_weight is not None:
        s = s * class_weight[codes].astype(dtype)
    return X, codes, s


def _block_class_weight(part, n_classes: int) -> tuple[NDArray, int]:
    return np.bincount(part[1], weights=part[2], minlength=n_classes), len(part[1])


def _worker_threads() -> int | None:
    """Threads of the Dask worker running this task (its ``--nthreads``); None outside one."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None


def _block_loss(k: int, d: int, fit_intercept: bool) -> LinearModelLoss:
    # Built on the worker, with that worker's thread budget: left to itself, each
    # worker process would spread over every core and oversubscribe the machine.
    return LinearModelLoss(k, d, fit_intercept, n_threads=_worker_threads())


def _block_value_grad(part, w: NDArray, scale: float, shape) -> tuple[float, NDArray]:
    X, codes, s = part
    return _block_loss(*shape).loss_gradient(w, X, codes, s * scale)


def _block_value_grad_hessp(part, w: NDArray, scale: float, shape):
    X, codes, s = part
    return _block_loss(*shape).loss_gradient_hessp(w, X, codes, s * scale)


def _first_two(triple):
    return triple[0], triple[1]


def _apply_hessp(triple, v: NDArray) -> NDArray:
    return triple[2](v)


def _block_hessian_diagonal(part, w: NDArray, scale: float, shape) -> NDArray:
    X, _, s = part
    return _block_loss(*shape).hessian_diagonal(w, X, s * scale)


# -- the distributed objective ------------------------------------------------------------


class DaskObjective:
    """``f(w) = sum_i s_i CE_i(w) / S + penalty(coef(w)) / S`` over persisted blocks.

    The interface of :class:`softmax.loss.objective.Objective` that the
    full-batch solvers use (``n_params``, ``value``, ``value_grad``,
    ``value_grad_hessp``, ``hessian_diagonal``, ``penalty_hessian_diagonal``,
    ``optimality``, ``X.dtype``); values and gradients are on the same
    mean-loss scale, so ``tol`` means the same as in memory.

    Parameters
    ----------
    linear_loss : LinearModelLoss
        The layout (the work is done by copies on the workers).
    penalty : L2
        Strength on the summed scale.
    parts : list of dask.delayed.Delayed
        Persisted ``(X, codes, weights)`` blocks; ``X`` of shape (rows, n_features).
    total_weight : float
        ``S``, the sum of all weights.
    X : object with ``dtype`` and ``shape``
        The data's dtype and shape (what solvers may read from ``objective.X``).
    """

    nonsmooth = None

    def __init__(self, linear_loss, penalty, parts: list, total_weight: float, X) -> None:
        import dask

        self.linear_loss = linear_loss
        self.penalty = penalty
        self.parts = parts
        self.X = X
        self.scale = 1.0 / total_weight
        self._shape = (linear_loss.n_classes, linear_loss.n_features, linear_loss.fit_intercept)
        self._dask = dask

    @property
    def n_params(self) -> int:
        return self.linear_loss.n_params

    def _map(self, function, *args) -> list:
        """``function(part, *args)`` on every block, computed; results in block order."""
        delayed = self._dask.delayed
        # One key per argument, shipped once per worker rather than once per block.
        shared = [delayed(a, pure=True) if isinstance(a, np.ndarray) else a for a in args]
        tasks = [delayed(function, pure=True)(part, *shared) for part in self.parts]
        return list(self._dask.compute(*tasks))

    def _penalised(self, w: NDArray, value: float, grad: NDArray) -> float:
        coef = self.linear_loss.coef_view(w)
        self.linear_loss.coef_view(grad)[...] += self.scale * self.penalty.gradient(coef)
        return value + self.scale * self.penalty.value(coef)

    @staticmethod
    def _sum(results) -> tuple[float, NDArray]:
        value = math.fsum(r[0] for r in results)
        grad = np.array(results[0][1], dtype=np.float64)
        for r in results[1:]:  # fixed order: the result does not depend on timing
            grad += r[1]
        return value, grad

    def value_grad(self, w: NDArray) -> tuple[float, NDArray]:
        """Objective and flat gradient (float64) at ``w``."""
        value, grad = self._sum(self._map(_block_value_grad, w, self.scale, self._shape))
        return self._penalised(w, value, grad), grad

    def value(self, w: NDArray) -> float:
        return self.value_grad(w)[0]

    def value_grad_hessp(self, w: NDArray):
        """Objective, gradient and a Hessian-vector product function at ``w``.

        The blocks' probabilities at ``w`` stay on the workers (persisted), so
        each product is one pass over the blocks.
        """
        dask = self._dask
        delayed = dask.delayed
        w_key = delayed(w, pure=True)
        states = dask.persist(
            *[delayed(_block_value_grad_hessp, pure=True)(p, w_key, self.scale, self._shape)
              for p in self.parts]
        )  # fmt: skip
        value, grad = self._sum(dask.compute(*[delayed(_first_two)(s) for s in states]))
        value = self._penalised(w, value, grad)

        def hessp(v: NDArray) -> NDArray:
            v_key = delayed(v, pure=True)
            products = dask.compute(*[delayed(_apply_hessp)(s, v_key) for s in states])
            hv = np.array(products[0], dtype=np.float64)
            for p in products[1:]:
                hv += p
            self.linear_loss.coef_view(hv)[...] += self.scale * self.penalty.hessp(
                self.linear_loss.coef_view(v)
            )
            return hv

        return value, grad, hessp

    def penalty_hessian_diagonal(self, w: NDArray) -> NDArray:
        diag = np.zeros(self.n_params)
        self.linear_loss.coef_view(diag)[...] = self.scale * self.penalty.hessian_diagonal(
            self.linear_loss.coef_view(w)
        )
        return diag

    def hessian_diagonal(self, w: NDArray) -> NDArray:
        parts = self._map(_block_hessian_diagonal, w, self.scale, self._shape)
        return np.sum(parts, axis=0) + self.penalty_hessian_diagonal(w)

    def nonsmooth_value(self, w: NDArray) -> float:
        return 0.0

    def optimality(self, w: NDArray, grad: NDArray) -> float:
        return float(np.max(np.abs(grad)))


# -- inputs ---------------------------------------------------------------------------------


class _Data:
    """What the solvers read from ``objective.X``: the dtype and the shape."""

    def __init__(self, dtype, shape: tuple[int, int]) -> None:
        self.dtype, self.shape = np.dtype(dtype), shape


def _row_blocks(X):
    """Delayed 2-D blocks of whole rows, their lengths (None if unknown), names, dtype, width."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(X, dd.DataFrame):
        # Partitions as they are: to_dask_array(lengths=True) would cost a pass and can
        # disagree with the partitions after Dask's query optimisation.
        dtypes = set(X.dtypes.tolist())
        dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
        return X.to_delayed(), None, [str(c) for c in X.columns], dtype, len(X.columns)
    if not isinstance(X, da.Array):
        X = da.asarray(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a Dask array of shape {X.shape}")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    X = X.rechunk({1: -1})
    lengths = None if any(math.isnan(c) for c in X.chunks[0]) else X.chunks[0]
    return X.to_delayed().ravel().tolist(), lengths, None, dtype, X.shape[1]


def _vector_blocks(v, X_blocks: list, lengths, what: str) -> list:
    """Delayed blocks of a per-row vector, aligned with the blocks of X."""
    import dask
    import dask.array as da
    import dask.dataframe as dd
    from dask import delayed

    if v is None:
        return [None] * len(X_blocks)
    if isinstance(v, (dd.Series, dd.DataFrame)):
        blocks = v.to_delayed()
        if len(blocks) != len(X_blocks):
            # Dask may partition two projections of one Parquet file differently.
            blocks = _realign(blocks, X_blocks, lengths)
    elif isinstance(v, da.Array):
        if lengths is not None and v.shape[0] != sum(lengths):
            raise ValueError(
                f"{what} must have one value per row of X: {v.shape[0]} != {sum(lengths)}"
            )
        if lengths is not None and v.chunks[0] != tuple(lengths):
            v = v.rechunk({0: tuple(lengths)})
        blocks = v.to_delayed().ravel().tolist()
    else:
        v = np.asarray(v)
        if lengths is None:
            lengths = dask.compute(*[delayed(len)(b) for b in X_blocks])
        if v.shape[0] != sum(lengths):
            raise ValueError(f"{what} must have one value per row of X: {len(v)} != {sum(lengths)}")
        blocks = np.split(v, np.cumsum(lengths)[:-1])
    if len(blocks) != len(X_blocks):
        raise ValueError(
            f"{what} must have one value per row of X, in blocks like X's "
            f"({len(blocks)} blocks for {len(X_blocks)})"
        )
    return blocks


def _slice_concat(pieces: list, cuts: list) -> NDArray:
    """Rows ``cuts[i]`` (a slice) of each piece, concatenated: one re-cut block."""
    return np.concatenate([np.asarray(p)[c] for p, c in zip(pieces, cuts)])


def _realign(blocks: list, X_blocks: list, lengths) -> list:
    """Re-cut delayed vector ``blocks`` to the row lengths of ``X_blocks``."""
    import dask
    from dask import delayed

    sizes = dask.compute(*[delayed(len)(b) for b in blocks])
    if lengths is None:
        lengths = dask.compute(*[delayed(len)(b) for b in X_blocks])
    if sum(sizes) != sum(lengths):
        raise ValueError(f"y must have one value per row of X: {sum(sizes)} != {sum(lengths)}")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    out, row = [], 0
    for n in lengths:
        pieces, cuts = [], []
        for i in np.flatnonzero((starts[:-1] < row + n) & (starts[1:] > row)):
            pieces.append(blocks[i])
            cuts.append(slice(max(row - starts[i], 0), min(row + n, starts[i + 1]) - starts[i]))
        out.append(delayed(_slice_concat)(pieces, cuts))
        row += n
    return out


def _prepare(model, X, y, sample_weight):
    """Persisted blocks, classes, per-class weights, feature names and the data's shape."""
    import dask
    from dask import delayed

    X_blocks, lengths, names, dtype, n_features = _row_blocks(X)
    y_blocks = _vector_blocks(y, X_blocks, lengths, "y")
    sw_blocks = _vector_blocks(sample_weight, X_blocks, lengths, "sample_weight")
    uniques = dask.compute(*[delayed(_block_labels)(b) for b in y_blocks])
    classes = np.unique(np.concatenate(uniques))
    check_classification_targets(classes)
    class_weight = _class_weight_vector(model, classes, y_blocks)
    parts = [
        delayed(_block_part, pure=True)(xb, yb, wb, classes, class_weight, dtype)
        for xb, yb, wb in zip(X_blocks, y_blocks, sw_blocks)
    ]
    parts = list(dask.persist(*parts))
    counts = dask.compute(*[delayed(_block_class_weight)(p, len(classes)) for p in parts])
    per_class = np.sum([c[0] for c in counts], axis=0)
    n_rows = int(sum(c[1] for c in counts))
    return parts, classes, per_class, names, _Data(dtype, (n_rows, n_features))


def _class_weight_vector(model, classes: NDArray, y_blocks) -> NDArray | None:
    import dask
    from dask import delayed

    if model.class_weight is None:
        return None
    if model.class_weight == "balanced":
        counts = dask.compute(*[delayed(_block_label_counts)(b) for b in y_blocks])
        total = dict.fromkeys(classes.tolist(), 0)
        for labels, n in counts:
            for label, c in zip(labels.tolist(), n.tolist()):
                total[label] += c
        n_samples = sum(total.values())
        return np.array([n_samples / (len(classes) * total[c]) for c in classes.tolist()])
    return np.array([model.class_weight.get(c, 1.0) for c in classes.tolist()], dtype=np.float64)


# -- fit and predict --------------------------------------------------------------------------


def fit(model, X, y, sample_weight=None):
    """Fit ``model`` on Dask collections; see :meth:`SoftmaxRegression.fit`."""
    from ..penalties import L2
    from ..solvers import SOLVERS

    # "auto": L-BFGS, whose evaluations are one pass over the blocks each.
    name = "lbfgs" if model.solver == "auto" else model.solver
    if name not in (*FULL_BATCH_SOLVERS, "sgd"):
        raise ValueError(
            f"solver={model.solver!r} cannot fit Dask collections; use one of "
            f"{', '.join(FULL_BATCH_SOLVERS)} (full batch, distributed) or 'sgd' (streams blocks)"
        )
    if model.standardize:
        raise ValueError("standardize=True is not supported for Dask input; scale the features")
    if name != "sgd" and getattr(model, "l1_ratio", None):
        raise ValueError(
            "Dask fits with full-batch solvers take the L2 penalty only; set l1_ratio=0, or "
            "use solver='sgd' (proximal steps) for an elastic net"
        )
    parts, classes, per_class, names, X = _prepare(model, X, y, sample_weight)
    if np.count_nonzero(per_class) < 2:
        raise ValueError(
            "SoftmaxRegression needs samples of at least 2 classes with positive weight, "
            f"but the data has only {classes[per_class > 0].tolist()}"
        )
    total = float(per_class.sum())
    if name == "sgd":
        return _fit_sgd(model, parts, classes, total, names, X)

    model.__dict__.pop("beta_", None)
    model.__dict__.pop("_sgd", None)
    linear_loss = LinearModelLoss(len(classes), X.shape[1], model.fit_intercept)
    strength = model.alpha * total if model.alpha is not None else 1.0 / model.C
    objective = DaskObjective(linear_loss, L2(strength), parts, total, X)
    solver_cls = SOLVERS[name]
    solver = solver_cls(**{name: getattr(model, name) for name in solver_cls.options})
    if getattr(solver, "preconditioner", False):
        solver.preconditioner = False  # its feature moments read X in memory
    w0 = model._initial_point(linear_loss, classes)
    result = solver.solve(
        objective, w0, max_iter=model.max_iter, tol=model.tol, callback=model._iteration_hook()
    )
    coef, intercept = linear_loss.unpack(result.w)
    model.coef_ = (coef - coef.mean(axis=0)).astype(X.dtype)
    model.intercept_ = (intercept - intercept.mean()).astype(X.dtype)
    model.classes_ = classes
    model.n_features_in_ = X.shape[1]
    _set_names(model, names)
    model.n_iter_ = result.n_iter
    model.converged_ = result.converged
    model.objective_history_ = np.asarray(result.objective_history, dtype=np.float64)
    if not np.all(np.isfinite(result.w)):
        raise FloatingPointError("the solver produced non-finite coefficients")
    if not result.converged:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(model._convergence_advice(result), ConvergenceWarning, stacklevel=3)
    return model


def _set_names(model, names) -> None:
    if names is not None:
        model.feature_names_in_ = np.asarray(names, dtype=object)
    else:
        model.__dict__.pop("feature_names_in_", None)


def _fit_sgd(model, parts, classes, total, names, X):
    """Epochs over the blocks in a random order, one block in memory at a time."""
    import dask

    from .stream import fit_chunks

    def chunks(rng):
        for i in rng.permutation(len(parts)):
            Xb, codes, s = dask.compute(parts[i])[0]
            yield Xb, classes[codes], s

    return fit_chunks(
        model, chunks, classes, X.shape[1], total_weight=total, total_rows=X.shape[0],
        feature_names=names, dtype=X.dtype, progress=bool(model.verbose),
    )  # fmt: skip


def _block_method(block, model, method: str, names):
    import pandas as pd

    X = pd.DataFrame(block, columns=names) if names is not None else block
    out = getattr(model, method)(X)
    return out if method == "predict" else np.asarray(out, dtype=np.float64)


def predict(model, method: str, X):
    """``model.<method>(X)`` block by block, as a lazy Dask array.

    Parameters
    ----------
    method : {"predict", "predict_proba", "predict_log_proba", "decision_function"}
    X : dask Array or DataFrame of shape (n_samples, n_features)

    Returns
    -------
    dask.array.Array
        Shape (n_samples,) for ``predict`` (and ``decision_function`` with
        two classes), else (n_samples, n_classes).
    """
    import dask.dataframe as dd
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    names = getattr(model, "feature_names_in_", None)
    if isinstance(X, dd.DataFrame):
        if names is not None:
            missing = [n for n in names if n not in X.columns]
            if missing:
                raise ValueError(f"X lacks the feature column(s) {missing[:10]}")
            X = X[list(names)]
        X = X.to_dask_array()
    else:
        names = None  # an array has no names to check, as in scikit-learn
    X = X.rechunk({1: -1})
    if X.shape[1] != model.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted on {model.n_features_in_}"
        )
    k = len(model.classes_)
    one_column = method == "predict" or (method == "decision_function" and k == 2)
    dtype = model.classes_.dtype if method == "predict" else np.float64
    names = None if names is None else list(names)
    if one_column:
        return X.map_blocks(
            _block_method, model, method, names, dtype=dtype, drop_axis=1, meta=np.empty(0, dtype)
        )
    return X.map_blocks(
        _block_method, model, method, names, dtype=dtype, chunks=(X.chunks[0], (k,)),
        meta=np.empty((0, 0), dtype),
    )  # fmt: skip
