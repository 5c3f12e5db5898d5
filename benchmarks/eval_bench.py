"""One objective-and-gradient evaluation: ours vs straightforward NumPy vs scikit-learn.

Times, on ``make_classification(n_samples=N, n_features=D, n_informative=min(50, D // 2),
n_classes=K, random_state=0)`` (D=100, K=10 unless ``--features`` / ``--classes``)
in float64 and float32:

- ``ours``: ``LinearModelLoss.loss_gradient`` (blocked, threaded; no weights);
- ``ours objective``: ``Objective.value_grad`` with weights and an L2 penalty,
  what the solvers call;
- ``ours hessp``: one Hessian-vector product (after one ``loss_gradient_hessp``);
- ``ours numba``: ``ours`` without the C kernels of :mod:`softmax.loss.native`
  (Numba's where the size calls for compiled kernels), as where they were not built;
- ``ours no-numba``: ``ours`` on the NumPy block path, as without either;
- ``ours fused`` / ``ours blocks``: ``ours`` forced onto the fused compiled
  kernels / the block path (BLAS products, compiled element-wise kernels
  between), whichever the size would pick: the crossover measurement;
- ``numpy``: straightforward NumPy (``raw = X @ W.T + b``; softmax;
  ``G = p - onehot``; ``X.T @ G``) with the BLAS's default threads, and
  ``numpy 1-blas`` with one BLAS thread (how the estimator ran it before);
- ``sklearn``: ``sklearn.linear_model._linear_loss.LinearModelLoss``
  ``(HalfMultinomialLoss(n_classes=10), fit_intercept=True).loss_gradient``
  with ``n_threads`` equal to ours;
- ``products``: ``X @ W.T`` and ``X.T @ G`` alone (default BLAS threads),
  and ``products 1-blas`` with one BLAS thread: the two GEMMs of one
  evaluation, its floor for many classes;
- ``read X``: ``X.sum()``, one pass over X; ``read X 2-thread``: the same
  over two halves of ``X`` at once, on our worker pool (the machine's memory
  bandwidth, with the threads our evaluation uses).

Before the variants, the rate of large GEMMs is measured in the same dtype
(:func:`gemm_rate`: square products of side :data:`LARGE_GEMM_SIDE`, back to
back; at 585, the side with ``4 n d k`` flops for n=100,000, d=100, k=10,
they ran at 70 GFLOP/s where 1000 and 2000 ran at 80-89 in float64). With
``ours`` and a read of ``X`` in the run, the floor the issue sets for few
classes is printed: the larger of the fastest read of ``X`` and ``4 n d k``
flops at that rate, with ``ours`` over it.

Each variant runs ``--repeats`` times, interleaved with the others so that
load from other processes hits all alike, after a short pause that lets the
previous variant's idle BLAS threads stop spinning; the median and the minimum are
reported, with the ratios to ``numpy``. Run from the repository root, without the OpenBLAS
overrides that slow NumPy on some machines::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/eval_bench.py
    ... benchmarks/eval_bench.py --sizes 30000 --features 256 --classes 200   # many classes
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_info, threadpool_limits

from softmax.loss import kernels as _kernels
from softmax.loss import native as _native
from softmax.loss.linear import LinearModelLoss
from softmax.loss.objective import Objective
from softmax.loss.threads import worker_pool
from softmax.penalties import L2

#: Side of the square products that measure the large-GEMM rate.
LARGE_GEMM_SIDE = 1000


def gemm_rate(dtype, repeats: int = 7, idle: float = 0.5) -> float:
    """GFLOP/s of square products of side :data:`LARGE_GEMM_SIDE`, median of back-to-back runs.

    Sleeps ``idle`` seconds after, so that BLAS's spinning threads do not
    slow the next timing.
    """
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, LARGE_GEMM_SIDE, LARGE_GEMM_SIDE)).astype(dtype)
    A @ B
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        A @ B
        times.append(time.perf_counter() - start)
    time.sleep(idle)
    return 2 * LARGE_GEMM_SIDE**3 / float(np.median(times)) / 1e9


def straightforward(X, y, coef, intercept):
    """The textbook NumPy evaluation: mean loss and gradient, all arrays at once."""
    raw = X @ coef.T + intercept
    raw -= raw.max(axis=1, keepdims=True)
    proba = np.exp(raw)
    total = proba.sum(axis=1, keepdims=True)
    proba /= total
    rows = np.arange(len(y))
    loss = float((np.log(total[:, 0]) - raw[rows, y]).sum(dtype=np.float64))
    proba[rows, y] -= 1
    return loss, X.T @ proba, proba.sum(axis=0)


def variants(X, y, K, n_threads):
    dtype = X.dtype
    D = X.shape[1]
    rng = np.random.default_rng(0)
    ours = LinearModelLoss(K, D, True, n_threads=n_threads)
    w = 0.01 * rng.standard_normal(ours.n_params)
    coef, intercept = (a.astype(dtype) for a in ours.unpack(w))
    weights = np.ones(len(y), dtype=dtype)
    objective = Objective(ours, L2(1.0), X, y, weights)
    _, _, hessp = ours.loss_gradient_hessp(w, X, y)
    v = rng.standard_normal(ours.n_params)
    G = rng.random((len(y), K)).astype(dtype)
    halves = np.array_split(X, 2)

    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss as SkLoss

    sk = SkLoss(base_loss=HalfMultinomialLoss(n_classes=K), fit_intercept=True)
    y_float = y.astype(dtype)
    sk_coef = w.reshape(K, D + 1).astype(dtype)

    def one_blas(f):
        def run():
            with threadpool_limits(1, user_api="blas"):
                return f()
        return run

    def forced(f, c_kernels=True, **settings):
        """Ours with some of the kernels' settings changed for the call (and the C kernels off)."""
        def run():
            saved = {name: getattr(_kernels, name) for name in settings}
            library = _native._lib
            for name, value in settings.items():
                setattr(_kernels, name, value)
            if not c_kernels:
                _native._lib = None
            try:
                return f()
            finally:
                for name, value in saved.items():
                    setattr(_kernels, name, value)
                _native._lib = library
        return run

    numpy_1 = one_blas(lambda: straightforward(X, y, coef, intercept))
    return {
        "ours": lambda: ours.loss_gradient(w, X, y),
        "ours numba": forced(lambda: ours.loss_gradient(w, X, y), c_kernels=False),
        "ours no-numba": forced(lambda: ours.loss_gradient(w, X, y), c_kernels=False,
                                _COMPILED_MIN_WORK=float("inf")),
        "ours fused": forced(lambda: ours.loss_gradient(w, X, y),
                             _FUSED_MAX_CLASSES=K, _FUSED_MIN_FEATURES=0),
        "ours blocks": forced(lambda: ours.loss_gradient(w, X, y), _FUSED_MAX_CLASSES=0),
        "ours objective": lambda: objective.value_grad(w),
        "ours hessp": lambda: hessp(v),
        "numpy": lambda: straightforward(X, y, coef, intercept),
        "numpy 1-blas": numpy_1,
        "sklearn": lambda: sk.loss_gradient(sk_coef, X, y_float, n_threads=n_threads),
        "products": lambda: (X @ coef.T, X.T @ G),
        "products 1-blas": one_blas(lambda: (X @ coef.T, X.T @ G)),
        "X @ W.T": lambda: X @ coef.T,
        "X.T @ G": lambda: X.T @ G,
        "read X": lambda: X.sum(),
        "read X 2-thread": lambda: sum(worker_pool(2).map(np.sum, halves)),
    }


