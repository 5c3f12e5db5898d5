"""ONNX export: a graph that computes a fitted model's ``predict`` and ``predict_proba``.

:func:`to_onnx` (and :meth:`SoftmaxRegression.to_onnx`, its front door) writes
a graph that any ONNX runtime can run without Python or this package:

============================  ================================================
graph                         what it holds
============================  ================================================
inputs, model of numbers      ``X``: ``dtype`` ``[N, n_features_in_]``
inputs, model of a table      one ``[N, 1]`` input per input column, named
                              after it: ``string`` for text categories,
                              ``bool`` for booleans, ``dtype`` for numbers
                              (categories of numbers: ``int64``, ``bool`` or
                              ``dtype``, as the categories are)
output ``label``              ``[N]``, the ``predict`` label: ``int64`` or
                              ``string`` (``bool``, ``double``) as ``classes_``
output ``probabilities``      ``dtype`` ``[N, n_classes]``, ``predict_proba``,
                              columns in ``classes_`` order
============================  ================================================

Inside: each categorical column becomes 0/1 indicators (``OneHotEncoder`` of
``ai.onnx.ml`` for text, ``Equal`` and ``Cast`` for other categories); a
category not seen in training gets all-zero indicators, as
``handle_unknown="warn"`` scores it (the graph cannot warn). Then one
``Gemm`` gives the class scores, ``Softmax`` of ``beta_ * scores`` the
probabilities (``Mul`` only for a model that :meth:`calibrate` set), and
``ArgMax`` + ``Gather`` the label. What a formula's terms do is folded into
the ``Gemm`` (:mod:`softmax.io.onnx_design`). Missing values are the
caller's to refuse: the graph passes NaN through.

The ops are those of opset 13 (:data:`DEFAULT_OPSET`, the lowest in which
every op used has its present definition), so that the widest range of
runtimes can run the file; ``opset`` asks for a later one.
:func:`onnx_inputs` turns a NumPy array or DataFrame into the inputs that a
graph takes. For scikit-learn pipelines that hold a
:class:`~softmax.SoftmaxRegression`, see :mod:`softmax.io.onnx_pipeline`.

Needs the optional packages ``onnx`` (and ``onnxruntime`` to run the
graph): ``pip install 'softmax[onnx]'``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import DTypeLike, NDArray

from .._errors import SoftmaxInputError
from .._optional import require
from .._version import __version__
from .atomic import atomic_write, check_writable
from .onnx_design import ExportPlan, InputColumn, OnnxExportError, export_plan

if TYPE_CHECKING:  # annotations only: onnx is imported when a graph is built
    import onnx

__all__ = [
    "DEFAULT_OPSET", "LABEL", "MATRIX_INPUT", "PROBABILITIES", "GraphBuilder",
    "OnnxExportError", "add_classifier", "label_values", "onnx_inputs", "tensor_type", "to_onnx",
]  # fmt: skip

#: The opset of an exported graph unless asked otherwise (see the module docstring).
DEFAULT_OPSET = 13
_ML_DOMAIN, _ML_OPSET = "ai.onnx.ml", 1  # OneHotEncoder
#: The graph's outputs and, for a model of numbers, its one input.
LABEL, PROBABILITIES, MATRIX_INPUT = "label", "probabilities", "X"
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _onnx():
    return require("onnx", "onnx", "ONNX export")


class GraphBuilder(Protocol):
    """Where graph pieces go: a plain graph here, skl2onnx's container in a pipeline."""

    def name(self, hint: str) -> str:
        """A name not yet used in the graph, made from `hint`."""

    def constant(self, hint: str, values: NDArray) -> str:
        """Add `values` as an initializer; its name."""

    def node(
        self, op: str, inputs: list[str], hint: str, *, output: str | None = None,
        domain: str = "", **attributes: Any,
    ) -> str:  # fmt: skip
        """Add one node; the name of its output (`output` if given)."""


