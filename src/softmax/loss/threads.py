"""BLAS thread control for the solvers.

NumPy and SciPy wheels each bundle an OpenBLAS; both spinning a thread per
core made digits 5x and a 50,000 x 100 fit 1.8x slower than one BLAS thread.
``threadpoolctl.threadpool_limits`` rescans the loaded libraries at every
call (5 ms, which dominates a fit on iris), so one controller is cached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["single_threaded_blas"]

_controller = None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit every loaded BLAS to one thread inside the block (0.05 ms to enter)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
