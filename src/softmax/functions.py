"""The softmax function and its relatives, numerically stable.

All functions take array-likes and return NumPy arrays. Floating input keeps
its dtype (float32 stays float32); integer and boolean input is computed in
float64. ``axis`` selects the axis that holds the scores of one distribution
(the last one by default), so a batch of score vectors is one call.

``beta`` is the inverse temperature: ``softmax(z, beta=b)`` is the normalised
exponential ``exp(b * z_i) / sum_j exp(b * z_j)``. The article writes this as a
choice of base: ``e**(b z)`` is ``(e**b)**z``. ``beta=0`` gives the uniform
distribution, ``beta -> +inf`` tends to :func:`hardmax`, and a negative
``beta`` is the softmin. The same ``beta`` is used for model calibration and
for Boltzmann exploration elsewhere in the library.

Every exponential is taken after a max-shift, so huge or tiny scores
(``softmax([1000, 1001])``, ``-1e308``) neither overflow nor give NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["softmax", "log_softmax", "logsumexp", "hardmax", "normalize", "sigmoid"]


def _special():
    # Deferred: importing scipy.special costs ~0.3 s, a good part of `softmax explain`.
    from scipy import special

    return special


def _as_float(z: ArrayLike) -> NDArray[np.floating]:
    z = np.asarray(z)
    if z.dtype.kind == "f":
        return z
    if z.dtype.kind in "biu":
        return z.astype(np.float64)
    raise TypeError(f"scores must be real numbers, got an array of dtype {z.dtype}")


def _shifted_scaled(z: NDArray, axis: int, beta: float) -> NDArray:
    """Return ``beta * (z - m)`` where ``m`` is the score that ``beta`` favours.

    Shifting before scaling keeps ``beta * z`` from overflowing for large
    ``beta``; infinite scores equal to the shift become 0, not ``inf - inf``.
    """
    m = np.max(z, axis=axis, keepdims=True) if beta > 0 else np.min(z, axis=axis, keepdims=True)
    # Differences beyond the float range become -inf (beta > 0) or +inf (beta < 0),
    # whose exponential is the exact limit 0, so the overflow is harmless.
    if np.isinf(beta):
        # The limit itself (hard-max, or hard-min for -inf): 0 * inf would be NaN.
        return np.where(z == m, 0, -np.inf).astype(z.dtype)
    b = z.dtype.type(beta)
    if b == 0:
        # |beta| is below the dtype's smallest number: every finite gap scales
        # to 0, while an infinite score away from the favoured one stays -inf.
        return np.where(np.isinf(z) & (z != m), -np.inf, 0).astype(z.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.where(z == m, 0, z - m)
        return d * b


def _check_beta(beta: float) -> float:
    beta = float(beta)
    if np.isnan(beta):
        raise ValueError("beta must be a number, got nan")
    return beta


def softmax(z: ArrayLike, axis: int = -1, beta: float = 1.0) -> NDArray[np.floating]:
    """Normalised exponential of scores along an axis.

    Parameters
    ----------
    z : array-like of shape (..., n_classes, ...)
        Scores (logits). Any number of dimensions.
    axis : int, default=-1
        The axis holding the scores of one distribution.
    beta : float, default=1.0
        Inverse temperature. ``0`` gives the uniform distribution, large
        values approach :func:`hardmax` (``np.inf`` is hard-max itself),
        negative values give the softmin.

    Returns
    -------
    p : ndarray of the same shape and floating dtype as ``z``
        Non-negative, sums to 1 along ``axis``.

    Examples
    --------
    >>> softmax([3, 7, 14])
    array([1.66862063e-05, 9.11035992e-04, 9.99072278e-01])
    >>> softmax([0.3, 0.7, 1.4]).round(2)
    array([0.18, 0.27, 0.55])
    >>> softmax([3, 7, 7], beta=np.inf)
    array([0. , 0.5, 0.5])
    """
    z = _as_float(z)
    beta = _check_beta(beta)
    if beta == 0.0:
        return np.full_like(z, 1.0 / z.shape[axis])
    e = np.exp(_shifted_scaled(z, axis, beta))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(z: ArrayLike, axis: int = -1, beta: float = 1.0) -> NDArray[np.floating]:
    """Logarithm of :func:`softmax`, computed without forming the probabilities.

    Accurate where ``log(softmax(z))`` would give ``-inf`` for tiny
    probabilities. Parameters are those of :func:`softmax`.

    Returns
    -------
    log_p : ndarray of the same shape and floating dtype as ``z``

    Examples
    --------
    >>> log_softmax([0.3, 0.7, 1.4]).round(2)
    array([-1.7, -1.3, -0.6])
    >>> log_softmax([0, 1000])  # log(softmax(...)) would give -inf
    array([-1000.,     0.])
    """
    z = _as_float(z)
    beta = _check_beta(beta)
    if beta == 0.0:
        return np.full_like(z, -np.log(z.shape[axis]))
    s = _shifted_scaled(z, axis, beta)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def logsumexp(z: ArrayLike, axis: int = -1, keepdims: bool = False) -> NDArray[np.floating]:
    """``log(sum(exp(z)))`` along an axis, without overflow.

    A thin wrapper over :func:`scipy.special.logsumexp` with this module's
    conventions (``axis=-1`` default, dtype kept).

    Returns
    -------
    out : ndarray
        Shape of ``z`` without ``axis`` (or with length 1 if ``keepdims``).
        ``-inf`` where all scores are ``-inf``; ``+inf`` where any is ``+inf``.

    Examples
    --------
    >>> float(logsumexp([3, 7, 14]).round(4))
    14.0009
    >>> float(logsumexp([1000, 1000]))  # log(2 * e**1000), no overflow
    1000.6931471805599
    """
    # SciPy's own max-shift overflows harmlessly for scores spanning the float
    # range (the far terms become exp(-inf) = 0); keep that from warning.
    with np.errstate(over="ignore"):
        return np.asarray(_special().logsumexp(_as_float(z), axis=axis, keepdims=keepdims))


def hardmax(z: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """All probability on the largest score: the limit of softmax as beta -> inf.

    Ties share the mass equally, which is exactly that limit; a strict
    one-hot vector would have to pick one of the tied scores arbitrarily.

    Returns
    -------
    p : ndarray of the same shape and floating dtype as ``z``

    Examples
    --------
    >>> hardmax([3, 7, 14])
    array([0., 0., 1.])
    >>> hardmax([3, 7, 7])  # a tie shares the mass
    array([0. , 0.5, 0.5])
    """
    z = _as_float(z)
    top = (z == np.max(z, axis=axis, keepdims=True)).astype(z.dtype)
    return top / top.sum(axis=axis, keepdims=True)


def normalize(z: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """Plain sum-normalisation ``z_i / sum_j z_j``, for comparison with softmax.

    This is the article's second method. It ignores scale
    (``normalize([3, 7, 14])`` equals ``normalize([0.3, 0.7, 1.4])``) and gives
    negative "probabilities" for negative scores; both flaws are kept on
    purpose so they can be shown.

    Raises
    ------
    ValueError
        Where a sum along ``axis`` is zero (the ratio is undefined) or not finite.

    Examples
    --------
    >>> normalize([3, 7, 14]).round(2)
    array([0.12, 0.29, 0.58])
    >>> np.allclose(normalize([0.3, 0.7, 1.4]), normalize([3, 7, 14]))  # blind to scale
    True
    """
    z = _as_float(z)
    with np.errstate(over="ignore"):  # an overflowing sum is reported below
        total = z.sum(axis=axis, keepdims=True)
    bad = (total == 0) | ~np.isfinite(total)
    if np.any(bad):
        raise ValueError(
            "sum-normalisation is undefined where the scores sum to zero or to a "
            "non-finite value; softmax is defined for any finite scores"
        )
    return z / total


def sigmoid(x: ArrayLike, beta: float = 1.0) -> NDArray[np.floating]:
    """Logistic sigmoid ``1 / (1 + exp(-beta * x))``, stable for any ``x``.

    It is the two-class softmax: ``sigmoid(x) == softmax([0, x])[1]``,
    because dividing ``e**x / (e**0 + e**x)`` by ``e**x`` gives
    ``1 / (1 + e**-x)``.

    Returns
    -------
    p : ndarray of the same shape and floating dtype as ``x``

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> bool(np.isclose(sigmoid(2.0), softmax([0, 2.0])[1]))  # two-class softmax
    True
    """
    x = _as_float(x)
    return _special().expit(x * _check_beta(beta))