class _Graph:
    """A :class:`GraphBuilder` that collects nodes and initializers for :func:`to_onnx`."""

    def __init__(self, reserved: list[str]) -> None:
        self.onnx = _onnx()
        self.nodes: list = []
        self.initializers: list = []
        self.domains: set[str] = set()
        self._used = set(reserved)  # inputs and outputs: no internal name may take them

    def name(self, hint: str) -> str:
        # The prefix tells internal names from columns in a graph viewer; _used keeps all distinct.
        base = f"softmax/{hint}"
        name, k = base, 1
        while name in self._used:
            name, k = f"{base}_{k}", k + 1
        self._used.add(name)
        return name

    def constant(self, hint: str, values: NDArray) -> str:
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(values, name))
        return name

    def node(
        self, op: str, inputs: list[str], hint: str, *, output: str | None = None,
        domain: str = "", **attributes: Any,
    ) -> str:  # fmt: skip
        output = output or self.name(hint)
        self.domains.add(domain)
        self.nodes.append(self.onnx.helper.make_node(
            op, inputs, [output], name=self.name(op), domain=domain, **attributes
        ))  # fmt: skip
        return output


def to_onnx(
    model: Any,
    path: str | os.PathLike | None = None,
    *,
    dtype: DTypeLike = np.float32,
    opset: int | None = None,
) -> onnx.ModelProto:
    """The ONNX graph of a fitted model's ``predict`` and ``predict_proba``.

    Parameters
    ----------
    model : SoftmaxRegression
        Fitted; on numbers, or on a table of text, categorical, boolean and
        numeric columns, or with a formula of plain and categorical columns.
    path : str or path-like, optional
        Also write the graph here (atomically; see :mod:`softmax.io.atomic`).
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Of the numeric inputs, the arithmetic and ``probabilities``.
    opset : int, optional
        ONNX opset of the graph, at least 13; default :data:`DEFAULT_OPSET`.

    Returns
    -------
    onnx.ModelProto
        Inputs and outputs as the module docstring says; checked by
        ``onnx.checker``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If `model` is not fitted.
    OnnxExportError
        For a formula with interactions or transforms, a column named
        ``label`` or ``probabilities``, or labels of mixed types.
    softmax._optional.MissingDependencyError
        If ``onnx`` is not installed.
    ValueError
        For another `dtype`, an `opset` out of range, or a `path` that
        cannot be written.

    Examples
    --------
    >>> import onnxruntime
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = SoftmaxRegression().fit(X, y)
    >>> session = onnxruntime.InferenceSession(to_onnx(model).SerializeToString())
    >>> label, proba = session.run(None, {"X": X[:2].astype("float32")})
    >>> label.tolist(), bool(abs(proba - model.predict_proba(X[:2])).max() < 1e-5)
    ([0, 0], True)
    """
    onnx = _onnx()
    helper = onnx.helper
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise SoftmaxInputError(f"dtype must be float32 or float64, not {dtype}.")
    opset = DEFAULT_OPSET if opset is None else opset
    newest = onnx.defs.onnx_opset_version()
    if not (isinstance(opset, int) and DEFAULT_OPSET <= opset <= newest):
        raise SoftmaxInputError(
            f"opset must be an integer from {DEFAULT_OPSET} to {newest} (the newest that this "
            f"onnx {onnx.__version__} knows), not {opset!r}."
        )
    plan = export_plan(model)
    if path is not None:
        check_writable(path)  # before the work, as every writer here does
    labels = label_values(plan.classes)
    number = tensor_type(dtype)
    if plan.columns is None:
        inputs = [helper.make_tensor_value_info(MATRIX_INPUT, number, [None, plan.n_features])]
    else:
        clash = sorted({LABEL, PROBABILITIES} & {column.name for column in plan.columns})
        if clash:
            raise OnnxExportError(
                f"The model reads a column named {clash[0]!r}, the name of an output of the "
                "exported graph; rename that column and refit to export the model."
            )
        inputs = [
            helper.make_tensor_value_info(column.name, tensor_type(_input_type(column, dtype)),
                                          [None, 1])  # fmt: skip
            for column in plan.columns
        ]
    graph = _Graph([value.name for value in inputs] + [LABEL, PROBABILITIES])
    features = MATRIX_INPUT if plan.columns is None else _raw_features(graph, plan.columns, dtype)
    add_classifier(graph, features, plan, dtype, labels)
    outputs = [
        helper.make_tensor_value_info(LABEL, tensor_type(labels.dtype), [None]),
        helper.make_tensor_value_info(PROBABILITIES, number, [None, len(labels)]),
    ]
    opsets = [helper.make_opsetid("", opset)]
    if _ML_DOMAIN in graph.domains:
        opsets.append(helper.make_opsetid(_ML_DOMAIN, _ML_OPSET))
    proto = helper.make_model_gen_version(
        helper.make_graph(
            graph.nodes, "softmax_regression", inputs, outputs, graph.initializers,
            doc_string=f"SoftmaxRegression: {LABEL} = predict, {PROBABILITIES} = predict_proba",
        ),
        opset_imports=opsets, producer_name="softmax", producer_version=__version__,
    )  # fmt: skip
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        with atomic_write(path, binary=True) as handle:
            handle.write(proto.SerializeToString())
    return proto


