""":meth:`to_onnx`, the estimator's front door to :mod:`softmax.io.onnx_export`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike

from . import offset as offsets

if TYPE_CHECKING:  # annotations only: onnx is imported when a graph is built
    import onnx

__all__ = ["ExportMixin"]


class ExportMixin:
    """Adds :meth:`to_onnx` to :class:`~softmax.SoftmaxRegression`."""

    def to_onnx(
        self,
        path: str | os.PathLike | None = None,
        *,
        dtype: DTypeLike = np.float32,
        opset: int | None = None,
    ) -> onnx.ModelProto:
        """Export ``predict`` and ``predict_proba`` as an ONNX graph.

        The graph computes what the model does at predict time: the one-hot
        encoding of text, categorical and boolean columns (one input per
        column; unseen categories give all-zero indicators), the formula's
        plain and categorical terms, the scores, ``beta_`` of
        :meth:`calibrate`, and softmax. Its outputs are ``label`` (``[N]``,
        of the type of ``classes_``) and ``probabilities`` (``[N,
        n_classes]``). See :mod:`softmax.io.onnx_export` for the inputs.
        Needs ``pip install 'softmax[onnx]'``.

        Parameters
        ----------
        path : str or path-like, optional
            Also write the graph to this file (atomically).
        dtype : {numpy.float32, numpy.float64}, default=numpy.float32
            Of the numeric inputs, the arithmetic and the probabilities.
        opset : int, optional
            ONNX opset, at least 13 (the default).

        Returns
        -------
        onnx.ModelProto

        Raises
        ------
        softmax.io.onnx_design.OnnxExportError
            For what has no export (a formula's interactions and transforms),
            naming it; also a ``NotImplementedError``.

        Examples
        --------
        >>> import onnxruntime
        >>> from sklearn.datasets import load_iris
        >>> from softmax import SoftmaxRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> model = SoftmaxRegression().fit(X, y)
        >>> session = onnxruntime.InferenceSession(model.to_onnx().SerializeToString())
        >>> [output.name for output in session.get_outputs()]
        ['label', 'probabilities']
        >>> label, proba = session.run(None, {"X": X[:1].astype(np.float32)})
        >>> print(label, proba.round(3))
        [0] [[0.982 0.018 0.   ]]
        """
        from ..io.onnx_export import to_onnx

        offsets.refuse_fitted(self, "to_onnx")  # the graph has no input for the offset
        return to_onnx(self, path, dtype=dtype, opset=opset)
