"""Blocked, multi-threaded evaluation of the data term, its gradient and Hessian products.

The straightforward evaluation (``raw = X @ W.T``; softmax on ``raw``;
``X.T @ G``) spends most of its time in NumPy passes over the
``(n_samples, n_classes)`` score matrix, whose reductions over a short last
axis are slow, and reads ``X`` from memory twice. Here the rows are cut into
blocks whose slice of ``X`` stays in cache; for each block the scores are
computed *transposed*, as ``(n_classes, block)``, so every softmax step is a
long vectorised pass over contiguous rows (NumPy's SIMD ``exp``), and the
block's gradient contribution ``G_b @ X_b`` is taken while ``X_b`` is still
in cache. Contiguous chunks of blocks go to a small thread pool; NumPy's BLAS
releases the GIL and is held to one thread meanwhile, so the pool owns the
cores. Each chunk has its own float64 accumulators and they are summed in a
fixed order, so a result depends only on the data and the thread count.

Dense data with few classes get one fused pass per block of rows, with the
same chunks and threads: the C kernels of :mod:`softmax.loss.native` where
they were built (up to ``native.max_classes``, any number of features, from
``_NATIVE_MIN_WORK`` multiply-adds), else, when Numba is installed and the
problem is large, those of :mod:`softmax.loss.compiled` (up to
``_FUSED_MAX_CLASSES`` classes, at least ``_FUSED_MIN_FEATURES`` features).
Otherwise (many classes, sparse ``X``, problems too small for the C
kernels) the work is the two BLAS products per block, which reach
near-peak speed once ``k`` is large, and a compiled kernel does the
softmax, loss and gradient on the scores in place in the first product's
output, in one cache-resident pass with a vectorised ``exp``; Hessian-vector
products likewise cost two products per block and reuse the kept
probabilities.

Arrays follow :class:`softmax.loss.linear.LinearModelLoss`; in addition,
probabilities kept for Hessian products are stored transposed, shape
``(n_classes, n_samples)``. ``X`` may be a dense array, or a SciPy CSR matrix
(row blocks are cheap slices); a CSC matrix is used as one block, since
slicing its rows would copy it.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from . import numpy_elements
from .cross_entropy import is_soft_target
from .threads import blas_controller, single_threaded_blas, worker_pool

__all__ = ["n_threads", "loss_gradient", "hessian_product"]

# Bytes of X per block: a block stays in cache while the scores, softmax and
# gradient product reuse it. For d=100, 0.5-4 MiB timed alike and 256 KiB was
# slower (Python overhead per block); past the cache, X is read twice again.
_BLOCK_BYTES = 1 << 20
# Below this many multiply-adds (n * d * k) one thread does it all: starting
# pool work costs ~0.1 ms, more than it saves on small problems.
_MIN_WORK_PER_THREAD = 2_000_000

# Default cap on threads: each block also holds the GIL for ~20 us of Python
# work, and past some tens of cores memory bandwidth is the limit (an estimate:
# the development machine has 2 cores).
_MAX_DEFAULT_THREADS = 16

# Dense work is cut into this many chunks per thread, handed out as threads
# free up, so a thread slowed by other processes does not hold up the rest.
_CHUNKS_PER_THREAD = 4
# ... unless the chunks' float64 gradient accumulators would exceed this.
_MAX_ACCUMULATOR_BYTES = 64 << 20

# Dense float32/float64 problems with at least this many multiply-adds use the
# Numba kernels of softmax.loss.compiled when Numba is installed. Compiling takes
# seconds once per kernel and dtype (then cached on disk); a NumPy evaluation
# of this size takes ~5-10 ms, so a fit repays it.
_COMPILED_MIN_WORK = 20_000_000
# The fused kernels serve dense problems with at most this many classes and
# at least this many features; the others take the block path (two BLAS
# products per block, compiled element-wise kernels between). Measured, one
# thread, time of the block path / fused, float32 (float64) evaluation:
#   d=20:   k=3 0.54, k=8 0.43 (0.48), k=24 0.40 (0.52): exp-bound, blocks win
#   d=50:   k=3 0.95, k=5 0.78, k=8 0.60
#   d=100:  k=3 1.50, k=5 1.29, k=8 1.20 (0.94), k=12 0.92 (1.27), k=24 0.65 (0.69)
#   d=256:  k=8 0.99 (0.91), k=12 0.88 (0.89), k=16 0.83 (0.81), k=200 0.6
#   d=1000: k=8 1.15 (1.08), k=12 0.96 (0.99), k=16 0.94 (0.93)
# Hessian products alike. The crossover is near k=10 for d >= 100 (noisy:
# 2 shared cores), so k=10 with d=100 stays on the fused kernels.
_FUSED_MAX_CLASSES = 10
# Bytes of the (n_classes, block) scores per block for CSR rows on the compiled
# kernels. On one thread small blocks keep the scores in cache between the
# products and the softmax. On several, each thread alternating gathers from
# W.T and scatters into its own accumulator (two tables of n_features x
# n_classes) ran at a third of the speed-up the products alone get; long
# blocks keep the threads in the same phase. Hessian product on 100,000 x
# 20,000, 2M non-zeros, 20 classes: one thread 45 ms (256 KiB) / 52 ms (4 MiB);
# two threads 41 ms / 31 ms (32 MiB: 30 ms).
_CSR_BLOCK_BYTES = 256 << 10
_CSR_PARALLEL_BLOCK_BYTES = 4 << 20
_FUSED_MIN_FEATURES = 64
# The C kernels serve dense problems with at least this many multiply-adds
# (n * d * k). One evaluation with kept probabilities, one thread, NumPy path /
# C kernels: 944 x 5 x 7 79 / 72 us, 1000 x 20 x 5 84 / 90 us, digits
# (1797 x 64 x 10) 230 / 231 us, 5000 x 50 x 10 766 / 545 us. Fits of iris,
# wine and anes96 ran 13-18% slower on the C kernels (their fixed costs).
_NATIVE_MIN_WORK = 2_000_000
_compiled = None  # the module once imported; False when Numba is missing

def n_threads() -> int:
    """Number of threads one evaluation may use, by default.

    The CPUs this process may run on (its affinity), at most 16, capped by
    the environment variable ``SOFTMAX_NUM_THREADS`` if set, and by the
    caller's current BLAS thread limit (``OPENBLAS_NUM_THREADS``,
    ``OMP_NUM_THREADS`` or an enclosing ``threadpoolctl.threadpool_limits``),
    so a caller who asked for fewer threads gets no more from this module.

    Returns
    -------
    n : int
        At least 1.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    n = min(n, _MAX_DEFAULT_THREADS)
    env = os.environ.get("SOFTMAX_NUM_THREADS", "").strip()
    if env:
        try:
            n = min(n, max(1, int(env)))
        except ValueError:
            raise ValueError(f"SOFTMAX_NUM_THREADS must be an integer, got {env!r}") from None
    libs = blas_controller().lib_controllers
    blas = [lib.get_num_threads() for lib in libs if lib.user_api == "blas"]
    return max(1, min([n] + [t for t in blas if t]))


