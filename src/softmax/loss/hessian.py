"""The Hessian of a data term at one point, as Newton-CG uses it."""

from __future__ import annotations

from collections.abc import Callable

from numpy.typing import NDArray

__all__ = ["HessianProduct"]


class HessianProduct:
    """Hessian-vector products at one point, and the per-class traces of that Hessian.

    Every rows backend's ``loss_gradient_hessp`` returns one: the evaluation
    that gave the value and gradient keeps the probabilities, and both the
    products and the traces read them, so Newton-CG's preconditioner costs
    no pass over the rows of its own (one per outer iteration saved: a
    thirtieth to a twelfth of a large fit).

    Parameters
    ----------
    product : callable
        ``product(v)``: the Hessian applied to a flat vector, flat float64,
        computed in the data's dtype.
    traces : callable
        ``traces(**options)``: per class, the trace of the data Hessian's
        diagonal block, shape ``(n_classes,)``, float64 (``options`` are
        those of :meth:`softmax.loss.linear.LinearModelLoss.hessian_traces`
        that describe the coordinates, for a standardised view).
    low : callable or None, default=None
        The same product computed in float32 on a float32 copy of float64
        rows (relative error about 1e-6; BLAS and the compiled kernels run
        nearly twice as fast), or None where there is none.
    blocks : callable or None, default=None
        ``blocks(**options)``: each class's diagonal block of the data
        Hessian, approximately (:func:`softmax.loss.class_blocks.class_blocks`;
        ``options`` as for ``traces``), or None where the rows cannot give them.
    """

    __slots__ = ("_product", "_traces", "_blocks", "low")

    def __init__(
        self, product: Callable[[NDArray], NDArray], traces: Callable[..., NDArray],
        low: Callable[[NDArray], NDArray] | None = None,
        blocks: Callable[..., NDArray | None] | None = None,
    ):  # fmt: skip
        self._product = product
        self._traces = traces
        self._blocks = blocks
        self.low = low

    def __call__(self, v: NDArray) -> NDArray:
        return self._product(v)

    def traces(self, **options) -> NDArray:
        """Per-class traces of the data Hessian's diagonal blocks at this point."""
        return self._traces(**options)

    def blocks(self, **options) -> NDArray | None:
        """Per class, the data Hessian's diagonal block, shape ``(n_classes, q, q)``, or None.

        ``q`` is the number of parameters per class; the blocks are in the
        rows' dtype, and cost about ``sum_a m_a q^2`` multiply-adds, ``m_a``
        the rows that matter to class ``a``.
        """
        return None if self._blocks is None else self._blocks(**options)

    def mapped(self, outer: Callable) -> HessianProduct:
        """The same traces and blocks, each product ``p`` replaced by ``outer(p)`` (a callable).

        For what wraps the data term's products: the penalty's curvature
        added, a change of coordinates.
        """
        low = None if self.low is None else outer(self.low)
        return HessianProduct(outer(self._product), self._traces, low, self._blocks)
