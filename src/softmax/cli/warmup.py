"""``softmax warmup``: compile the Numba kernels now, not in the first large fit."""

from __future__ import annotations

from ..loss.warmup import warm_up
from .app import command

__all__ = ["warmup"]


@command()
def warmup() -> None:
    """Compile the Numba kernels of large dense fits now, once per installation.

    Fits on large dense data use compiled kernels. Compiling them takes some
    seconds the first time; Numba keeps the result on disk, so later fits and
    processes start at once. `make` does this after installing; after
    `pip install`, run this once (again after upgrading). Progress goes to
    stderr.

    \b
    Examples:
      softmax warmup        # once after installing
    """
    warm_up(verbose=True)
