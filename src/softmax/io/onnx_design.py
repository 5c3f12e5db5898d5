"""What an exported ONNX graph computes, as numbers: its inputs and one linear map.

:func:`export_plan` reads a fitted :class:`~softmax.SoftmaxRegression` and
says what :mod:`softmax.io.onnx_export` must build, without touching ONNX:

* the graph's **inputs**: one matrix ``X`` for a model of numbers, or one
  column ``[N, 1]`` per input column of a table (text, categories,
  booleans, numbers), as skl2onnx does for a ``ColumnTransformer``;
* the **raw features** those inputs become: a number or a boolean is one
  feature, a categorical column one 0/1 indicator per training category
  (all zero for a category not seen in training, as ``handle_unknown="warn"``
  scores it);
* one **linear map** from the raw features to the class scores, and the
  model's ``beta_`` and ``classes_``.

For a model of numbers or of encoded columns (:mod:`softmax.model.columns`)
the raw features are the model's features and the map is ``coef_`` itself.
A formula's design (:mod:`softmax.model.formula`) is exported when every
term is a plain column (``x``) or one categorical column (``island``,
``C(island)``, ``C(island, contr.sum)``): a categorical term's columns are a
linear function of the indicators (its contrast matrix, read off formulaic's
design of one row per category), so that function is folded into the map.
Interactions and transforms (``a:b``, ``center(x)``, ``np.log(x)``, ``bs(x)``)
raise :class:`OnnxExportError`, naming them.

The model's ``standardize`` needs nothing here: ``coef_`` and ``intercept_``
are kept in the original units (:mod:`softmax.loss.standardize`), and
predictions apply no transform.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.utils.validation import check_is_fitted

from .._errors import SoftmaxInputError
from ..model.columns import ColumnEncoding
from ..model.formula import FormulaDesign

__all__ = ["ExportPlan", "InputColumn", "OnnxExportError", "export_plan"]


class OnnxExportError(SoftmaxInputError, NotImplementedError):
    """A model, or a part of its design, that has no ONNX export.

    Both a :class:`~softmax.SoftmaxInputError` (the command line reports it
    as one line) and a ``NotImplementedError`` (what it is for a library user).
    """


@dataclass(frozen=True)
class InputColumn:
    """One input column of a table model and how it becomes raw features.

    Attributes
    ----------
    name : str
        The column name, which is also the graph input's name.
    kind : {"numeric", "bool", "category"}
        A number (one feature), a boolean (one 0/1 feature) or a category
        (one indicator per entry of ``categories``).
    categories : tuple or None
        For ``"category"``: the training categories, in the order of the map's columns.
    """

    name: str
    kind: Literal["numeric", "bool", "category"]
    categories: tuple | None = None

    @property
    def width(self) -> int:
        """How many raw features this column gives."""
        return 1 if self.categories is None else len(self.categories)


@dataclass(frozen=True)
class ExportPlan:
    """What the graph computes: ``softmax(beta * (features @ weights.T + intercept))``.

    Attributes
    ----------
    columns : tuple of InputColumn, or None
        The input columns of a table model; None for one matrix input of
        ``n_features`` numbers.
    n_features : int
        Raw features: the matrix's width, or the columns' widths summed.
    weights : ndarray of shape (n_classes, n_features), float64
        The linear map from raw features to class scores.
    intercept : ndarray of shape (n_classes,), float64
    beta : float
        The inverse temperature of :meth:`~softmax.SoftmaxRegression.calibrate` (1 without).
    classes : ndarray of shape (n_classes,)
    """

    columns: tuple[InputColumn, ...] | None
    n_features: int
    weights: NDArray[np.float64]
    intercept: NDArray[np.float64]
    beta: float
    classes: NDArray


def export_plan(model: Any) -> ExportPlan:
    """The plan of the ONNX graph of a fitted model (see the module docstring).

    Parameters
    ----------
    model : SoftmaxRegression
        Fitted.

    Returns
    -------
    ExportPlan

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If `model` is not fitted.
    OnnxExportError
        For a formula that is not plain columns and categorical columns.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> plan = export_plan(SoftmaxRegression().fit(X, y))
    >>> plan.columns is None, plan.weights.shape, plan.beta
    (True, (3, 4), 1.0)
    """
    check_is_fitted(model)
    coef = np.asarray(model.coef_, dtype=np.float64)
    encoding = getattr(model, "feature_encoding_", None)
    if encoding is None:
        columns, weights = None, coef
    elif isinstance(encoding, ColumnEncoding):
        # The raw features, column by column, are the encoding's features in order.
        columns = tuple(InputColumn(c.name, c.kind, c.categories) for c in encoding.columns)
        weights = coef
    elif isinstance(encoding, FormulaDesign):
        columns, weights = _formula_map(encoding, coef)
    else:
        raise OnnxExportError(f"No ONNX export for a {type(encoding).__name__} encoding.")
    return ExportPlan(
        columns=columns,
        n_features=weights.shape[1],
        weights=weights,
        intercept=np.asarray(model.intercept_, dtype=np.float64),
        beta=float(getattr(model, "beta_", 1.0)),
        classes=np.asarray(model.classes_),
    )


# -- formulas ------------------------------------------------------------------------------


def _formula_map(
    design: FormulaDesign, coef: NDArray[np.float64]
) -> tuple[tuple[InputColumn, ...], NDArray[np.float64]]:
    """The input columns of a formula's design and the map from their raw features to scores."""
    kinds = {expr: (kind, categories) for expr, kind, categories in design.factors}
    columns: dict[str, InputColumn] = {}
    terms: list[tuple[str, str]] = []  # (term, the column it reads)
    for term in design.spec.formula:
        if str(term) == "1":
            continue  # the intercept: the model's own
        factors = list(term.factors)
        if len(factors) != 1:
            raise _unsupported(design, f"the interaction {str(term)!r}")
        expr = str(factors[0].expr)
        kind, categories = kinds.get(expr, ("constant", None))
        name = _column_read(expr, kind, design.feature_names_in)
        if name is None:
            raise _unsupported(design, f"the term {expr!r} (a transform or an expression)")
        column = InputColumn(name, "numeric") if kind == "numerical" else (
            InputColumn(name, "category", categories)
        )  # fmt: skip
        if columns.setdefault(name, column) != column:
            raise _unsupported(design, f"the column {name!r} read both as numbers and categories")
        terms.append((str(term), name))

    spec = _design_of(design, list(columns.values()), base=None)[1]
    slices = {str(entry.term): list(entry.columns) for entry in spec.structure}
    position = {name: j for j, name in enumerate(design.names_out)}
    if sorted(c for term, _ in terms for c in slices[term]) != sorted(design.names_out):
        raise _unsupported(design, "columns that its terms do not account for")
    blocks = {name: np.zeros((coef.shape[0], column.width)) for name, column in columns.items()}
    for term, name in terms:
        out = [position[c] for c in slices[term]]
        column = columns[name]
        if column.kind == "numeric":
            contrasts = np.ones((1, 1))  # the column itself: formulaic's name for the term
        else:
            # One row per category: the term's columns as a function of the indicators.
            frame = _design_of(design, list(columns.values()), base=column)[0]
            contrasts = frame[slices[term]].to_numpy(dtype=np.float64)
        blocks[name] += coef[:, out] @ contrasts.T
    ordered = tuple(columns[name] for name in design.feature_names_in if name in columns)
    return ordered, np.hstack([blocks[column.name] for column in ordered])


