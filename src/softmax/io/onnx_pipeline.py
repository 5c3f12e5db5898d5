"""skl2onnx support: convert scikit-learn pipelines that end in a SoftmaxRegression.

skl2onnx converts a pipeline step by step, and needs for each estimator a
*shape calculator* (the types of its outputs) and a *converter* (its
nodes). :func:`register_skl2onnx` registers both for
:class:`~softmax.SoftmaxRegression`, once per process; then
``skl2onnx.to_onnx(pipeline, X[:1])`` converts, say, ``StandardScaler`` +
``SoftmaxRegression``. The converter emits the nodes of
:func:`softmax.io.onnx_export.to_onnx` (``Gemm``, ``Mul`` by ``beta_`` when
calibrated, ``Softmax``, ``ArgMax`` + ``Gather``) on the numbers that the
previous step hands over.

As for scikit-learn's own classifiers, the outputs are ``output_label`` and
``output_probability``, a list of ``{label: probability}`` maps; with the
option ``zipmap`` False they are ``label`` and ``probabilities``, a ``[N,
n_classes]`` tensor: ``skl2onnx.to_onnx(pipeline, X[:1],
options={SoftmaxRegression: {"zipmap": False}})``. Labels are ``int64`` or
``string`` (skl2onnx's rule for classifiers); the option ``nocl`` makes them
the class indices. A model of table columns or of a formula reads columns by
name, which no pipeline step hands over: export it with
:meth:`SoftmaxRegression.to_onnx` instead (in a pipeline, encode the columns
with a ``ColumnTransformer`` before it).

Needs ``pip install 'softmax[onnx]'`` (onnx, onnxruntime, skl2onnx).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._optional import require
from ..estimator import SoftmaxRegression
from .onnx_design import OnnxExportError, export_plan
from .onnx_export import add_classifier, tensor_type

__all__ = ["register_skl2onnx"]

#: The name skl2onnx knows the estimator by.
ALIAS = "SoftmaxSoftmaxRegression"


def register_skl2onnx() -> None:
    """Teach skl2onnx to convert :class:`~softmax.SoftmaxRegression` (see the module docstring).

    Calling it again changes nothing.

    Raises
    ------
    softmax._optional.MissingDependencyError
        If skl2onnx is not installed.

    Examples
    --------
    >>> import onnxruntime, skl2onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from softmax import SoftmaxRegression
    >>> register_skl2onnx()
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype("float32")
    >>> pipeline = make_pipeline(StandardScaler(), SoftmaxRegression()).fit(X, y)
    >>> graph = skl2onnx.to_onnx(pipeline, X[:1], options={SoftmaxRegression: {"zipmap": False}})
    >>> session = onnxruntime.InferenceSession(graph.SerializeToString())
    >>> label, proba = session.run(None, {"X": X[:2]})
    >>> label.tolist(), bool(abs(proba - pipeline.predict_proba(X[:2])).max() < 1e-5)
    ([0, 0], True)
    """
    skl2onnx = require("skl2onnx", "onnx", "Converting pipelines with skl2onnx")
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    skl2onnx.update_registered_converter(
        SoftmaxRegression, ALIAS, calculate_linear_classifier_output_shapes, _convert,
        # Declaring zipmap has skl2onnx's classifier parser add the ZipMap step; nocl (class
        # indices as labels) is read by skl2onnx's label helper that the converter uses.
        options={"zipmap": [True, False, "columns"], "nocl": [False, True]},
    )  # fmt: skip


class _Container:
    """The :class:`~softmax.io.onnx_export.GraphBuilder` of one skl2onnx conversion."""

    def __init__(self, scope, container) -> None:
        self.scope = scope
        self.container = container

    def name(self, hint: str) -> str:
        return self.scope.get_unique_variable_name(f"softmax_{hint}")

    def constant(self, hint: str, values: NDArray) -> str:
        name = self.name(hint)
        self.container.add_initializer(
            name, tensor_type(values.dtype), list(values.shape), values.ravel().tolist()
        )
        return name

    def node(
        self, op: str, inputs: list[str], hint: str, *, output: str | None = None,
        domain: str = "", **attributes: Any,
    ) -> str:  # fmt: skip
        output = output or self.name(hint)
        self.container.add_node(
            op, inputs, [output], op_domain=domain,
            name=self.scope.get_unique_operator_name(f"Softmax{op}"), **attributes,
        )  # fmt: skip
        return output


def _convert(scope, operator, container) -> None:
    """skl2onnx's converter: the nodes from the step's input to its label and probabilities."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils_classifier import get_label_classes

    model = operator.raw_operator
    if getattr(model, "feature_encoding_", None) is not None:
        raise OnnxExportError(
            "A SoftmaxRegression of table columns or a formula reads its columns by name, "
            "which a pipeline step does not hand over; export it with model.to_onnx(), or "
            "encode the columns before it with a ColumnTransformer."
        )
    graph = _Container(scope, container)
    source = operator.inputs[0]
    dtype = np.dtype(np.float64 if isinstance(source.type, DoubleTensorType) else np.float32)
    features = source.full_name
    if not isinstance(source.type, (DoubleTensorType, FloatTensorType)):
        # Integers or booleans (the step's input as given): the arithmetic is float32.
        features = graph.node("Cast", [features], "features", to=tensor_type(dtype))
    classes = get_label_classes(scope, model)  # as the shape calculator typed them
    labels = np.array(classes.tolist(), dtype=object if classes.dtype.kind in "OUS" else np.int64)
    add_classifier(
        graph, features, export_plan(model), dtype, labels,
        label=operator.outputs[0].full_name, probabilities=operator.outputs[1].full_name,
    )  # fmt: skip
