"""The founding article's comparison: hard-max, sum-normalisation and softmax.

>>> c = compare([3, 7, 14])
>>> [format_probability(p) for p in c.softmax]
['1.7e-05', '9.1e-04', '0.999']
>>> [format_probability(p) for p in compare([0.3, 0.7, 1.4]).softmax]
['0.18', '0.27', '0.55']
>>> [format_probability(p) for p in c.normalized]
['0.13', '0.29', '0.58']
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._errors import SoftmaxInputError
from .functions import hardmax, normalize, softmax

__all__ = ["Comparison", "compare", "explanation", "format_probability"]


@dataclass(frozen=True)
class Comparison:
    """Three ways of turning the same scores into a distribution.

    Attributes
    ----------
    scores : ndarray of shape (n,)
    beta : float
        Inverse temperature used for ``softmax``.
    hardmax : ndarray of shape (n,)
    normalized : ndarray of shape (n,) or None
        Sum-normalisation; ``None`` where it is undefined (scores summing to 0).
    softmax : ndarray of shape (n,)

    Examples
    --------
    >>> c = compare([3, 7, 14])
    >>> c.hardmax, c.normalized.round(2)
    (array([0., 0., 1.]), array([0.12, 0.29, 0.58]))
    """

    scores: NDArray[np.float64]
    beta: float
    hardmax: NDArray[np.float64]
    normalized: NDArray[np.float64] | None
    softmax: NDArray[np.float64]


def compare(scores: ArrayLike, beta: float = 1.0) -> Comparison:
    """Apply hard-max, sum-normalisation and softmax to one vector of scores.

    Raises
    ------
    SoftmaxInputError
        For fewer than two scores or non-finite scores.

    Examples
    --------
    >>> c = compare([0.3, 0.7, 1.4])
    >>> [format_probability(p) for p in c.softmax]
    ['0.18', '0.27', '0.55']
    >>> compare([3, 7, 14], beta=0).softmax.round(3)  # beta = 0: uniform
    array([0.333, 0.333, 0.333])
    """
    z = np.asarray(scores, dtype=np.float64).ravel()
    if z.size < 2:
        raise SoftmaxInputError("Give at least two scores, for example: softmax explain 3 7 14.")
    if not np.all(np.isfinite(z)):
        raise SoftmaxInputError("Scores must be finite numbers.")
    try:
        by_sum: NDArray | None = normalize(z)
    except ValueError:
        by_sum = None
    return Comparison(z, float(beta), hardmax(z), by_sum, softmax(z, beta=beta))


def explanation(c: Comparison) -> list[str]:
    """Three sentences on what the comparison shows, computed from its scores.

    Examples
    --------
    >>> explanation(compare([3, 7, 14]))[0]
    'Hard-max gives everything to the largest score (14) and ignores how far behind the others are.'
    """
    z = c.scores
    with np.errstate(over="ignore"):
        total, tenfold = z.sum(), 10 * z
    if c.normalized is None:
        why = "is zero" if total == 0 else "overflows the floating-point range"
        sum_line = (
            f"Sum-normalisation divides each score by their sum, which {why} here, so it is "
            "undefined; softmax is defined for any scores."
        )
    elif not np.all(np.isfinite(tenfold)):
        sum_line = f"Sum-normalisation divides each score by their sum ({total:g}) and ignores scale."
    else:
        same = np.allclose(normalize(tenfold), c.normalized)
        scaled = ", ".join(format_probability(p) for p in softmax(tenfold, beta=c.beta))
        sum_line = (
            f"Sum-normalisation divides each score by their sum ({total:g}) and ignores scale: "
            f"10 times these scores would give {'the same' if same else 'different'} values, "
            f"where softmax would give {scaled}."
        )
        if np.any(c.normalized < 0):
            sum_line += " It also gives negative 'probabilities' to negative scores."
    return [
        f"Hard-max gives everything to the largest score ({z.max():g}) and ignores how far "
        "behind the others are.",
        sum_line,
        "Softmax exponentiates before normalising: every value is positive and they sum to 1, "
        "it depends on the scale of the scores (beta multiplies them; a larger beta moves it "
        "towards hard-max), and it is differentiable, which gradient-based training needs.",
    ]


def format_probability(p: float) -> str:
    """Format a probability the way the founding article prints them.

    Two significant digits, rounded half up (``0.125`` -> ``0.13``, as the
    article's sum-normalisation); below 0.01 in scientific notation
    (``1.7e-05``); just below 1 with three decimals (``0.999``), since two
    digits would round it to 1. Exact 0 and 1 print as ``0`` and ``1``.

    Parameters
    ----------
    p : float
        A probability, or a sum-normalised value (which can be negative or
        above 1).

    Returns
    -------
    str

    Examples
    --------
    >>> format_probability(0.125), format_probability(1.67e-5), format_probability(0.99907)
    ('0.13', '1.7e-05', '0.999')
    """
    p = float(p)
    if p in (0, 1):
        return "0" if p == 0 else "1"  # not "-0" for a negative zero
    if 0.99 < p < 1:
        return f"{p:.3f}"
    # repr gives the shortest decimal that is this float, so 0.125 rounds up, not down.
    exact = Decimal(repr(p))
    rounded = exact.quantize(Decimal(1).scaleb(exact.adjusted() - 1), rounding=ROUND_HALF_UP)
    # Decimal keeps the trailing zero of 0.090; float formatting keeps the e-05 of 1.7e-05.
    return f"{float(rounded):.1e}" if abs(p) < 0.01 else f"{rounded:f}"