def check_agreement(X, y, K, n_threads):
    """Ours and the straightforward evaluation give the same numbers."""
    D = X.shape[1]
    ours = LinearModelLoss(K, D, True, n_threads=n_threads)
    w = 0.01 * np.random.default_rng(1).standard_normal(ours.n_params)
    coef, intercept = (a.astype(X.dtype) for a in ours.unpack(w))
    value, grad = ours.loss_gradient(w, X, y)
    ref_value, ref_gcoef, ref_gint = straightforward(X, y, coef, intercept)
    grad = grad.reshape(K, D + 1)
    rtol = 1e-10 if X.dtype == np.float64 else 1e-4
    np.testing.assert_allclose(value, ref_value, rtol=rtol)
    scale = np.abs(ref_gcoef).max()
    np.testing.assert_allclose(grad[:, :D], ref_gcoef.T, atol=rtol * scale)
    np.testing.assert_allclose(grad[:, D], ref_gint, atol=rtol * scale)


def time_all(fs, repeats, pause):
    for f in fs.values():  # warm up: caches, pools, page faults
        f()
    times = {name: [] for name in fs}
    for _ in range(repeats):
        for name, f in fs.items():
            # Idle BLAS / OpenMP worker threads spin for up to ~0.1 s after a
            # call; without a pause they would steal a core from the next variant.
            time.sleep(pause)
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: (1e3 * float(np.median(t)), 1e3 * float(np.min(t))) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,200000", help="comma-separated n_samples")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--variants", default=None,
                        help="comma-separated subset of the variants (default: all)")
    parser.add_argument("--pause", type=float, default=0.15,
                        help="seconds of sleep before each timed call (default 0.15)")
    args = parser.parse_args(argv)

    n_threads = _kernels.n_threads()
    print(f"CPUs: {os.cpu_count()}, softmax threads: {n_threads}")
    for lib in threadpool_info():
        if lib.get("user_api") != "blas":
            continue
        print(
            f"BLAS: {lib.get('internal_api')} {lib.get('version')} kernel={lib.get('architecture')} "
            f"threads={lib.get('num_threads')} ({os.path.basename(lib.get('filepath', ''))})"
        )
    for env in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if env in os.environ:
            print(f"note: {env}={os.environ[env]} is set")

    for n in (int(s) for s in args.sizes.split(",")):
        K, D = args.classes, args.features
        X64, y = make_classification(
            n_samples=n, n_features=D, n_informative=min(50, D // 2), n_classes=K, random_state=0
        )
        for dtype_name in args.dtypes.split(","):
            X = np.ascontiguousarray(X64, dtype=np.dtype(dtype_name))
            check_agreement(X, y, K, n_threads)
            fs = variants(X, y, K, n_threads)
            rate = gemm_rate(X.dtype)
            if args.variants:
                fs = {name: fs[name] for name in args.variants.split(",")}
            medians = time_all(fs, args.repeats, args.pause)
            base, base_min = medians.get("numpy", next(iter(medians.values())))
            print(f"\nn={n:,} d={D} k={K} {dtype_name} (X is {X.nbytes / 2**20:.0f} MiB), "
                  f"ms per evaluation over {args.repeats} repeats (the minimum shows the "
                  "time without interference from other processes):")
            for name, (ms, ms_min) in medians.items():
                print(f"  {name:<15} median {ms:8.2f} ms  numpy/this {base / ms:5.2f}x   "
                      f"min {ms_min:8.2f} ms  numpy/this {base_min / ms_min:5.2f}x")
            gemms = [medians[g] for g in ("products", "products 1-blas") if g in medians]
            if "ours" in medians and gemms:  # the floor: the fastest the two GEMMs ran
                floor = min(g[0] for g in gemms), min(g[1] for g in gemms)
                ratio = medians["ours"][0] / floor[0], medians["ours"][1] / floor[1]
                print(f"  ours / two GEMMs (fastest thread setting): median {ratio[0]:.2f}x, "
                      f"min {ratio[1]:.2f}x")
            reads = [medians[r][0] for r in ("read X", "read X 2-thread") if r in medians]
            if "ours" in medians and reads:
                flops_ms = 4 * n * D * K / rate / 1e6
                floor = max(min(reads), flops_ms)
                print(f"  floor: max(read X {min(reads):.2f} ms, 4ndk at {rate:.0f} GFLOP/s "
                      f"(side-{LARGE_GEMM_SIDE} GEMMs before the variants) {flops_ms:.2f} ms) "
                      f"= {floor:.2f} ms; ours / floor {medians['ours'][0] / floor:.2f}x (medians)")


if __name__ == "__main__":
    main()
