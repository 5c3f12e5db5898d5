"""The data term written once against the Python array API: NumPy, PyTorch, CuPy, ...

Every function here takes arrays of one namespace ``xp`` (what
:func:`namespace` returns for them) and returns arrays of that namespace on
the same device, so the work runs where the data live: on a GPU for PyTorch
CUDA tensors and CuPy arrays, on the CPU for NumPy. Only operations of the
array API standard are used (no in-place updates, no ``out=``), so any
conforming library serves; ``array_api_compat`` bridges the libraries that
differ from the standard in details (NumPy 1.x, PyTorch, CuPy).

The maths, on scores ``Z = X @ coef.T + intercept`` of shape (n_samples,
n_classes), targets ``T`` (one-hot class codes or probability rows) and
weights ``s``:

- loss ``sum_i s_i (lse(z_i) - t_i . z_i)``, with ``lse`` the log-sum-exp,
  computed on max-shifted scores so that no ``exp`` overflows;
- gradient on the scores ``s_i (p_i - t_i)`` (``p_i = softmax(z_i)``),
  then ``G.T @ X`` and the column sums for the intercepts;
- Hessian-vector product: the directional scores ``V = X @ v_coef.T + v_intercept``,
  ``s_i (p_i * v_i - p_i (p_i . v_i))`` per row, then ``R.T @ X``;
- Hessian diagonal ``sum_i s_i p_ia (1 - p_ia) x_ij^2`` and the second
  moments ``sum_i s_i x_ij^2`` for Newton-CG's preconditioner, in row blocks
  so that ``X ** 2`` is never held whole.

Loss values are summed in float64 where the namespace reports it for the
device, so a float32 fit still compares objective values to float64 precision.

NumPy arrays keep the blocked, in-place kernels of :mod:`softmax.loss.kernels`
(and Numba's), which compute the same maths (the tests compare them). Their
NumPy fallbacks were replaced by this module's functions as a trial and
measured slower on small problems, which allocate a new array per step here
(the array API has no ``out=``): an iris-sized evaluation took 104 us against
73 us (loss and gradient; Hessian products 52 against 37 us), and default
iris fits 3.9 ms against 3.3 ms (CPU time, 200 fits).

The few transfers between the host and a device go through :func:`to_device`
and :func:`to_numpy`. ``array_api_compat`` is imported on the first call, not
with this module: fits on NumPy arrays never need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "accumulation_dtype",
    "class_sums",
    "device",
    "hessian_diagonal",
    "hessian_product",
    "hessian_scores",
    "is_non_numpy_array",
    "log_softmax",
    "loss_gradient",
    "namespace",
    "second_moments",
    "softmax_loss",
    "to_device",
    "to_numpy",
]

#: Elements of ``X`` per row block where a squared copy is needed (Hessian diagonal,
#: second moments): 2**24 float32 values, 64 MiB, whatever the number of features.
_BLOCK_ELEMENTS = 1 << 24


def namespace(*arrays) -> Any:
    """The array API namespace of ``arrays`` (``array_api_compat.array_namespace``).

    Raises
    ------
    TypeError
        When the arrays belong to different libraries, or one is not an array.
    """
    import array_api_compat

    return array_api_compat.array_namespace(*arrays)


def is_non_numpy_array(x) -> bool:
    """Whether ``x`` is an array of an array-API library other than NumPy (PyTorch, CuPy, ...).

    PyTorch tensors have no ``__array_namespace__``: ``array_api_compat`` knows them.
    """
    if isinstance(x, np.ndarray):
        return False
    import array_api_compat

    return array_api_compat.is_array_api_obj(x)


def device(x) -> Any:
    """The device ``x`` lives on (``array_api_compat.device``)."""
    import array_api_compat

    return array_api_compat.device(x)


def _has_float64(xp, where) -> bool:
    info = getattr(xp, "__array_namespace_info__", None)
    if info is None:  # a namespace older than the 2023.12 standard: assume float64
        return True
    return "float64" in info().dtypes(device=where)


def accumulation_dtype(xp, x) -> Any:
    """float64 when the namespace reports it for ``x``'s device, else ``x``'s own dtype."""
    return xp.float64 if _has_float64(xp, device(x)) else x.dtype


def to_device(xp, a: NDArray, where) -> Any:
    """The host array ``a`` as an array of ``xp`` on the device ``where``.

    float64 becomes float32 on a device without float64.
    """
    if a.dtype == np.float64 and not _has_float64(xp, where):
        a = a.astype(np.float32)
    return xp.asarray(a, device=where)


def to_numpy(x) -> NDArray:
    """A NumPy copy (or view) of ``x`` on the host: an array of any library, or array-like."""
    if isinstance(x, np.ndarray):
        return x
    import array_api_compat

    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if hasattr(x, "__dlpack__"):  # CPU libraries: array_api_strict, JAX on the CPU, ...
        try:
            return np.from_dlpack(x)
        except (BufferError, RuntimeError, TypeError, ValueError):
            pass
    return np.asarray(x)


def _targets(xp, y, z):
    """Targets laid out as ``z``: one-hot rows from integer class codes, or ``y`` itself."""
    if y.ndim == 2:
        return y
    classes = xp.arange(z.shape[1], dtype=y.dtype, device=device(z))
    return xp.astype(y[:, None] == classes, z.dtype)


def softmax_loss(
    xp, z, y, sample_weight=None, *, gradient: bool = True, keep_proba: bool = False,
    sum_dtype=None,
) -> tuple[Any, Any, Any]:  # fmt: skip
    """Weighted cross-entropy of softmax on scores ``z``, its gradient on ``z``, and ``p``.

    Parameters
    ----------
    xp : namespace
    z : array of shape (n_samples, n_classes)
        Scores, intercepts included (a temporary: freed here as soon as possible).
    y : array of shape (n_samples,) or (n_samples, n_classes)
        Integer class codes, or probability rows.
    sample_weight : array of shape (n_samples,) or None
    gradient, keep_proba : bool
        Whether to return the gradient on the scores, and the probabilities.
    sum_dtype : dtype, optional
        The dtype the loss is summed in; :func:`accumulation_dtype` by default
        (callers evaluating often pass it: looking it up costs microseconds).

    Returns
    -------
    loss : 0-d array
        ``sum_i s_i CE_i`` in ``sum_dtype``.
    grad : array of shape (n_samples, n_classes), or None
        ``s_i (p_i - t_i)``, in ``z``'s dtype.
    proba : array of shape (n_samples, n_classes), or None
        ``softmax(z_i)``, unweighted.
    """
    targets = _targets(xp, y, z)
    m = xp.max(z, axis=1, keepdims=True)
    shifted = z - m
    del z  # the caller passes a temporary: free it (n_samples * n_classes values)
    # lse(z) - t . z = log(sum exp(z - m)) - t . (z - m) - m (sum t - 1); the last term
    # is zero for exact probability vectors but keeps rounding in sum t from moving it.
    per_sample = -xp.sum(targets * shifted, axis=1, keepdims=True)
    if y.ndim == 2:
        per_sample = per_sample - m * (xp.sum(targets, axis=1, keepdims=True) - 1)
    exp = xp.exp(shifted)
    del shifted
    total = xp.sum(exp, axis=1, keepdims=True)
    per_sample = per_sample + xp.log(total)
    weights = None
    if sample_weight is not None:
        weights = sample_weight[:, None]
        per_sample = per_sample * weights
    if sum_dtype is None:
        sum_dtype = accumulation_dtype(xp, exp)
    loss = xp.sum(per_sample, dtype=sum_dtype)
    proba = exp / total if gradient or keep_proba else None
    del exp
    grad = None
    if gradient:
        grad = proba - targets if weights is None else (proba - targets) * weights
    return loss, grad, (proba if keep_proba else None)


def hessian_scores(xp, proba, v, sample_weight=None):
    """The Hessian of the loss on the scores applied to directional scores ``v``.

    Per sample, ``s_i (diag(p_i) - p_i p_i^T) v_i = s_i (p_i * v_i - p_i (p_i . v_i))``.

    Parameters
    ----------
    proba : array of shape (n_samples, n_classes)
        From :func:`softmax_loss` with ``keep_proba=True``.
    v : array of shape (n_samples, n_classes)
    sample_weight : array of shape (n_samples,) or None

    Returns
    -------
    array of shape (n_samples, n_classes)
    """
    pv = proba * v
    out = pv - proba * xp.sum(pv, axis=1, keepdims=True)
    if sample_weight is not None:
        out = out * sample_weight[:, None]
    return out


def _scores(xp, X, coef, intercept):
    """``X @ coef.T (+ intercept)`` of shape (n_samples, n_classes)."""
    z = X @ xp.matrix_transpose(coef)
    return z if intercept is None else z + intercept


def _chain(xp, X, g, intercept: bool) -> tuple[Any, Any]:
    """``g.T @ X`` (k, d) and, with an intercept, the column sums of ``g`` (k,)."""
    grad_coef = xp.matrix_transpose(g) @ X
    return grad_coef, (xp.sum(g, axis=0) if intercept else None)


def loss_gradient(
    X, coef, intercept, y, sample_weight=None, *, gradient: bool = True,
    keep_proba: bool = False, sum_dtype=None,
) -> tuple[Any, Any, Any, Any]:  # fmt: skip
    """Data term ``sum_i s_i CE(y_i, X_i coef^T + intercept)`` and its gradient.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        float32 or float64; every product is done in this dtype.
    coef : array of shape (n_classes, n_features)
        In ``X``'s dtype, on its device.
    intercept : array of shape (n_classes,) or None
        None without an intercept (no intercept gradient then).
    y : array of shape (n_samples,) or (n_samples, n_classes)
        Integer class codes, or probability rows.
    sample_weight : array of shape (n_samples,) or None
    gradient, keep_proba : bool, default=True, False
    sum_dtype : dtype, optional
        See :func:`softmax_loss`.

    Returns
    -------
    loss : 0-d array
        In ``sum_dtype``.
    grad_coef : array of shape (n_classes, n_features) or None
    grad_intercept : array of shape (n_classes,) or None
    proba : array of shape (n_samples, n_classes) or None
        For :func:`hessian_product` and :func:`hessian_diagonal`.
    """
    xp = namespace(X)
    loss, grad, proba = softmax_loss(
        xp, _scores(xp, X, coef, intercept), y, sample_weight, gradient=gradient,
        keep_proba=keep_proba, sum_dtype=sum_dtype,
    )  # fmt: skip
    if not gradient:
        return loss, None, None, proba
    return (loss, *_chain(xp, X, grad, intercept is not None), proba)


def hessian_product(X, proba, v_coef, v_intercept, sample_weight=None) -> tuple[Any, Any]:
    """The data term's Hessian applied to the direction ``[v_coef | v_intercept]``.

    Two products with ``X``: the directional scores, then the chain rule.

    Returns
    -------
    hv_coef : array of shape (n_classes, n_features)
    hv_intercept : array of shape (n_classes,) or None
    """
    xp = namespace(X)
    r = hessian_scores(xp, proba, _scores(xp, X, v_coef, v_intercept), sample_weight)
    return _chain(xp, X, r, v_intercept is not None)


def _row_blocks(n_rows: int, n_features: int):
    rows = max(1, _BLOCK_ELEMENTS // max(n_features, 1))
    return [(i, min(i + rows, n_rows)) for i in range(0, n_rows, rows)]


def hessian_diagonal(X, proba, sample_weight=None, intercept: bool = True) -> tuple[Any, Any]:
    """Diagonal of the data term's Hessian: ``sum_i s_i p_ia (1 - p_ia) x_ij^2``.

    Returns
    -------
    diag_coef : array of shape (n_classes, n_features)
    diag_intercept : array of shape (n_classes,) or None
        ``sum_i s_i p_ia (1 - p_ia)``; None without an intercept.
    """
    xp = namespace(X)
    h = proba * (1 - proba)
    if sample_weight is not None:
        h = h * sample_weight[:, None]
    blocks = _row_blocks(X.shape[0], X.shape[1])
    diag = sum(xp.matrix_transpose(h[s:e, :]) @ (X[s:e, :] * X[s:e, :]) for s, e in blocks)
    return diag, (xp.sum(h, axis=0) if intercept else None)


def hessian_traces(X, proba, sample_weight=None, intercept: bool = True):
    """Per class, the trace of the data Hessian's diagonal block, shape (n_classes,).

    ``sum_i s_i p_ia (1 - p_ia) ||xt_i||^2`` (``xt_i = [x_i, 1]`` with an
    intercept): the row sums of :func:`hessian_diagonal` from the rows'
    squared norms, without the product with the squared ``X``.
    """
    xp = namespace(X)
    h = proba * (1 - proba)
    if sample_weight is not None:
        h = h * sample_weight[:, None]
    blocks = _row_blocks(X.shape[0], X.shape[1])
    norms = xp.concat([xp.sum(X[s:e, :] * X[s:e, :], axis=1) for s, e in blocks])
    if intercept:
        norms = norms + 1
    return norms @ h


def class_sums(codes, weights, n_classes: int):
    """``sum_{i: codes_i = a} weights_i`` for each class ``a``, shape (n_classes,).

    In :func:`accumulation_dtype`; one-hot row blocks times the weights (the
    array API has no ``bincount``).
    """
    xp = namespace(codes, weights)
    acc = accumulation_dtype(xp, weights)
    classes = xp.arange(n_classes, dtype=codes.dtype, device=device(codes))
    total = xp.zeros(n_classes, dtype=acc, device=device(codes))
    for s, e in _row_blocks(codes.shape[0], n_classes):
        onehot = codes[s:e, None] == classes
        total = total + xp.astype(weights[s:e], acc) @ xp.astype(onehot, acc)
    return total


def log_softmax(xp, z):
    """``log(softmax(z))`` along the last axis, from max-shifted scores."""
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def second_moments(X, sample_weight):
    """``sum_i s_i x_ij^2`` for each feature ``j``, shape (n_features,), in ``X``'s dtype."""
    blocks = _row_blocks(X.shape[0], X.shape[1])
    return sum(sample_weight[s:e] @ (X[s:e, :] * X[s:e, :]) for s, e in blocks)
