"""Columns of a table as features: text, categories and booleans one-hot encoded.

:class:`SoftmaxRegression` takes a pandas DataFrame whose columns may hold
numbers, text (object or string dtype), pandas categories or booleans.
:func:`learn_encoding` decides, in ``fit``, what each column is and learns
the categories; the :class:`ColumnEncoding` it returns is kept as the
model's ``feature_encoding_`` and turns any later frame into the float64
matrix that the maths layers see (they never see a table):

* a **numeric** column passes through as one feature named after it;
* a **boolean** column becomes one 0/1 feature named after it;
* a **text** or **categorical** column becomes one 0/1 feature per category
  seen in training (all of them, sorted, as scikit-learn's ``OneHotEncoder``
  with ``categories="auto"`` does; no reference level is dropped, since the
  penalty or the symmetric parametrisation identifies the coefficients),
  named ``column[category]``, e.g. ``island[Dream]``.

A frame whose columns are all numbers (or booleans, which scikit-learn
already reads as 0/1) needs no encoding: :func:`learn_encoding` returns None
and the estimator behaves exactly as for a NumPy array.

**Unseen categories.** A category not seen in training gets an all-zero row
in its column's features (the model then scores that column as if it were
absent) and an :class:`~softmax._errors.UnknownCategoryWarning` naming the
column and the values, or, with ``handle_unknown="error"``, an
:class:`~softmax._errors.UnknownCategoryError`: the behaviour of
``OneHotEncoder(handle_unknown="warn")`` and ``"error"``.

**Missing values** in a text, categorical or boolean column are an error,
not a category of their own: a missing value has no stable meaning between
the data a model is fitted on and the data it predicts for, and an implicit
"missing" category would silently absorb data errors. Fill them in with a
value of your own (``X["sex"].fillna("unknown")``) to make them one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import SoftmaxInputError, UnknownCategoryError, UnknownCategoryWarning

__all__ = [
    "HANDLE_UNKNOWN", "Column", "ColumnEncoding", "check_handle_unknown", "codes", "distinct",
    "learn_encoding", "report_unknown",
]  # fmt: skip

#: What ``handle_unknown`` may be.
HANDLE_UNKNOWN = ("warn", "error")
_KINDS = ("numeric", "bool", "category")
_SHOWN = 8  # values and rows named in a message


@dataclass(frozen=True)
class Column:
    """One input column and how it becomes features.

    Attributes
    ----------
    name : str
        The column name.
    kind : {"numeric", "bool", "category"}
        Numbers pass through, booleans become 0/1, categories one-hot columns.
    categories : tuple or None
        For ``"category"``: the categories seen in training, sorted; None otherwise.
    """

    name: str
    kind: Literal["numeric", "bool", "category"]
    categories: tuple | None = None

    @property
    def names_out(self) -> list[str]:
        """The names of this column's features."""
        if self.kind != "category":
            return [self.name]
        return [f"{self.name}[{category}]" for category in self.categories]


