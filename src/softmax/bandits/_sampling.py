"""Vectorised draws over many runs: categorical sampling and random-tie argmax."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def categorical(p: NDArray[np.floating], rng: np.random.Generator) -> NDArray[np.intp]:
    """One draw per row from the distributions in the rows of `p`.

    Inverse CDF with one uniform per row: the smallest index whose cumulative
    probability exceeds ``u * total``. An arm of probability 0 is never drawn.

    Parameters
    ----------
    p : ndarray of shape (n, k)
        Non-negative rows; they need not sum to exactly 1.

    Returns
    -------
    index : ndarray of int, shape (n,)
    """
    cdf = np.cumsum(p, axis=1)
    x = rng.random(p.shape[0]) * cdf[:, -1]
    index = np.count_nonzero(cdf <= x[:, None], axis=1)
    # u * total can round up to total itself; fall back to the last arm with mass.
    overflow = index >= p.shape[1]
    if overflow.any():
        index[overflow] = p.shape[1] - 1 - np.argmax(p[overflow, ::-1] > 0, axis=1)
    return index


def argmax_random(values: NDArray[np.floating], rng: np.random.Generator) -> NDArray[np.intp]:
    """Row-wise argmax with ties broken uniformly at random.

    ``np.argmax`` would always pick the first of tied arms, which biases greedy
    methods while every estimate still equals its initial value.

    Parameters
    ----------
    values : ndarray of shape (n, k)

    Returns
    -------
    index : ndarray of int, shape (n,)
        Rows of NaN give 0, as ``np.argmax`` does.
    """
    index = np.argmax(values, axis=1)
    top = values == values.max(axis=1, keepdims=True)
    count = np.count_nonzero(top, axis=1)
    tied = np.flatnonzero(count > 1)
    if tied.size:  # usually only the first steps: resolve just those rows
        ties = np.cumsum(top[tied], axis=1)
        # Integer arithmetic: pick the r-th of the tied arms, r uniform in 0..count-1.
        r = (rng.random(tied.size) * count[tied]).astype(np.intp)
        r = np.minimum(r, count[tied] - 1)
        index[tied] = np.argmax(ties > r[:, None], axis=1)
    return index