def _split(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges of nearly equal length covering ``[start, stop)``."""
    # Integer arithmetic: this runs on every evaluation, small ones included.
    edges = [start + (stop - start) * i // parts for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _plan(
    X, n_classes: int, threads: int, compiled: bool = False
) -> tuple[list[list[tuple[int, int]]], int]:
    """Row blocks ``(start, stop)`` grouped into contiguous chunks, and the threads to use.

    Dense ``X``: blocks of about ``_BLOCK_BYTES``, in ``_CHUNKS_PER_THREAD``
    chunks per thread. Sparse ``X``: SciPy's products gain nothing from
    cache-sized blocks (measured: 30 blocks were 25% slower than one, from
    per-block overhead), so CSR gets one block per thread and CSC, whose row
    slices would copy the matrix, one block. With the ``compiled`` CSR
    kernels (no per-block copies) each thread's rows are cut into blocks
    whose scores, ``(n_classes, block)``, take ``_CSR_BLOCK_BYTES`` on one
    thread, ``_CSR_PARALLEL_BLOCK_BYTES`` on several.
    """
    n, d = X.shape
    if n == 0:
        return [[]], 1
    sparse = sp.issparse(X)
    work = n_classes * (X.nnz + n if sparse else n * max(d, 1))
    threads = int(max(1, min(threads, n, work // _MIN_WORK_PER_THREAD)))
    if sparse:
        if X.format != "csr":
            return [[(0, n)]], 1
        if not compiled:
            return [[r] for r in _split(0, n, threads)], threads
        size = _CSR_BLOCK_BYTES if threads == 1 else _CSR_PARALLEL_BLOCK_BYTES
        rows = max(64, size // (X.dtype.itemsize * n_classes))
        plan = [_split(lo, hi, -(-(hi - lo) // rows)) for lo, hi in _split(0, n, threads)]
        return plan, threads
    rows = max(64, _BLOCK_BYTES // (X.dtype.itemsize * max(d, n_classes, 1)))
    if n <= rows:
        return [[(0, n)]], 1
    n_blocks = -(-n // rows)
    threads = min(threads, n_blocks)
    chunks = threads
    if threads > 1:
        affordable = _MAX_ACCUMULATOR_BYTES // (8 * n_classes * (d + 1))
        chunks = max(threads, min(affordable, n_blocks, _CHUNKS_PER_THREAD * threads))
    # Whole blocks per chunk, each chunk cut into equal blocks.
    plan = [_split(lo, hi, max(1, round((hi - lo) / rows))) for lo, hi in _split(0, n, chunks)]
    return plan, threads


def _run(worker, plan: tuple[list, int], work: int) -> list:
    """``worker(chunk)`` for each chunk, in order; on the pool when threads > 1."""
    chunks, threads = plan
    if work < _MIN_WORK_PER_THREAD:  # too small for BLAS to start threads: skip the limit
        return [worker(chunk) for chunk in chunks]
    # Block products are small: BLAS threads would only add overhead (and
    # spin on a busy machine: 4x slower measured), and on top of the pool's
    # threads they would oversubscribe the cores. One BLAS thread each.
    with single_threaded_blas():
        if threads == 1:
            return [worker(chunk) for chunk in chunks]
        return list(worker_pool(threads).map(worker, chunks))


def _compiled_kernels(X, work: int):
    """The compiled kernels module if the problem is large enough to repay it, else None."""
    global _compiled
    if work < _COMPILED_MIN_WORK or _compiled is False or X.dtype not in (np.float32, np.float64):
        return None
    if _compiled is None:
        try:
            from . import compiled_workers as module
        except ImportError:  # Numba missing or broken: the NumPy path serves
            _compiled = False
            return None
        _compiled = module
    return _compiled


def _native_kernels(X, n_classes: int):
    """:mod:`softmax.loss.native` when its fused C kernels serve ``X``, else None.

    Dense C-contiguous float rows with at most ``native.max_classes`` classes
    (32 in float64 and 64 in float32 with AVX-512, half that with AVX2), at
    any number of features: time of the block path / the C kernels, 50,000
    rows, two threads, float64 (float32): d=20 k=8 1.3 (1.0), d=50 k=10 1.8
    (1.2), d=100 k=16 1.5 (1.2), k=32 1.5 (1.5), d=256 k=16 1.7 (1.8), k=32
    1.3 (1.7), k=64 float32 1.4. Below ``_NATIVE_MIN_WORK`` multiply-adds
    the NumPy path is as fast (its BLAS products run in cache).
    """
    from . import native

    if n_classes * X.size < _NATIVE_MIN_WORK or not native.available():
        return None
    if X.dtype not in (np.float32, np.float64):
        return None
    if not isinstance(X, np.ndarray) or not X.flags.c_contiguous:
        return None
    return native if n_classes <= native.max_classes(X.dtype) else None


def _fused(X, n_classes: int) -> bool:
    """Whether the fused one-pass kernels beat BLAS products on ``X`` (dense, few classes)."""
    if not isinstance(X, np.ndarray) or not X.flags.c_contiguous:
        return False
    return n_classes <= _FUSED_MAX_CLASSES and X.shape[1] >= _FUSED_MIN_FEATURES


def _rows(X, start: int, stop: int):
    """Rows ``start:stop`` of X; X itself for all rows (any sparse format then)."""
    return X if start == 0 and stop == X.shape[0] else X[start:stop]


def _scores_T(Xb, W: NDArray, out: NDArray) -> NDArray:
    """Transposed scores ``W @ Xb.T`` (no intercept) into ``out`` of shape (k, L)."""
    if sp.issparse(Xb):
        np.copyto(out, np.asarray(Xb @ W.T).T)
        return out
    return np.matmul(W, Xb.T, out=out)


def _times_X(G: NDArray, Xb, out: NDArray) -> NDArray:
    """``G @ Xb`` of shape (k, d), for G of shape (k, L)."""
    if sp.issparse(Xb):
        np.copyto(out, np.asarray(Xb.T @ G.T).T)
        return out
    return np.matmul(G, Xb, out=out)


def _buffer(shape: tuple[int, int], dtype, cache: dict) -> NDArray:
    """A C-contiguous work array of ``shape``, carved from one per-thread allocation."""
    size = shape[0] * shape[1]
    buf = cache.get(dtype)
    if buf is None or buf.size < size:
        buf = cache[dtype] = np.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def _gradient(grads: list, gsums: list | None, k: int, d: int) -> NDArray:
    """The ``[coef | intercept]`` matrix from per-chunk accumulators, summed in a fixed order."""
    out = np.zeros((k, d + (gsums is not None)))
    for i, grad in enumerate(grads):
        out[:, :d] += grad
        if gsums is not None:
            out[:, d] += gsums[i]
    return out


def _assemble(results: list, gradient: bool, intercept: bool, k: int, d: int):
    """Total loss and gradient (or None) from per-chunk ``(loss, grad, gsum)``."""
    loss = float(sum(res[0] for res in results))
    if not gradient:
        return loss, None
    gsums = [res[2] for res in results] if intercept else None
    return loss, _gradient([res[1] for res in results], gsums, k, d)


def loss_gradient(
    X,
    coef: NDArray,
    intercept: NDArray | None,
    y: NDArray,
    sample_weight: NDArray | None,
    *,
    gradient: bool = True,
    keep_proba: bool = False,
    threads: int = 1,
    offset: NDArray | None = None,
) -> tuple[float, NDArray | None, NDArray | None]:
    """Data term ``sum_i s_i CE(y_i, W x_i + b + o_i)``, its gradient, and the probabilities.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        float32 or float64; the work is done in this dtype.
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,) or None
        None when the model has no intercept (no intercept gradient then).
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Class codes or a target matrix, see :mod:`softmax.loss.cross_entropy`.
    sample_weight : ndarray of shape (n_samples,) or None
    gradient : bool, default=True
        Whether to compute the gradient.
    keep_proba : bool, default=False
        Whether to return ``softmax`` of the scores, for :func:`hessian_product`.
    threads : int, default=1
        Upper bound on the threads used.
    offset : ndarray of shape (n_samples, n_classes) or None
        A known part ``o_i`` of the scores (glmnet's ``offset``), in X's
        dtype. The fused kernels have no place for it, so it takes the block
        path, which adds it to each block's scores before the element
        function; CSR rows then use SciPy's products (a few per block;
        the compiled CSR products are not given the offset).

    Returns
    -------
    loss : float
        Accumulated in float64.
    grad : ndarray of shape (n_classes, n_features + (intercept is not None)) or None
        float64, in the ``[coef | intercept]`` layout.
    proba : ndarray of shape (n_classes, n_samples) or None
        In X's dtype, unweighted.
    """
    n, d = X.shape
    k = coef.shape[0]
    dtype = X.dtype
    W = np.ascontiguousarray(coef, dtype=dtype)
    b = None if intercept is None else np.asarray(intercept, dtype=dtype)
    soft = is_soft_target(y)
    y = np.asarray(y, dtype=dtype) if soft else np.asarray(y, dtype=np.intp)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
    proba = np.empty((k, n), dtype=dtype) if keep_proba else None
    native = None if offset is not None else _native_kernels(X, k)
    # Numba is imported (~0.4 s) only where the C kernels do not serve.
    fast = None if native is not None else _compiled_kernels(X, n * d * k)
    if native is not None:
        worker = native.loss_gradient_worker(X, W, b, y, sw, gradient, proba)
    elif fast is not None and offset is None and _fused(X, k):
        worker = fast.loss_gradient_worker(X, W, b, y, sw, gradient, proba)
    else:
        if fast is not None:
            element = fast.softmax_block_function(b, y, sw, gradient, proba, n, k, dtype)
        else:
            element = numpy_elements.softmax_element(b, y, sw, gradient, proba)
        if offset is not None:
            element = _with_offset(element, np.asarray(offset, dtype=dtype))
        csr = None if offset is not None else _csr_kernels(X, fast)

        def worker(blocks):
            return _over_blocks(X, W, blocks, element, gradient, csr)

    compiled_plan = native is not None or (
        fast is not None and (offset is None or not sp.issparse(X))
    )
    results = _run(worker, _plan(X, k, threads, compiled_plan), n * d * k)
    return (*_assemble(results, gradient, b is not None, k, d), proba)


def _with_offset(element, offset: NDArray):
    """``element`` applied to the block's scores plus its rows of ``offset``, transposed."""

    def shifted(r, s, e, gsum):
        r += offset[s:e].T
        return element(r, s, e, gsum)

    return shifted