@dataclass(frozen=True)
class ColumnEncoding:
    """How the columns of a table become the model's features (see the module docstring).

    Attributes
    ----------
    columns : tuple of Column
        The input columns, in the order of ``feature_names_in_``.
    """

    columns: tuple[Column, ...]

    @property
    def feature_names_in(self) -> list[str]:
        """The input column names."""
        return [column.name for column in self.columns]

    @property
    def names_out(self) -> list[str]:
        """One name per feature (column of ``coef_``): ``bill_length_mm``, ``island[Dream]``."""
        return [name for column in self.columns for name in column.names_out]

    def transform(self, X: pd.DataFrame, handle_unknown: str = "warn") -> NDArray[np.float64]:
        """The features of the rows of `X`, as the model sees them.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_columns)
            Holds every column of :attr:`feature_names_in` (found by name;
            other columns are ignored).
        handle_unknown : {"warn", "error"}, default="warn"
            What a category not seen in training does (see the module docstring).

        Returns
        -------
        features : ndarray of shape (n_samples, len(names_out)), float64
            Missing numbers stay NaN, for the caller's check of the numbers.

        Raises
        ------
        SoftmaxInputError
            If `X` is not a DataFrame, lacks a column, or has a missing value
            in a text, categorical or boolean column, or a value of the wrong
            kind; :class:`UnknownCategoryError` for unseen categories with
            ``handle_unknown="error"``.
        """
        check_handle_unknown(handle_unknown)
        _check_frame(X, self.feature_names_in)
        out = np.zeros((len(X), len(self.names_out)), dtype=np.float64)
        unknown: dict[str, list] = {}
        start = 0
        for column in self.columns:
            values = X[column.name]
            width = len(column.names_out)
            if column.kind == "numeric":
                out[:, start] = _numbers(values, column.name)
            else:
                _refuse_missing(values, column.name)
                if column.kind == "bool":
                    out[:, start] = _booleans(values, column.name)
                else:
                    found = codes(values, column.categories)
                    known = found >= 0
                    out[np.flatnonzero(known), start + found[known]] = 1.0
                    if not known.all():
                        unknown[f"column {column.name!r}"] = distinct(values[~known])
            start += width
        if unknown:
            # stacklevel 5: the user's call, above predict, _raw, the design matrix and here.
            report_unknown(unknown, handle_unknown, "their rows get all-zero indicators for that "
                           "column", stacklevel=5)  # fmt: skip
        return out

    def to_file(self) -> dict[str, Any]:
        """The encoding as plain JSON values, for a model file (:mod:`softmax.io.model_file`)."""
        return {
            "kind": "columns",
            "columns": [
                {
                    "name": column.name,
                    "kind": column.kind,
                    "categories": None if column.categories is None else list(column.categories),
                }
                for column in self.columns
            ],
        }

    @classmethod
    def from_file(cls, fields: dict[str, Any]) -> ColumnEncoding:
        """Inverse of :meth:`to_file`; ValueError if `fields` is not what it writes."""
        entries = fields.get("columns")
        if set(fields) != {"kind", "columns"} or not isinstance(entries, list) or not entries:
            raise ValueError("bad column encoding")
        columns = []
        for entry in entries:
            if not (
                isinstance(entry, dict)
                and set(entry) == {"name", "kind", "categories"}
                and isinstance(entry["name"], str)
                and entry["kind"] in _KINDS
            ):
                raise ValueError("bad column encoding")
            categories = entry["categories"]
            if entry["kind"] == "category":
                if not (isinstance(categories, list) and categories):
                    raise ValueError("bad column encoding")
                if not all(isinstance(c, (str, int, float, bool)) for c in categories):
                    raise ValueError("bad column encoding")
                if len({(type(c), c) for c in categories}) != len(categories):
                    raise ValueError("bad column encoding")
                categories = tuple(categories)
            elif categories is not None:
                raise ValueError("bad column encoding")
            columns.append(Column(entry["name"], entry["kind"], categories))
        if len({column.name for column in columns}) != len(columns):
            raise ValueError("bad column encoding")
        return cls(tuple(columns))


def learn_encoding(X: Any) -> ColumnEncoding | None:
    """The encoding of a training table, or None when `X` needs none.

    Parameters
    ----------
    X : any
        Training features. Only a pandas DataFrame with a text, categorical
        or boolean column (and at least one text or categorical column) is
        encoded; anything else is left to scikit-learn's checks.

    Raises
    ------
    SoftmaxInputError
        For a column that mixes text with other values, a column of another
        kind (dates, ...), duplicate or non-string column names, or missing
        values in a text, categorical or boolean column.
    """
    if not isinstance(X, pd.DataFrame):
        return None
    if all(_plain_number(dtype) for dtype in X.dtypes):
        return None  # the usual frame of numbers, told without looking at its values
    kinds = [_kind(X.iloc[:, j], X.columns[j]) for j in range(X.shape[1])]
    if "category" not in kinds:
        return None  # numbers and booleans: scikit-learn reads them as they are
    names = [str(name) for name in X.columns]
    if not all(isinstance(name, str) for name in X.columns) or len(set(names)) != len(names):
        raise SoftmaxInputError(
            "A table with text or categorical columns needs distinct string column names; "
            f"its columns are {list(X.columns)!r}."
        )
    columns = []
    for name, kind in zip(names, kinds):
        categories = None
        if kind != "numeric":
            _refuse_missing(X[name], name)
        if kind == "category":
            categories = _sorted_categories(X[name], name)
        columns.append(Column(name, kind, categories))
    return ColumnEncoding(tuple(columns))


# -- what a column holds ------------------------------------------------------------------


def _plain_number(dtype) -> bool:
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
        and not isinstance(dtype, pd.CategoricalDtype)
    )