def add_classifier(
    graph: GraphBuilder, features: str, plan: ExportPlan, dtype: np.dtype, labels: NDArray,
    label: str = LABEL, probabilities: str = PROBABILITIES,
) -> None:  # fmt: skip
    """Add the nodes from the raw features (``dtype [N, n_features]``) to the two outputs.

    Scores ``features @ weights.T + intercept``; `probabilities` =
    ``Softmax(beta * scores)``; `label` = the entry of `labels` at the
    scores' ``ArgMax`` (the first of equal scores, as NumPy's ``argmax``).
    """
    weights = graph.constant("coef", plan.weights.astype(dtype))
    intercept = graph.constant("intercept", plan.intercept.astype(dtype))
    scores = graph.node("Gemm", [features, weights, intercept], "scores", transB=1)
    scaled = scores
    if plan.beta != 1.0:
        # beta * scores cannot overflow: calibrate keeps beta <= 1e4, scores are far below 1e34.
        beta = graph.constant("beta", np.asarray(plan.beta, dtype=dtype))
        scaled = graph.node("Mul", [scores, beta], "scaled_scores")
    graph.node("Softmax", [scaled], "probabilities", output=probabilities, axis=1)
    # beta > 0 keeps the order of the scores, so predict's label is the raw scores' argmax.
    best = graph.node("ArgMax", [scores], "best", axis=1, keepdims=0)
    graph.node("Gather", [graph.constant("classes", labels), best], "label", output=label, axis=0)


def label_values(classes: NDArray) -> NDArray:
    """``classes_`` as an ONNX tensor holds them: str (object), bool, int64 or float64.

    Raises
    ------
    OnnxExportError
        For labels of mixed types, which no tensor holds.
    """
    values = np.asarray(classes).tolist()
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=object)
    for kinds, dtype in (((bool,), np.bool_), ((int,), np.int64), ((int, float), np.float64)):
        if all(isinstance(v, kinds) for v in values):
            return np.array(values, dtype=dtype)
    raise OnnxExportError(
        f"No ONNX tensor holds the labels {values[:5]!r}: they mix types; fit on labels of "
        "one type (all text, or all numbers) to export the model."
    )


def _category_type(categories: tuple, dtype: np.dtype) -> np.dtype:
    """The input type of a categorical column: object (text), bool, int64, or `dtype`."""
    if all(isinstance(c, str) for c in categories):
        return np.dtype(object)
    if all(isinstance(c, (bool, np.bool_)) for c in categories):
        return np.dtype(bool)
    if all(isinstance(c, (int, np.integer)) for c in categories):
        return np.dtype(np.int64)
    return dtype


def tensor_type(dtype: np.dtype) -> int:
    """The ONNX element type of a NumPy dtype; object (Python strings) is ``STRING``."""
    onnx = _onnx()
    if dtype == object:
        return onnx.TensorProto.STRING
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _input_type(column: InputColumn, dtype: np.dtype) -> np.dtype:
    if column.kind == "numeric":
        return dtype
    if column.kind == "bool":
        return np.dtype(bool)
    return _category_type(column.categories, dtype)


