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
        ``product(v)``: the Hessian applied to a flat vector, flat float64.
    traces : callable
        ``traces(**options)``: per class, the trace of the data Hessian's
        diagonal block, shape ``(n_classes,)``, float64 (``options`` are
        those of :meth:`softmax.loss.linear.LinearModelLoss.hessian_traces`
        that describe the coordinates, for a standardised view).
    """

    __slots__ = ("_product", "_traces")

    def __init__(self, product: Callable[[NDArray], NDArray], traces: Callable[..., NDArray]):
        self._product = product
        self._traces = traces

    def __call__(self, v: NDArray) -> NDArray:
        return self._product(v)

    def traces(self, **options) -> NDArray:
        """Per-class traces of the data Hessian's diagonal blocks at this point."""
        return self._traces(**options)

    def adding(self, product: Callable[[NDArray], NDArray]) -> HessianProduct:
        """The same traces with another product (the penalty's curvature added, say)."""
        return HessianProduct(product, self._traces)
