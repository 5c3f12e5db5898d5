"""Formulas: ``species ~ bill_length_mm + C(island)``, through the optional package formulaic.

With ``SoftmaxRegression(formula=...)`` (or :meth:`SoftmaxRegression.from_formula`)
the features are the columns of formulaic's model matrix of the right-hand
side on the training frame, named as formulaic names them
(``C(island)[T.Dream]``); the left-hand side, if any, names the label
column. :class:`FormulaDesign`, kept as the model's ``feature_encoding_``,
applies the same design to any later frame: the categories and the state of
stateful transforms (``center``, ``scale``, ``bs``, ...) are those learned
in ``fit``.

**The intercept** is the formula's: formulaic's ``Intercept`` column is
dropped from the matrix and becomes the model's own (unpenalised)
intercept, so the formula and ``fit_intercept`` must agree (``0 +`` or
``- 1`` in the formula, ``fit_intercept=False`` in the model).

**Model files, without pickle.** formulaic's ``ModelSpec`` holds Python
objects (contrast classes, parsed terms) that only pickle could store. The
file stores instead what the design depends on: the formula as written, the
kind of each factor, the categories of the categorical ones and the state
of the stateful transforms, all plain JSON; loading rebuilds the
``ModelSpec`` from them and checks that it makes the same columns. Contrasts
follow from the formula and the categories, so they come back too.

**Missing values** are an error (formulaic's ``na_action="raise"``): a
prediction must have one row per input row. **An unseen category** is
reported as for columns (:class:`~softmax._errors.UnknownCategoryWarning`, or
an :class:`~softmax._errors.UnknownCategoryError` with
``handle_unknown="error"``); formulaic then encodes the value as missing,
that is all-zero contrasts: the reference level under treatment coding.

Expressions may use formulaic's transforms (``C``, ``center``, ``scale``,
``bs``, ``poly``, ...) and NumPy as ``np`` (``np.log(body_mass_g)``).
"""

from __future__ import annotations

import ast
import copy
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from .columns import check_handle_unknown, codes, distinct, report_unknown

__all__ = ["FormulaDesign", "formula_columns", "formula_has_intercept"]

_CONTEXT = {"np": np}  # what a formula's expressions may call besides formulaic's transforms
_INTERCEPT = "Intercept"  # formulaic's name for the intercept column
# A factor that reads one column: ``island`` or ``C(island)``, ``C(island, ...)``.
_ONE_COLUMN = re.compile(r"(?:C\(\s*)?([A-Za-z_][A-Za-z0-9_.]*)\s*(?:[,)].*)?")
# How formulaic's DataMismatchWarning lists the values: a Python set literal.
_SET_LITERAL = re.compile(r"\{.*?\}")


def _formulaic():
    try:
        import formulaic
    except ImportError:
        raise SoftmaxInputError(
            "Formulas need the optional package formulaic; install it with "
            "pip install 'softmax[formula]'."
        ) from None
    return formulaic


def _parse(formula: str):
    """(right-hand side, label column or None) of a formula."""
    formulaic = _formulaic()
    if not isinstance(formula, str) or not formula.strip():
        raise SoftmaxInputError(f"A formula is a non-empty string, not {formula!r}.")
    try:
        parsed = formulaic.Formula(formula)
    except (formulaic.errors.FormulaicError, ValueError) as exc:
        raise SoftmaxInputError(f"Cannot parse the formula {formula!r}: {exc}") from None
    if not hasattr(parsed, "lhs"):
        return parsed, None
    from formulaic.parser.types import Factor

    terms = list(parsed.lhs)
    factors = terms[0].factors if len(terms) == 1 else ()
    if len(factors) != 1 or factors[0].eval_method != Factor.EvalMethod.LOOKUP:
        raise SoftmaxInputError(
            f"The left-hand side of {formula!r} must name the label column (such as "
            "'species ~ ...'), not an expression or several columns."
        )
    return parsed.rhs, str(factors[0].expr)


def formula_has_intercept(formula: str) -> bool:
    """Whether the right-hand side of `formula` has an intercept (no ``0 +``, no ``- 1``)."""
    rhs, _ = _parse(formula)
    return any(str(term) == "1" for term in rhs)


def formula_columns(formula: str, data: pd.DataFrame) -> tuple[list[str], str | None]:
    """The columns of `data` that the right side of `formula` reads, and its label column.

    The columns come in the order of `data`. formulaic tells them reliably
    only once the design is built (a parsed formula leaves out the arguments
    of ``center(x)``), so this builds it, letting missing values through: a
    reader can then check or drop them in these columns only.
    """
    formulaic = _formulaic()
    rhs, target = _parse(formula)
    _check_frame(data)
    matrix = _materialize(
        lambda: formulaic.model_matrix(
            rhs, data, context=_CONTEXT, na_action="ignore", output="pandas"
        ),
        formula,
    )
    used = matrix.model_spec.required_variables
    return [str(c) for c in data.columns if c in used], target


