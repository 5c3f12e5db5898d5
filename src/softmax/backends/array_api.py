"""Array-API arrays (PyTorch, CuPy, ...): the rows of a fit kept on their device.

``SoftmaxRegression.fit`` takes arrays of any library that follows the
Python array API when scikit-learn's ``array_api_dispatch`` is on (see
:func:`is_device_array`). ``X``, the class codes and the sample weights
stay where they are, on a GPU for CUDA tensors; :class:`ArrayRows` is the
rows backend over them (the methods of :class:`softmax.loss.rows.MemoryRows`
that L-BFGS, gradient descent and Newton-CG need), evaluating the data term
with :mod:`softmax.loss.array_api` on the device. The solvers are the ones
every fit uses: their state is the flat float64 parameter vector on the
host, so per evaluation only the ``n_classes * (n_features + 1)``
parameters go to the device (in the data's dtype) and the gradient or
Hessian-vector product of the same size comes back; ``X`` never leaves the
device. The solvers that build a full Hessian (Newton-Cholesky, proximal
Newton) or take row subsets (SGD) need methods these rows do not offer, as
for Dask.

:class:`ArrayData` prepares the rows: class labels become codes on the
device (the sorted labels, ``n_classes`` values, come to the host for
``classes_``), and sample and class weights are applied there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..loss import array_api as aa
from ..loss.hessian import HessianProduct

__all__ = ["ArrayData", "ArrayRows", "is_device_array", "move", "same_place"]


def is_device_array(X: Any) -> bool:
    """Whether ``fit`` keeps ``X`` on its device: a non-NumPy array-API array, with
    scikit-learn's ``array_api_dispatch`` on.

    NumPy arrays take the NumPy path (compiled kernels) either way; without
    dispatch, other arrays are converted by ``np.asarray`` as in scikit-learn
    (and ``array_api_compat`` is not imported).
    """
    if isinstance(X, np.ndarray):
        return False
    from sklearn import get_config

    return bool(get_config()["array_api_dispatch"]) and aa.is_non_numpy_array(X)


def same_place(a: Any, xp, where) -> bool:
    """Whether ``a`` is an array of the namespace ``xp`` on the device ``where``."""
    if not aa.is_non_numpy_array(a):
        return False
    try:
        return aa.namespace(a) is xp and aa.device(a) == where
    except TypeError:  # an array of a library array_api_compat has no namespace for
        return False


def move(a: Any, xp, where) -> Any:
    """``a`` (an array of any library, or array-like) as an array of ``xp`` on ``where``.

    Arrays already there are returned as they are; arrays of another library
    go by DLPack when it can place them there, else through the host.
    """
    if same_place(a, xp, where):
        return a
    if aa.is_non_numpy_array(a):
        try:
            moved = xp.from_dlpack(a)
            if aa.device(moved) == where:
                return moved
        except (AttributeError, BufferError, NotImplementedError, RuntimeError, TypeError,
                ValueError):  # fmt: skip
            pass  # no DLPack exchange between these libraries or devices: through the host
    return aa.to_device(xp, np.asarray(aa.to_numpy(a)), where)


class ArrayRows:
    """Rows on a device: ``X``, class codes and weights (see :mod:`softmax.loss.rows`).

    Parameters
    ----------
    X : array of shape (n_rows, n_features), float32 or float64
    y : integer array of shape (n_rows,)
        Class codes, on ``X``'s device.
    sample_weight : array of shape (n_rows,)
        In ``X``'s dtype on its device, already on the objective's scale.
    """

    def __init__(self, X, y, sample_weight) -> None:
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.xp = aa.namespace(X)
        self.device = aa.device(X)
        self.dtype = np.dtype(np.float32 if X.dtype == self.xp.float32 else np.float64)
        self._sum_dtype = aa.accumulation_dtype(self.xp, X)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def _parameters(self, linear_loss, w: NDArray) -> tuple[Any, Any]:
        """``coef`` and ``intercept`` (or None) on the device, from the flat host vector."""
        # One transfer of the (n_classes, n_features + 1) matrix, in the data's dtype.
        W = w.reshape(linear_loss.n_classes, -1).astype(self.dtype)
        W = aa.to_device(self.xp, W, self.device)
        d = linear_loss.n_features
        return W[:, :d], (W[:, d] if linear_loss.fit_intercept else None)

    def _flat(self, part_coef, part_intercept) -> NDArray:
        """The flat float64 host vector ``[coef | intercept]`` from device parts."""
        if part_intercept is not None:
            part_coef = self.xp.concat([part_coef, part_intercept[:, None]], axis=1)
        return aa.to_numpy(part_coef).astype(np.float64).ravel()

    def _evaluate(self, linear_loss, w: NDArray, **options):
        """:func:`softmax.loss.array_api.loss_gradient` over these rows at ``w``."""
        return aa.loss_gradient(
            self.X, *self._parameters(linear_loss, w), self.y, self.sample_weight,
            sum_dtype=self._sum_dtype, **options,
        )  # fmt: skip

    def loss(self, linear_loss, w: NDArray) -> float:
        return float(self._evaluate(linear_loss, w, gradient=False)[0])

    def loss_gradient(self, linear_loss, w: NDArray) -> tuple[float, NDArray]:
        value, grad_coef, grad_intercept, _ = self._evaluate(linear_loss, w)
        return float(value), self._flat(grad_coef, grad_intercept)

    def loss_gradient_hessp(
        self, linear_loss, w: NDArray, low_precision: bool = False
    ) -> tuple[float, NDArray, HessianProduct]:
        """Value, gradient and the Hessian; the probabilities stay on the device.

        No float32 products (``low_precision`` is ignored): they would need a
        second copy of ``X`` in device memory, which is the scarce resource there.
        """
        value, grad_coef, grad_intercept, proba = self._evaluate(linear_loss, w, keep_proba=True)

        def hessp(v: NDArray) -> NDArray:
            v_coef, v_intercept = self._parameters(linear_loss, v)
            return self._flat(
                *aa.hessian_product(self.X, proba, v_coef, v_intercept, self.sample_weight)
            )

        def traces() -> NDArray:
            out = aa.hessian_traces(self.X, proba, self.sample_weight, linear_loss.fit_intercept)
            return aa.to_numpy(out).astype(np.float64)

        hessian = HessianProduct(hessp, traces)
        return float(value), self._flat(grad_coef, grad_intercept), hessian

    def hessian_diagonal(self, linear_loss, w: NDArray) -> NDArray:
        *_, proba = self._evaluate(linear_loss, w, gradient=False, keep_proba=True)
        return self._flat(
            *aa.hessian_diagonal(self.X, proba, self.sample_weight, linear_loss.fit_intercept)
        )

    def second_moments(self) -> NDArray:
        """``sum_i s_i x_ij ** 2`` for each feature ``j``, float64 on the host."""
        return aa.to_numpy(aa.second_moments(self.X, self.sample_weight)).astype(np.float64)


class ArrayData:
    """``X``, labels and sample weights of a fit on a device, as class codes and weights.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated: float32 or float64, of the namespace ``xp``.
    y : array-like of shape (n_samples,)
        Labels: an array of ``X``'s namespace (codes are then found on the
        device), or anything NumPy takes (strings too; the codes then go to
        the device).
    sample_weight : array of shape (n_samples,)
        Validated, in ``X``'s dtype on its device.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
        Sorted labels, on the host.
    codes : integer array of shape (n_samples,)
        On ``X``'s device.
    class_totals : ndarray of shape (n_classes,)
        Summed sample weight of each class (float64, host).
    """

    def __init__(self, X, y, sample_weight) -> None:
        self.X = X
        self.xp = xp = aa.namespace(X)
        self.device = aa.device(X)
        self.sample_weight = sample_weight
        if same_place(y, xp, self.device):
            classes, codes = xp.unique_inverse(xp.reshape(y, (-1,)))
            self.classes = aa.to_numpy(classes)
        else:  # labels NumPy takes (text too): codes found on the host, then moved
            self.classes, codes = np.unique(aa.to_numpy(y), return_inverse=True)
            codes = aa.to_device(xp, codes.reshape(-1), self.device)
        if codes.shape[0] != X.shape[0]:
            raise ValueError(
                f"y has {codes.shape[0]} labels for {X.shape[0]} rows of X; give one per row"
            )
        self.codes = codes
        self.class_totals = self._class_sums(sample_weight)

    def _class_sums(self, weights) -> NDArray:
        """``sum_{i: y_i = a} weights_i`` per class, float64 on the host."""
        return aa.to_numpy(aa.class_sums(self.codes, weights, len(self.classes))).astype(
            np.float64
        )

    def rows(self, class_weight: NDArray | None) -> tuple[ArrayRows, NDArray, float]:
        """The rows with class weights applied, their per-class weights and total weight.

        Parameters
        ----------
        class_weight : ndarray of shape (n_classes,) or None
            Multiplies the weights of each class's rows.

        Returns
        -------
        rows : ArrayRows
            Weights divided by their total (the objective's mean scale).
        weight_per_class : ndarray of shape (n_classes,)
        total : float
        """
        xp, weights = self.xp, self.sample_weight
        per_class = self.class_totals
        if class_weight is not None:
            factors = aa.to_device(xp, np.asarray(class_weight, dtype=np.float64), self.device)
            weights = weights * xp.astype(xp.take(factors, self.codes), weights.dtype)
            per_class = self._class_sums(weights)
        total = float(per_class.sum())
        scale = 1.0 / total if total > 0 else 0.0
        return ArrayRows(self.X, self.codes, weights * scale), per_class, total