def _raw_features(graph: _Graph, columns: tuple[InputColumn, ...], dtype: np.dtype) -> str:
    """Nodes from the column inputs to the raw features, ``dtype [N, n_features]``."""
    to = tensor_type(dtype)
    parts = []
    for column in columns:
        hint = f"{column.name}/features"
        if column.kind == "numeric":
            parts.append(column.name)
        elif column.kind == "bool":
            parts.append(graph.node("Cast", [column.name], hint, to=to))
        elif _category_type(column.categories, dtype) == object:
            # Text: the ML domain's OneHotEncoder (zeros=1: unseen -> all zero), [N, 1, C].
            onehot = graph.node(
                "OneHotEncoder", [column.name], f"{column.name}/onehot", domain=_ML_DOMAIN,
                cats_strings=[str(c) for c in column.categories], zeros=1,
            )  # fmt: skip
            flat = graph.node("Flatten", [onehot], f"{column.name}/indicators", axis=1)
            parts.append(flat if dtype == np.float32 else graph.node("Cast", [flat], hint, to=to))
        else:
            # Other categories: compare with each, [N, 1] == [C] -> [N, C] (unseen: all false).
            values = np.array(column.categories, dtype=_category_type(column.categories, dtype))
            equal = graph.node("Equal", [column.name, graph.constant(hint, values)],
                               f"{column.name}/equal")  # fmt: skip
            parts.append(graph.node("Cast", [equal], hint, to=to))
    return parts[0] if len(parts) == 1 else graph.node("Concat", parts, "features", axis=1)


def onnx_inputs(onnx_model: Any, X: Any) -> dict[str, NDArray]:
    """The inputs of an exported graph for the rows of `X`, typed as the graph wants them.

    Parameters
    ----------
    onnx_model : onnx.ModelProto
        A graph written by :func:`to_onnx` (or ``onnx.load(path)`` of one).
    X : array-like or pandas.DataFrame
        The rows, as :meth:`SoftmaxRegression.predict` takes them: a table
        holding the graph's input columns (found by name), or for a graph
        with one input ``X``, numbers.

    Returns
    -------
    dict
        Input name -> array, for ``onnxruntime.InferenceSession.run``.

    Raises
    ------
    SoftmaxInputError
        If `X` lacks a column that the graph reads.

    Examples
    --------
    >>> import pandas as pd
    >>> from softmax import SoftmaxRegression
    >>> X = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "color": ["red", "blue", "red", "blue"]})
    >>> model = SoftmaxRegression().fit(X, ["a", "b", "a", "b"])
    >>> {name: values.dtype.name for name, values in onnx_inputs(to_onnx(model), X).items()}
    {'size': 'float32', 'color': 'object'}
    """
    onnx = _onnx()
    inputs = list(onnx_model.graph.input)
    names = [value.name for value in inputs]
    columns = set(X.columns) if isinstance(X, pd.DataFrame) else set()
    if names == [MATRIX_INPUT] and MATRIX_INPUT not in columns:
        elem = inputs[0].type.tensor_type.elem_type
        return {MATRIX_INPUT: np.asarray(X, dtype=onnx.helper.tensor_dtype_to_np_dtype(elem))}
    missing = [name for name in names if name not in columns]
    if missing:
        raise SoftmaxInputError(
            f"The graph reads the columns {', '.join(map(repr, names))} by name, so X must be a "
            f"DataFrame that has them; it lacks {', '.join(map(repr, missing))}."
        )
    feed = {}
    for value in inputs:
        elem = value.type.tensor_type.elem_type
        column = X[value.name]
        if elem == onnx.TensorProto.STRING:
            array = column.astype(str).to_numpy(dtype=object)
        else:
            array = column.to_numpy(dtype=onnx.helper.tensor_dtype_to_np_dtype(elem))
        feed[value.name] = array.reshape(-1, 1)
    return feed