def _column_read(expr: str, kind: str, names: list[str]) -> str | None:
    """The column that a plain factor reads (``x``, ``C(x)``, ``C(x, contr.sum)``), else None."""
    if expr in names:
        return expr if kind in ("numerical", "categorical") else None
    if kind != "categorical":
        return None
    try:
        tree = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    if (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id == "C"
        and tree.args
        and isinstance(tree.args[0], ast.Name)
        and tree.args[0].id in names
    ):
        return tree.args[0].id
    return None


def _design_of(design: FormulaDesign, columns: list[InputColumn], base: InputColumn | None):
    """formulaic's design and spec of a probe frame: one row per category of `base`.

    The other columns hold a fixed value (0, or their first category); without
    `base` the frame has one row, for the structure of the design (which
    columns each term makes).
    """
    rows = 1 if base is None else base.width
    frame = pd.DataFrame({
        column.name: list(column.categories) if column is base
        else [0.0 if column.categories is None else column.categories[0]] * rows
        for column in columns
    })  # fmt: skip
    matrix = design.spec.get_model_matrix(frame)
    return matrix, matrix.model_spec


def _unsupported(design: FormulaDesign, what: str) -> OnnxExportError:
    return OnnxExportError(
        f"No ONNX export for the formula {design.formula!r}: {what}. The export covers "
        "formulas of plain columns and categorical columns (x, island, C(island)); fit on "
        "those columns, or compute the term into a column of its own, to export it."
    )