def _over_blocks(X, W: NDArray, blocks, element, gradient: bool, csr=None):
    """``(value, grad, gsum)`` of one chunk: per block two products and ``element`` between.

    ``element(r, start, stop, gsum)`` turns the block's transposed scores
    ``r = W @ X_b.T`` in place into the weights of the second product
    ``r @ X_b``, adds their row sums to ``gsum``, and returns a loss (0.0 for
    Hessian products). ``csr``: the module :mod:`softmax.loss.sparse_kernels`
    when X is CSR and compiled kernels serve, which then do both products.
    """
    if csr is not None:
        return csr.over_blocks(X, W, blocks, element, gradient)
    k, d = W.shape
    cache: dict = {}
    value = 0.0
    grad = np.zeros((k, d)) if gradient else None
    gsum = np.zeros(k)
    gb = np.empty((k, d), dtype=X.dtype) if gradient else None
    for s, e in blocks:
        Xb = _rows(X, s, e)
        r = _scores_T(Xb, W, _buffer((k, e - s), X.dtype, cache))
        value += element(r, s, e, gsum)
        if gradient:
            grad += _times_X(r, Xb, gb)
    return value, grad, gsum


def _csr_kernels(X, fast):
    """:mod:`softmax.loss.sparse_kernels` for CSR ``X`` when compiled kernels serve, else None."""
    if fast is None or not sp.issparse(X) or X.format != "csr":
        return None
    if X.data.dtype != X.dtype or X.indices.dtype != X.indptr.dtype:
        return None  # not as SciPy builds them: the SciPy products serve
    from . import sparse_kernels

    return sparse_kernels


