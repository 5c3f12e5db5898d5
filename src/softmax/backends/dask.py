"""Dask collections: the rows of a fit spread over workers, and lazy predictions.

``SoftmaxRegression.fit`` accepts Dask arrays and DataFrames. The data stay
where they are: row blocks of a Dask array (or the partitions of a Dask
DataFrame) are converted once on the workers (labels to class codes, class
weights applied) and kept there with ``persist``. The estimator then builds
the same problem and :class:`softmax.loss.objective.Objective` as for data in
memory, over :class:`DaskRows`: each evaluation sends the small parameter
vector to the workers, every block computes its partial sum (loss, gradient,
Hessian-vector product, Hessian diagonal, feature moments)
with :class:`softmax.loss.linear.LinearModelLoss`, and the client adds the
partial sums in a fixed order, so results do not depend on which worker
finished first. The optimum is the in-memory fit's: the objective is the
same sum, grouped differently. The solvers that need only these work
(L-BFGS, gradient descent, and Newton-CG with its preconditioner); those that
build a full Hessian (Newton-Cholesky, proximal Newton) are for data in
memory. ``solver="sgd"`` streams the blocks instead,
one at a time in a random order each epoch (:meth:`DaskRows.memory_chunks`).
The ``predict*`` methods return lazy Dask arrays (:func:`predict`).

It runs on whatever scheduler is active: the local threaded one by default,
or a ``distributed`` cluster once a ``Client`` exists. On a cluster of
several machines, start ``dask scheduler`` on one and
``dask worker tcp://SCHEDULER:8786 --nworkers 1 --nthreads 8`` on each
(softmax installed everywhere), read the data on the workers
(``dd.read_parquet("s3://bucket/*.parquet")``, not on the client) and
create ``distributed.Client("tcp://SCHEDULER:8786")`` before calling ``fit``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.multiclass import check_classification_targets

from ..loss.hessian import HessianProduct
from ..loss.rows import MemoryRows
from ._dask_blocks import row_blocks, vector_blocks

__all__ = ["DaskData", "DaskRows", "is_dask_collection", "predict"]


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a Dask array, DataFrame or Series (without importing Dask)."""
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj)


# -- work done on the workers, one block at a time -------------------------------------------


def _block_class_totals(y: NDArray, sw) -> tuple[NDArray, NDArray]:
    labels, codes = np.unique(np.asarray(y), return_inverse=True)
    weights = None if sw is None else np.asarray(sw, dtype=np.float64).ravel()
    return labels, np.bincount(codes.ravel(), weights=weights, minlength=len(labels))


def _block_part(X, y, sw, classes: NDArray, class_weight: NDArray | None, dtype):
    """(X, codes, weights) of one block, class weights applied."""
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


def _block_rows(part, scale: float) -> MemoryRows:
    X, codes, s = part
    return MemoryRows(X, codes, s * scale)


def _on_block(part, method: str, linear_loss, w: NDArray, scale: float):
    """``MemoryRows.<method>(linear_loss, w)`` on one block."""
    # With the worker's thread budget: left to itself, each worker process would
    # spread over every core and oversubscribe the machine.
    threads = _worker_threads()
    local = linear_loss if threads is None else linear_loss.with_threads(threads)
    return getattr(_block_rows(part, scale), method)(local, w)


def _block_moments(part, scale: float) -> NDArray:
    return _block_rows(part, scale).second_moments()


def _first_two(triple):
    return triple[0], triple[1]


def _apply_hessp(triple, v: NDArray) -> NDArray:
    return triple[2](v)


def _traces(triple) -> NDArray:
    return triple[2].traces()


# -- the rows ---------------------------------------------------------------------------------


def _ordered_sum(arrays) -> NDArray:
    """Sum in block order (float64): the result does not depend on timing."""
    total = np.array(arrays[0], dtype=np.float64)
    for a in arrays[1:]:
        total += a
    return total