def _kind(values: pd.Series, name: Any) -> str:
    """``"numeric"``, ``"bool"`` or ``"category"``: what the column holds."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if _plain_number(dtype):
        return "numeric"
    if dtype.kind == "O" or pd.api.types.is_string_dtype(dtype):
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "string":
            return "category"
        if inferred == "boolean":
            return "bool"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
            return "numeric"  # numbers held as objects: scikit-learn converts them
        if inferred in ("mixed", "mixed-integer"):
            raise SoftmaxInputError(
                f"Column {name!r} mixes text with other values (such as "
                f"{_listed(distinct(values.dropna())[:3])}); a column holds numbers, text, "
                "categories or booleans, one kind only."
            )
    raise SoftmaxInputError(
        f"Column {name!r} has dtype {dtype}, which is neither numbers, text, categories nor "
        "booleans; convert it (dates, for instance, into numbers) before fitting."
    )


def _sorted_categories(values: pd.Series, name: str) -> tuple:
    present = values.cat.remove_unused_categories().cat.categories if isinstance(
        values.dtype, pd.CategoricalDtype
    ) else values.unique()
    found = [v.item() if isinstance(v, np.generic) else v for v in present]
    try:
        return tuple(sorted(found))
    except TypeError:  # categories of mixed types (a pandas Categorical can hold them)
        raise SoftmaxInputError(
            f"Column {name!r} holds categories of different types ({_listed(found[:3])}), "
            "which have no order; make them all text."
        ) from None


def _check_frame(X: Any, names: Sequence[str]) -> None:
    if not isinstance(X, pd.DataFrame):
        raise SoftmaxInputError(
            "This model encodes table columns by name (see feature_encoding_), so X must be "
            f"a pandas DataFrame with the columns {_listed(names)}, not a "
            f"{type(X).__name__}."
        )
    missing = [name for name in names if name not in X.columns]
    if missing:
        raise SoftmaxInputError(
            f"X lacks the column(s) {_listed(missing)} that the model was fitted on; "
            f"its columns are {_listed([str(c) for c in X.columns])}."
        )


def _refuse_missing(values: pd.Series, name: str) -> None:
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        rows = ", ".join(str(values.index[i]) for i in missing[:_SHOWN])
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        raise SoftmaxInputError(
            f"Column {name!r} has {len(missing)} missing value(s) (rows {rows}{more}); a text, "
            "categorical or boolean column needs a value in every row: drop those rows, or "
            f"fill them in (X[{name!r}].fillna('unknown') makes them a category)."
        )


def _numbers(values: pd.Series, name: str) -> NDArray[np.float64]:
    try:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise SoftmaxInputError(
            f"Column {name!r} held numbers when the model was fitted, but it holds "
            f"{_listed(distinct(values.dropna())[:3])} here."
        ) from None


def _booleans(values: pd.Series, name: str) -> NDArray[np.float64]:
    # True/False, or the 0/1 a table reader may have made of them.
    numbers = pd.to_numeric(values.astype(object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    wrong = ~np.isin(numbers, (0.0, 1.0))
    if wrong.any():
        raise SoftmaxInputError(
            f"Column {name!r} held booleans when the model was fitted, but it holds "
            f"{_listed(distinct(values[wrong])[:3])} here."
        )
    return numbers


def codes(values: pd.Series, categories: tuple) -> NDArray[np.intp]:
    """Position of each value among `categories`; -1 for one not among them."""
    if all(isinstance(c, str) for c in categories) and not pd.api.types.is_string_dtype(
        values.dtype
    ):
        # Text categories read back as numbers (a table reader's guess): compare as text.
        values = values.astype(str)
    return pd.Index(categories, dtype=object).get_indexer(values.astype(object))


def distinct(values: pd.Series) -> list:
    """The distinct values of `values` as Python objects, sorted as text (for messages)."""
    found = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(values.to_numpy())]
    return sorted(found, key=str)


def _listed(values: Sequence) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:_SHOWN])
    return shown if len(values) <= _SHOWN else f"{shown}, ... ({len(values) - _SHOWN} more)"


def check_handle_unknown(value: str) -> None:
    """ValueError unless `value` is one of :data:`HANDLE_UNKNOWN` (it may be set after fit)."""
    if value not in HANDLE_UNKNOWN:
        raise ValueError(
            f"handle_unknown must be one of {', '.join(HANDLE_UNKNOWN)}, not {value!r}."
        )


def report_unknown(
    unknown: dict[str, list], handle_unknown: str, consequence: str, stacklevel: int
) -> None:
    """Warn about (or, with ``handle_unknown="error"``, refuse) categories not seen in training.

    Parameters
    ----------
    unknown : dict
        Where (``"column 'island'"``) -> the values not seen there.
    handle_unknown : {"warn", "error"}
    consequence : str
        What the features of those rows are, for the warning.
    stacklevel : int
        Of the warning as the caller would give it, so that it points at the user's call.
    """
    found = "; ".join(f"{where}: {_listed(values)}" for where, values in unknown.items())
    if handle_unknown == "error":
        raise UnknownCategoryError(
            f"Categories not seen in training: {found}. The model has no coefficients for "
            "them; handle_unknown='warn' (no --strict) scores such rows all the same."
        )
    warnings.warn(
        f"Categories not seen in training: {found}; {consequence} (handle_unknown='error', "
        "or --strict, refuses them).",
        UnknownCategoryWarning,
        stacklevel=stacklevel + 1,
    )