def hessian_product(
    X,
    proba: NDArray,
    v_coef: NDArray,
    v_intercept: NDArray | None,
    sample_weight: NDArray | None,
    *,
    threads: int = 1,
) -> NDArray:
    """Hessian of the data term applied to a direction ``[v_coef | v_intercept]``.

    Per block: ``V_b = v_coef @ X_b.T + v_intercept``, the per-sample Hessian
    ``diag(p) - p p^T`` applied to each column, weighted, then ``H_b @ X_b``;
    one pass over ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    proba : ndarray of shape (n_classes, n_samples)
        From :func:`loss_gradient` with ``keep_proba=True``.
    v_coef : ndarray of shape (n_classes, n_features)
    v_intercept : ndarray of shape (n_classes,) or None
    sample_weight : ndarray of shape (n_samples,) or None
    threads : int, default=1

    Returns
    -------
    hv : ndarray of shape (n_classes, n_features + (v_intercept is not None))
        float64, in the ``[coef | intercept]`` layout.
    """
    n, d = X.shape
    k = v_coef.shape[0]
    dtype = X.dtype
    V = np.ascontiguousarray(v_coef, dtype=dtype)
    vb = None if v_intercept is None else np.asarray(v_intercept, dtype=dtype)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
    native = _native_kernels(X, k)
    fast = None if native is not None else _compiled_kernels(X, n * d * k)
    if native is not None:
        worker = native.hessian_product_worker(X, proba, V, vb, sw)
    elif fast is not None and _fused(X, k):
        worker = fast.hessian_product_worker(X, proba, V, vb, sw)
    else:
        if fast is not None:
            element = fast.hessian_block_function(proba, vb, sw, n, k, dtype)
        else:
            element = numpy_elements.hessian_element(proba, vb, sw)

        csr = _csr_kernels(X, fast)

        def worker(blocks):
            _, grad, gsum = _over_blocks(X, V, blocks, element, True, csr)
            return grad, gsum

    compiled_plan = native is not None or fast is not None
    results = _run(worker, _plan(X, k, threads, compiled_plan), n * d * k)
    gsums = None if vb is None else [res[1] for res in results]
    return _gradient([res[0] for res in results], gsums, k, d)