@dataclass(frozen=True)
class FormulaDesign:
    """A formula's design, learned on a training frame (see the module docstring).

    Attributes
    ----------
    formula : str
        The formula as written.
    target : str or None
        The label column named by the left-hand side.
    feature_names_in : list of str
        The columns of the training frame that the formula reads, in frame order.
    names_out : list of str
        formulaic's column names, one per feature (column of ``coef_``),
        without ``Intercept``.
    intercept : bool
        Whether the formula has an intercept.
    factors : tuple of (str, str, tuple or None)
        Each factor's expression, formulaic kind and, for a categorical
        one, its categories.
    transform_state : dict
        The state of stateful transforms, as formulaic keeps it.
    """

    formula: str
    target: str | None
    feature_names_in: list[str]
    names_out: list[str]
    intercept: bool
    factors: tuple[tuple[str, str, tuple | None], ...]
    transform_state: dict = field(default_factory=dict)

    @classmethod
    def learn(cls, formula: str, data: Any) -> tuple[FormulaDesign, NDArray, pd.Series | None]:
        """The design of `formula` on `data`: (design, features, labels or None).

        The labels are the column that the left side names, None without a
        left side or when `data` lacks that column.

        Raises
        ------
        SoftmaxInputError
            If formulaic is not installed, the formula does not parse or
            names a missing column, or `data` is not a DataFrame or has a
            missing value in a column the formula reads.
        """
        formulaic = _formulaic()
        rhs, target = _parse(formula)
        _check_frame(data)
        matrix = _materialize(
            lambda: formulaic.model_matrix(
                rhs, data, context=_CONTEXT, na_action="raise", output="pandas"
            ),
            formula,
        )
        spec = matrix.model_spec
        factors = tuple(
            (str(expr), kind.value, _categories(state))
            for expr, (kind, state) in spec.encoder_state.items()
        )
        columns = [str(c) for c in matrix.columns]
        design = cls(
            formula=formula,
            target=target,
            feature_names_in=[str(c) for c in data.columns if c in spec.required_variables],
            names_out=[c for c in columns if c != _INTERCEPT],
            intercept=_INTERCEPT in columns,
            factors=factors,
            transform_state=copy.deepcopy(spec.transform_state),
        )
        values = matrix[design.names_out].to_numpy(dtype=np.float64)
        return design, values, data[target] if target in data.columns else None

    @cached_property
    def spec(self):
        """formulaic's ``ModelSpec``, rebuilt from the stored state."""
        formulaic = _formulaic()
        from formulaic.parser.types import Factor

        rhs, _ = _parse(self.formula)
        encoder_state = {
            expr: (Factor.Kind(kind), {} if levels is None else {"categories": list(levels)})
            for expr, kind, levels in self.factors
        }
        return formulaic.ModelSpec(
            formula=rhs, na_action="raise", output="pandas", encoder_state=encoder_state,
            transform_state=copy.deepcopy(self.transform_state),
        )  # fmt: skip

    def transform(self, X: pd.DataFrame, handle_unknown: str = "warn") -> NDArray[np.float64]:
        """The features of the rows of `X`: the formula's design, as in training.

        Parameters
        ----------
        X : pandas.DataFrame
            Holds every column the formula reads (others are ignored).
        handle_unknown : {"warn", "error"}, default="warn"
            What a category not seen in training does (see the module docstring).

        Returns
        -------
        features : ndarray of shape (n_samples, len(names_out)), float64

        Raises
        ------
        SoftmaxInputError
            If `X` lacks a column or has a missing value the formula reads, or
            the design does not come out with the model's columns;
            :class:`UnknownCategoryError` as ``handle_unknown`` says.
        """
        check_handle_unknown(handle_unknown)
        _check_frame(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            matrix = _materialize(
                lambda: self.spec.get_model_matrix(X, context=_CONTEXT), self.formula
            )
        self._report(X, caught, handle_unknown)
        columns = [str(c) for c in matrix.columns]
        if [c for c in columns if c != _INTERCEPT] != self.names_out:
            raise SoftmaxInputError(
                f"The formula {self.formula!r} makes the columns {columns} on this data, but the "
                f"model has {self.names_out}; a column may hold values of another kind than in "
                "training."
            )
        return matrix[self.names_out].to_numpy(dtype=np.float64)

    def _report(self, X: pd.DataFrame, caught: list, handle_unknown: str) -> None:
        """Pass on formulaic's warnings, its unseen categories as ours (named by term)."""
        formulaic = _formulaic()
        unseen = formulaic.errors.DataMismatchWarning
        mismatch = [w for w in caught if issubclass(w.category, unseen)]
        for w in caught:
            # pandas' deprecation of what formulaic does with unseen categories is noise
            # once those are reported.
            if w not in mismatch and not (mismatch and "Categorical" in str(w.message)):
                warnings.warn(w.message, w.category, stacklevel=6)
        if not mismatch:
            return
        unknown: dict[str, list] = {}
        for expr, _, categories in self.factors:
            one = _ONE_COLUMN.fullmatch(expr)
            if categories is None or one is None or one.group(1) not in X.columns:
                continue
            values = X[one.group(1)]
            new = codes(values, categories) < 0
            if new.any():
                unknown[f"term {expr!r}"] = distinct(values[new])
        if not unknown:  # an expression over several columns: the values formulaic names
            named = _SET_LITERAL.search(str(mismatch[0].message))
            try:
                values = ast.literal_eval(named.group(0)) if named else set()
            except (ValueError, SyntaxError):  # values whose repr is not a literal
                values = {named.group(0)}
            unknown["the formula's categorical terms"] = sorted(values, key=str)
        # stacklevel 6: the user's call, above predict, _raw, the design matrix, transform, here.
        report_unknown(
            unknown, handle_unknown, "formulaic encodes them as missing (all-zero contrasts: "
            "the reference level under treatment coding)", stacklevel=6,
        )  # fmt: skip

    def to_file(self) -> dict[str, Any]:
        """The design as plain values, for a model file (:mod:`softmax.io.model_file`)."""
        return {
            "kind": "formula",
            "formula": self.formula,
            "target": self.target,
            "variables": list(self.feature_names_in),
            "columns": list(self.names_out),
            "intercept": self.intercept,
            "factors": [
                [expr, kind, None if levels is None else list(levels)]
                for expr, kind, levels in self.factors
            ],
            "transform_state": self.transform_state,
        }

    @classmethod
    def from_file(cls, fields: dict[str, Any]) -> FormulaDesign:
        """Inverse of :meth:`to_file`; ValueError if `fields` is not what it writes."""
        keys = {"kind", "formula", "target", "variables", "columns", "intercept", "factors",
                "transform_state"}  # fmt: skip
        if set(fields) != keys:
            raise ValueError("bad formula design")
        factors = fields["factors"]
        if not (
            isinstance(fields["formula"], str)
            and isinstance(fields["target"], (str, type(None)))
            and _strings(fields["variables"])
            and _strings(fields["columns"])
            and isinstance(fields["intercept"], bool)
            and isinstance(fields["transform_state"], dict)
            and isinstance(factors, list)
            and all(
                isinstance(f, list) and len(f) == 3 and isinstance(f[0], str)
                and f[1] in ("constant", "numerical", "categorical")
                and (f[2] is None or isinstance(f[2], list))
                for f in factors
            )
        ):  # fmt: skip
            raise ValueError("bad formula design")
        return cls(
            formula=fields["formula"],
            target=fields["target"],
            feature_names_in=list(fields["variables"]),
            names_out=list(fields["columns"]),
            intercept=fields["intercept"],
            factors=tuple((e, k, None if c is None else tuple(c)) for e, k, c in factors),
            transform_state=fields["transform_state"],
        )


def _strings(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)


def _categories(state: dict) -> tuple | None:
    """A categorical factor's categories as plain values (JSON), None for other factors."""
    if "categories" not in state:
        return None
    return tuple(v.item() if isinstance(v, np.generic) else v for v in state["categories"])


def _check_frame(data: Any) -> None:
    if not isinstance(data, pd.DataFrame):
        raise SoftmaxInputError(
            f"A model with a formula reads its columns by name, so X must be a pandas "
            f"DataFrame, not a {type(data).__name__}."
        )


def _materialize(build, formula: str):
    """Run formulaic's `build`, its errors turned into one sentence."""
    formulaic = _formulaic()
    try:
        return build()
    except (formulaic.errors.FormulaicError, ValueError, TypeError, KeyError) as exc:
        detail = " ".join(str(exc).split()).rstrip(".")
        advice = "; drop the rows with missing values first" if "null values" in detail else ""
        raise SoftmaxInputError(
            f"Cannot build the design of the formula {formula!r} on this data: {detail}{advice}."
        ) from None
