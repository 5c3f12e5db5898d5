"""BLAS thread control for the solvers, and the worker threads of our own.

NumPy and SciPy wheels each bundle an OpenBLAS; both spinning a thread per
core made digits 5x and a 50,000 x 100 fit 1.8x slower than one BLAS thread.
``threadpoolctl.threadpool_limits`` rescans the loaded libraries at every
call (5 ms, which dominates a fit on iris), so one controller is cached.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

__all__ = ["blas_controller", "blas_threads", "single_threaded_blas", "worker_pool"]

_controller = None
_pools: dict[int, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def worker_pool(workers: int) -> ThreadPoolExecutor:
    """A pool of exactly ``workers`` threads, created once and reused.

    The kernels split rows over it, BLAS held to one thread in each (NumPy's
    products and BLAS release the GIL).
    """
    with _pool_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="softmax")
        return _pools[workers]


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit every loaded BLAS to one thread inside the block (0.05 ms to enter)."""
    with blas_threads(1):
        yield


@contextlib.contextmanager
def blas_threads(limit: int) -> Iterator[None]:
    """Limit every loaded BLAS to ``limit`` threads inside the block.

    For a loop of LAPACK calls, which hold the GIL: only BLAS's own threads
    run them in parallel.
    """
    with blas_controller().limit(limits=limit, user_api="blas"):
        yield


def blas_controller():
    """The process's one threadpoolctl controller (building one scans the libraries, ~1 ms)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller
