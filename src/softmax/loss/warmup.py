"""Compile the Numba kernels before the first fit: ``python -m softmax.loss.warmup``.

The kernels of :mod:`softmax.loss.compiled` compile on first use, a few
seconds per kernel and dtype, and Numba keeps the machine code on disk
(``cache=True``: in ``__pycache__`` beside the module, or in Numba's user
cache where that folder is not writable). Without this step the first large
dense fit after an installation would wait for the compiler without saying
so. ``make`` runs this module after installing (and again when the kernels
change); ``softmax warmup`` does the same for an installation made with pip.
Later processes load the cached code in well under a second.

It goes through the public functions of :mod:`softmax.loss.kernels`, on
problems just large enough for them to choose the compiled kernels, with
every kind of argument a fit passes them (float32 and float64 rows, class
codes and target matrices, with and without intercept, sample weights,
gradient and kept probabilities, few and many classes, Hessian products,
CSR rows with 32- and 64-bit indices),
so it compiles whichever kernels :mod:`~softmax.loss.kernels` picks, as many
signatures as they have, and nothing more.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
import time

import numpy as np

from . import kernels

__all__ = ["warm_up"]

# Features of the warm-up problems: rows = the compiled kernels' threshold / (d * k).
_FEATURES = 128
# Few classes (the fused one-pass kernels), and more than the fused kernels take.
_FEW_CLASSES = 8


def _class_counts() -> tuple[int, ...]:
    """Class counts that reach each family of compiled kernels."""
    fused_max = getattr(kernels, "_FUSED_MAX_CLASSES", None)
    return (_FEW_CLASSES,) if fused_max is None else (_FEW_CLASSES, fused_max + 1)


def _problem(dtype, k: int, rng: np.random.Generator):
    """Rows, codes and soft targets just large enough for the compiled kernels."""
    min_work = getattr(kernels, "_COMPILED_MIN_WORK", 20_000_000)
    n = math.ceil(min_work / (_FEATURES * k)) | 1  # odd: the kernels' unpaired last row too
    X = rng.standard_normal((n, _FEATURES)).astype(dtype)
    codes = np.arange(n) % k
    soft = np.full((n, k), 1 / k)
    return X, codes, soft


def _warm_csr(dtype, k: int, rng: np.random.Generator) -> None:
    """The CSR kernels (:mod:`softmax.loss.sparse_kernels`), with 32- and 64-bit indices."""
    import scipy.sparse as sp

    min_work = getattr(kernels, "_COMPILED_MIN_WORK", 20_000_000)
    n = 256
    X = sp.random(n, math.ceil(min_work / (n * k)), density=1e-3, format="csr", dtype=dtype,
                  random_state=0)
    wide = X.copy()  # the constructor would take int64 indices down to int32
    wide.indices, wide.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    coef = rng.standard_normal((k, X.shape[1])) * 0.1
    for Xs in (X, wide):
        _, _, proba = kernels.loss_gradient(
            Xs, coef, None, np.arange(n) % k, None, gradient=True, keep_proba=True
        )
        kernels.hessian_product(Xs, proba, coef, None, None)


def warm_up(*, verbose: bool = False) -> float | None:
    """Compile, or load from Numba's cache, every kernel that a fit may use.

    Parameters
    ----------
    verbose : bool, default=False
        Say on stderr what is compiled and how long it took.

    Returns
    -------
    seconds : float or None
        Time taken; None when Numba is not installed (fits then use NumPy,
        and there is nothing to compile).
    """
    if importlib.util.find_spec("numba") is None:
        if verbose:
            print("Numba is not installed: fits use NumPy, nothing to compile.", file=sys.stderr)
        return None
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    for dtype, k in itertools.product((np.float32, np.float64), _class_counts()):
        if verbose:
            print(f"Numba kernels for {np.dtype(dtype).name} rows and {k} classes: compiling "
                  "(or loading what Numba cached on disk)...", file=sys.stderr, flush=True)
        X, codes, soft = _problem(dtype, k, rng)
        coef = rng.standard_normal((k, _FEATURES)) * 0.1
        intercept = np.zeros(k)
        weights = np.ones(len(X))
        for y, b, sw, gradient, keep in itertools.product(
            (codes, soft), (intercept, None), (weights, None), (True, False), (True, False)
        ):
            _, _, proba = kernels.loss_gradient(
                X, coef, b, y, sw, gradient=gradient, keep_proba=keep
            )
            if keep:
                kernels.hessian_product(X, proba, coef, b, sw)
        if k == _FEW_CLASSES:  # the CSR kernels depend on the dtype only
            _warm_csr(X.dtype, k, rng)
    seconds = time.perf_counter() - start
    if verbose:
        print(f"Numba kernels ready in {seconds:.1f} s.", file=sys.stderr)
    return seconds


if __name__ == "__main__":
    warm_up(verbose=True)
