"""From what the user passes as ``X`` to the matrix the maths layers see: the model's design.

A model's ``feature_encoding_`` is how the columns of ``X`` become its
features: None for numbers (scikit-learn's checks only), a
:class:`~softmax.model.columns.ColumnEncoding` for a table with text,
categorical or boolean columns, or a :class:`~softmax.model.formula.FormulaDesign`
for a model with a ``formula``. Both encodings share one interface
(``feature_names_in``, ``names_out``, ``transform(X, handle_unknown)``,
``to_file()``), so that :func:`fit_design` (in ``fit``), :func:`design_matrix`
(in every prediction and in :mod:`softmax.inference`) and
:func:`encoding_from_file` (for model files) are all that the rest of the
package needs to know about tables.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils.validation import check_array, validate_data

from .._errors import SoftmaxInputError
from .columns import ColumnEncoding, learn_encoding
from .formula import FormulaDesign, formula_has_intercept

__all__ = [
    "FormulaMixin",
    "design_matrix",
    "encoding_from_file",
    "fit_design",
    "labels_for",
    "require_labels",
    "require_numeric",
    "text_columns",
]

_DTYPES = [np.float64, np.float32]


def fit_design(model, X: Any, y: Any) -> tuple[ColumnEncoding | FormulaDesign | None, Any, Any]:
    """``(encoding, X, y)`` for ``fit``: the design learned on `X`, and `X` as features.

    Without a formula, a table with text or categorical columns is encoded
    (:func:`~softmax.model.columns.learn_encoding`); anything else comes back
    as it is, with encoding None. With a formula, `y` may be None when the
    formula's left-hand side names a label column of `X`; a `y` given wins.

    Raises
    ------
    ValueError
        If `y` is None and no formula names the labels (scikit-learn's words).
    SoftmaxInputError
        As :func:`~softmax.model.columns.learn_encoding` and
        :meth:`FormulaDesign.learn`, or when the formula's intercept and
        ``fit_intercept`` disagree.
    """
    encoding = None
    if model.formula is not None:
        encoding, X, lhs = FormulaDesign.learn(model.formula, X)
        if encoding.intercept != bool(model.fit_intercept):
            raise SoftmaxInputError(
                f"The formula {model.formula!r} {'has' if encoding.intercept else 'has no'} "
                f"intercept, but fit_intercept={model.fit_intercept}; make them agree (drop it "
                "from a formula with '0 +' or '- 1')."
            )
        if y is None and lhs is None and encoding.target is not None:
            raise SoftmaxInputError(
                f"X lacks the label column {encoding.target!r} that the formula names; pass y."
            )
        y = lhs if y is None else y
    else:
        encoding = learn_encoding(X)
        if encoding is not None:
            X = encoding.transform(X, "error")  # training data: every category is known
    require_labels(model, y)
    return encoding, X, y


def require_labels(model, y: Any) -> None:
    """scikit-learn's error for ``fit(X)`` or ``fit(X, None)`` without labels."""
    if y is None:
        raise ValueError(
            f"{type(model).__name__} requires y to be passed, but the target y is None "
            "(or give a formula whose left-hand side names the label column)."
        )


def require_numeric(model, X: Any, what: str) -> None:
    """Refuse tables that need an encoding where only numbers can go (``partial_fit``)."""
    if getattr(model, "feature_encoding_", None) is not None or model.formula is not None or (
        learn_encoding(X) is not None
    ):
        raise SoftmaxInputError(
            f"{what} takes numeric features only; fit models of text or categorical columns, "
            "or with a formula, with fit (warm_start=True continues from the last fit)."
        )


def design_matrix(model, X: Any, dtype=_DTYPES) -> NDArray | Any:
    """The features of `X` for a fitted `model`: what its coefficients multiply.

    Parameters
    ----------
    model : SoftmaxRegression
        Fitted.
    X : array-like, sparse matrix or pandas.DataFrame
        As the model was fitted on: a DataFrame holding the input columns
        (found by name) for a model with a ``feature_encoding_``.
    dtype : dtype or list of dtypes
        As for scikit-learn's ``check_array``.

    Returns
    -------
    features : ndarray or sparse matrix of shape (n_samples, len(feature_names_out_))

    Raises
    ------
    ValueError
        As scikit-learn's ``validate_data`` (wrong number of features, NaN, ...).
    SoftmaxInputError
        As the encoding's ``transform``.
    """
    encoding = getattr(model, "feature_encoding_", None)
    if encoding is None:
        return validate_data(model, X, accept_sparse=["csr", "csc"], dtype=dtype, reset=False)
    return check_array(encoding.transform(X, model.handle_unknown), dtype=dtype)


def labels_for(model, X: Any, y: ArrayLike | None) -> Any:
    """`y`, or the label column of `X` that the model's formula names when `y` is None."""
    encoding = getattr(model, "feature_encoding_", None)
    if y is None and isinstance(encoding, FormulaDesign) and encoding.target is not None:
        if encoding.target not in getattr(X, "columns", ()):
            raise SoftmaxInputError(
                f"X lacks the label column {encoding.target!r} that the formula names; pass y."
            )
        return X[encoding.target]
    require_labels(model, y)
    return y


def text_columns(model) -> Collection[str] | str:
    """Which input columns of a fitted model a table reader keeps as read, not as numbers.

    The categorical columns of a model of encoded columns; for a formula,
    ``"auto"``: the columns of text, as when it was fitted on a table (see
    :mod:`softmax.io.tables`); none for a model of numbers.
    """
    encoding = getattr(model, "feature_encoding_", None)
    if encoding is None:
        return ()
    if isinstance(encoding, ColumnEncoding):
        return [column.name for column in encoding.columns if column.kind == "category"]
    return "auto"


def encoding_from_file(fields: dict[str, Any]) -> ColumnEncoding | FormulaDesign:
    """The encoding that ``to_file()`` wrote; ValueError if `fields` is not one."""
    kinds = {"columns": ColumnEncoding, "formula": FormulaDesign}
    kind = fields.get("kind") if isinstance(fields, dict) else None
    if kind not in kinds:
        raise ValueError("unknown kind of feature encoding")
    return kinds[kind].from_file(fields)


class FormulaMixin:
    """:meth:`from_formula`, the estimator's front door to :mod:`softmax.model.formula`."""

    @classmethod
    def from_formula(
        cls, formula: str, data: Any, *, sample_weight: ArrayLike | None = None, **params: Any
    ) -> Self:
        """Fit a model of `formula` on the frame `data`, in one call.

        The same as ``cls(formula=formula, **params).fit(data)``, which
        ``clone`` and cross-validation repeat (the formula is a parameter).

        Needs the optional package formulaic (``pip install 'softmax[formula]'``).
        The intercept follows the formula (``0 +`` or ``- 1`` removes it);
        a ``fit_intercept`` given must agree. The fitted model applies the same
        design to any frame it predicts for; ``feature_names_out_`` and
        :meth:`inference` name the terms as formulaic does.

        Parameters
        ----------
        formula : str
            Such as ``"species ~ bill_length_mm + C(island)"``; see
            :mod:`softmax.model.formula` for what it may hold.
        data : pandas.DataFrame
            The training rows: every column the formula reads, and the label
            column that its left-hand side names.
        sample_weight : array-like of shape (n_samples,), optional
        **params
            Any other parameter of the estimator.

        Returns
        -------
        model : SoftmaxRegression
            Fitted.

        Examples
        --------
        >>> from palmerpenguins import load_penguins
        >>> from softmax import SoftmaxRegression
        >>> penguins = load_penguins().dropna()
        >>> model = SoftmaxRegression.from_formula(
        ...     "species ~ bill_length_mm + C(island)", penguins, C=10.0)
        >>> model.feature_names_out_.tolist()
        ['bill_length_mm', 'C(island)[T.Dream]', 'C(island)[T.Torgersen]']
        >>> model.predict(penguins.head(2)).tolist()
        ['Adelie', 'Adelie']
        """
        params.setdefault("fit_intercept", formula_has_intercept(formula))
        return cls(formula=formula, **params).fit(data, sample_weight=sample_weight)