class DaskRows:
    """Persisted row blocks, evaluated where they live (see :mod:`softmax.loss.rows`).

    Parameters
    ----------
    parts : list of dask.delayed.Delayed
        Persisted ``(X, codes, weights)`` blocks; ``X`` of shape (rows, n_features).
    dtype : float32 or float64
    n_rows : int
    weight_per_class : ndarray of shape (n_classes,)
        Summed weights (class weights applied) of each class.

    Attributes
    ----------
    total_weight : float
        ``S``, the sum of all weights.
    scale : float
        ``1 / S``: the evaluations use the weights times ``scale``, so they sum to one.
    """

    def __init__(self, parts: list, dtype, n_rows: int, weight_per_class: NDArray) -> None:
        self.parts = parts
        self.dtype = np.dtype(dtype)
        self.n_rows = n_rows
        self.weight_per_class = weight_per_class
        self.total_weight = float(weight_per_class.sum())
        self.scale = 1.0 / self.total_weight if self.total_weight > 0 else math.inf

    def _map(self, function, *args) -> list:
        """``function(part, *args)`` on every block, computed; results in block order."""
        import dask

        delayed = dask.delayed
        # One key per argument, shipped once per worker rather than once per block.
        shared = [delayed(a, pure=True) if isinstance(a, np.ndarray) else a for a in args]
        tasks = [delayed(function, pure=True)(part, *shared) for part in self.parts]
        return list(dask.compute(*tasks))

    def _evaluate(self, method: str, linear_loss, w: NDArray) -> list:
        return self._map(_on_block, method, linear_loss, w, self.scale)

    def loss(self, linear_loss, w: NDArray) -> float:
        return math.fsum(self._evaluate("loss", linear_loss, w))

    def loss_gradient(self, linear_loss, w: NDArray) -> tuple[float, NDArray]:
        results = self._evaluate("loss_gradient", linear_loss, w)
        return math.fsum(r[0] for r in results), _ordered_sum([r[1] for r in results])

    def loss_gradient_hessp(self, linear_loss, w: NDArray, low_precision: bool = False):
        """Value, gradient and Hessian-vector products; the blocks' probabilities stay there.

        Each product is then one pass over the blocks, whose cost is the
        scheduling and the transfers more than the arithmetic: no float32
        products (``low_precision`` is ignored).
        """
        import dask

        delayed = dask.delayed
        w_key = delayed(w, pure=True)
        states = dask.persist(
            *[delayed(_on_block, pure=True)(p, "loss_gradient_hessp", linear_loss, w_key, self.scale)
              for p in self.parts]
        )  # fmt: skip
        results = dask.compute(*[delayed(_first_two)(s) for s in states])

        def hessp(v: NDArray) -> NDArray:
            v_key = delayed(v, pure=True)
            return _ordered_sum(dask.compute(*[delayed(_apply_hessp)(s, v_key) for s in states]))

        def traces() -> NDArray:
            return _ordered_sum(dask.compute(*[delayed(_traces)(s) for s in states]))

        hessian = HessianProduct(hessp, traces)
        return math.fsum(r[0] for r in results), _ordered_sum([r[1] for r in results]), hessian

    def hessian_diagonal(self, linear_loss, w: NDArray) -> NDArray:
        return _ordered_sum(self._evaluate("hessian_diagonal", linear_loss, w))

    def second_moments(self) -> NDArray:
        return _ordered_sum(self._map(_block_moments, self.scale))

    def memory_chunks(self, rng: np.random.Generator) -> Iterator[MemoryRows]:
        """The blocks in a random order, brought into memory one at a time (unscaled weights)."""
        import dask

        for i in rng.permutation(len(self.parts)):
            X, codes, s = dask.compute(self.parts[i])[0]
            yield MemoryRows(X, codes, s)


class DaskData:
    """Dask collections ``X``, ``y`` and ``sample_weight`` cut into aligned row blocks.

    Attributes
    ----------
    feature_names : list of str or None
        A DataFrame's column names.
    dtype : float32 or float64
    n_features : int
    """

    def __init__(self, X, y, sample_weight=None) -> None:
        self._X, lengths, self.feature_names, self.dtype, self.n_features = row_blocks(X)
        self._y = vector_blocks(y, self._X, lengths, "y")
        self._sw = vector_blocks(sample_weight, self._X, lengths, "sample_weight")

    def class_totals(self) -> tuple[NDArray, NDArray]:
        """Sorted class labels and the summed sample weight of each, on the workers.

        Without sample weights, the number of rows of each class.
        """
        import dask
        from dask import delayed

        counts = dask.compute(
            *[delayed(_block_class_totals)(b, w) for b, w in zip(self._y, self._sw)]
        )
        classes = np.unique(np.concatenate([labels for labels, _ in counts]))
        check_classification_targets(classes)
        total = np.zeros(len(classes), dtype=np.float64)
        for labels, n in counts:
            np.add.at(total, np.searchsorted(classes, labels), n)
        return classes, total

    def rows(self, classes: NDArray, class_weight: NDArray | None) -> DaskRows:
        """Persist ``(X, codes, weights)`` blocks on the workers.

        Parameters
        ----------
        classes : ndarray of shape (n_classes,)
            Sorted labels (:meth:`class_totals`).
        class_weight : ndarray of shape (n_classes,) or None
            Multiplies the weights of each class's rows.
        """
        import dask
        from dask import delayed

        parts = [
            delayed(_block_part, pure=True)(xb, yb, wb, classes, class_weight, self.dtype)
            for xb, yb, wb in zip(self._X, self._y, self._sw)
        ]
        parts = list(dask.persist(*parts))
        counts = dask.compute(*[delayed(_block_class_weight)(p, len(classes)) for p in parts])
        per_class = np.sum([c[0] for c in counts], axis=0)
        n_rows = int(sum(c[1] for c in counts))
        return DaskRows(parts, self.dtype, n_rows, per_class)


# -- predictions ------------------------------------------------------------------------------


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
