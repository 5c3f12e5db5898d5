"""CSV and Parquet tables: which columns are features, and their values checked.

The files are read by :mod:`softmax.io.table_files` (:func:`open_table`,
:func:`read_frame`, :func:`read_chunks`, re-exported here);
:func:`checked_rows` converts and checks the feature and label columns of a
frame or a chunk into numbers, and :func:`checked_frame` does the same but
keeps text columns as text (categorical features, which the estimator
one-hot encodes: :mod:`softmax.model.columns`). So a file gets the same
checks and the same messages whether :mod:`softmax.datasets` reads it whole
or :mod:`softmax.io.streaming` reads it in chunks, and every message names
the row as the user finds it: the line in a CSV file (the header is line 1,
one line per record assumed), the 0-based row in a Parquet file.

**Text or numbers.** When :func:`checked_frame` is left to decide
(``text="auto"``), a column is text when every value present in it is not a
number (``"Torgersen"``, ``"female"``): such a column is a categorical
feature. A column in which some values are numbers and others are not is
reported at its first non-number (``"3,oops"`` is far more often a typo in a
numeric column than a category), and booleans are numbers (0/1). A formula
(``C(column)``) makes a numeric column categorical.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from .table_files import Table, open_table, read_chunks, read_frame

__all__ = [
    "Table",
    "checked_frame",
    "checked_rows",
    "feature_columns",
    "names_for_message",
    "open_table",
    "read_chunks",
    "read_frame",
    "select_features",
    "split_columns",
]


def split_columns(table: Table, target: str | None) -> tuple[list[str], str]:
    """The feature columns and the label column of a table to train on.

    Parameters
    ----------
    table : Table
    target : str or None
        The label column; None means the last column.

    Returns
    -------
    features : list of str
        Every other column.
    target : str
    """
    target = table.columns[-1] if target is None else target
    if target not in table.columns:
        raise SoftmaxInputError(
            f"{table.shown} has no column {target!r}; its columns are "
            f"{names_for_message(table.columns)}."
        )
    features = [c for c in table.columns if c != target]
    if not features:
        raise SoftmaxInputError(
            f"{table.shown} has no feature columns besides the target column {target!r}."
        )
    return features, target


def select_features(
    table: Table, names: Sequence[str] | None, target: str | None
) -> tuple[list[str], str | None]:
    """The feature columns of a table to predict for, and its label column if present.

    Parameters
    ----------
    table : Table
    names : sequence of str or None
        The columns wanted, in this order (a model's ``feature_names_in_``);
        None means every column but the label.
    target : str or None
        A label column, used when the table has it.

    Returns
    -------
    features : list of str
    label : str or None
        `target` when the table has that column, else None.
    """
    label = target if target in table.columns else None
    if names is None:
        features = [c for c in table.columns if c != label]
    else:
        features = [str(c) for c in names]
        missing = [c for c in features if c not in table.columns]
        if missing:
            raise SoftmaxInputError(
                f"{table.shown} lacks the feature column(s) {names_for_message(missing)}; "
                f"its columns are {names_for_message(table.columns)}."
            )
    if not features:
        raise SoftmaxInputError(f"{table.shown} has no feature columns.")
    return features, label


def feature_columns(
    columns: Sequence[str],
    shown: str,
    target: str,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[str]:
    """The feature columns to train on: `features`, or every column but the others.

    Parameters
    ----------
    columns : sequence of str
        The columns of the data, in order.
    shown : str
        The name of the data, for messages.
    target : str
        The label column, never a feature.
    features : sequence of str, optional
        The feature columns, in this order (``--features``).
    drop : sequence of str, default=()
        Columns that are not features (``--drop``); only without `features`.
    exclude : sequence of str, default=()
        Other columns with a role of their own (a weight column).

    Raises
    ------
    SoftmaxInputError
        If a named column is missing, a feature is also the target or
        excluded, both `features` and `drop` are given, or no feature is left.
    """
    if features is not None and drop:
        raise SoftmaxInputError("Give the feature columns (--features) or those to drop "
                                "(--drop), not both.")  # fmt: skip
    roles = {target: "the target column", **{c: "a column of its own role" for c in exclude}}
    clash = [c for c in features or () if c in roles]
    if clash:
        raise SoftmaxInputError(
            f"{names_for_message(clash)} cannot be a feature: it is {roles[clash[0]]}."
        )
    named = [*(features or ()), *drop, *exclude]
    missing = [c for c in dict.fromkeys(named) if c not in columns]
    if missing:
        raise SoftmaxInputError(
            f"{shown} has no column(s) {names_for_message(missing)}; its columns are "
            f"{names_for_message(columns)}."
        )
    if features is not None:
        chosen = list(dict.fromkeys(features))
    else:
        chosen = [c for c in columns if c not in roles and c not in drop]
    if not chosen:
        raise SoftmaxInputError(f"{shown} has no feature columns left to train on.")
    return chosen


def checked_rows(
    table: Table,
    frame: pd.DataFrame,
    features: Sequence[str],
    label: str | None,
    *,
    dropna: bool = False,
    start: int = 0,
) -> tuple[NDArray[np.float64], pd.Series | None, NDArray[np.int64]]:
    """Convert and check the features (and labels) of a frame read from `table`.

    Parameters
    ----------
    table : Table
        Where `frame` was read from, for messages.
    frame : pandas.DataFrame
        The whole file (:func:`read_frame`) or one chunk (:func:`read_chunks`).
    features : sequence of str
        Feature columns: numbers or booleans (as 0/1).
    label : str or None
        The label column, if any.
    dropna : bool, default=False
        Drop the rows with a missing feature value or label instead of
        reporting the first one.
    start : int, default=0
        The data row of the frame's first row.

    Returns
    -------
    values : ndarray of shape (n_kept, n_features)
        The features as float64.
    labels : pandas.Series of shape (n_kept,) or None
        The labels as read (strings stay strings); None without `label`.
    rows : ndarray of shape (n_kept,)
        The 0-based data row of each kept row.

    Raises
    ------
    SoftmaxInputError
        At the first non-numeric feature value, else the first missing value
        or label (in reading order), else the first infinite value.
    """
    values, _, labels, rows = _checked(table, frame, features, label, dropna, start, ())
    return values, labels, rows


def checked_frame(
    table: Table,
    frame: pd.DataFrame,
    features: Sequence[str],
    label: str | None,
    *,
    text: Collection[str] | Literal["auto"] = "auto",
    dropna: bool = False,
    start: int = 0,
) -> tuple[pd.DataFrame, pd.Series | None, NDArray[np.int64]]:
    """:func:`checked_rows`, with text columns kept as text (categorical features).

    Parameters
    ----------
    table, frame, features, label, dropna, start
        As for :func:`checked_rows`.
    text : collection of str or "auto", default="auto"
        The feature columns to keep as read (a model's categorical columns:
        only missing values are checked in them); ``"auto"`` keeps each
        column of text, as the module docstring says.

    Returns
    -------
    X : pandas.DataFrame of shape (n_kept, n_features)
        Numbers as float64, the other columns as read; indexed by data row.
    labels : pandas.Series of shape (n_kept,) or None
    rows : ndarray of shape (n_kept,)

    Raises
    ------
    SoftmaxInputError
        As :func:`checked_rows`, for the columns converted to numbers, and at
        the first missing value of any column.
    """
    values, kept, labels, rows = _checked(table, frame, features, label, dropna, start, text)
    # A RangeIndex when no row was dropped: it takes no memory, an index of n rows 8n bytes.
    whole = len(rows) == 0 or rows[-1] - rows[0] + 1 == len(rows)
    index = pd.RangeIndex(start, start + len(rows)) if whole else pd.Index(rows)
    if not kept:  # numbers only: one block, no copy
        X = pd.DataFrame(values, columns=list(features), index=index)
    else:
        X = pd.DataFrame(
            {
                name: kept[name].set_axis(index) if name in kept else pd.Series(values[:, j], index)
                for j, name in enumerate(features)
            },
            index=index,
        )
    return X, None if labels is None else labels.set_axis(index), rows


def _checked(
    table: Table,
    frame: pd.DataFrame,
    features: Sequence[str],
    label: str | None,
    dropna: bool,
    start: int,
    text: Collection[str] | Literal["auto"],
) -> tuple[NDArray[np.float64], dict[str, pd.Series], pd.Series | None, NDArray[np.int64]]:
    """Numbers (NaN where a column is kept as read), the columns kept, labels, data rows."""
    rows = np.arange(start, start + len(frame))
    if dropna:
        used = [*features] if label is None else [*features, label]
        keep = frame[used].notna().all(axis=1).to_numpy()
        if not keep.all():
            frame, rows = frame[keep], rows[keep]
    values = np.empty((len(frame), len(features)), dtype=np.float64)
    not_numbers = np.zeros(values.shape, dtype=bool)
    kept: dict[str, pd.Series] = {}
    for j, name in enumerate(features):
        column = frame[name]
        if _is_text(column) if text == "auto" else name in text:
            kept[name] = column
            # NaN marks its missing values, for the check below; its values stay as read.
            values[:, j] = np.where(column.isna().to_numpy(), np.nan, 0.0)
        else:
            values[:, j], not_numbers[:, j] = _to_float(column)

    hit = _first_true(not_numbers)
    if hit is not None:
        i, j = hit
        raise SoftmaxInputError(
            f"Non-numeric value {frame[features[j]].iat[i]!r} in column {features[j]!r} at "
            f"{table.where(rows[i])} of {table.shown}; a feature column holds numbers, or "
            "text only (a categorical feature), not both."
        )
    labels = None if label is None else frame[label]
    missing = np.isnan(values)
    if labels is not None:
        missing = np.column_stack([missing, labels.isna().to_numpy()])
    hit = _first_true(missing)
    if hit is not None:
        i, j = hit
        what = (
            f"label in target column {label!r}"
            if j == len(features)
            else f"value in column {features[j]!r}"
        )
        raise SoftmaxInputError(
            f"Missing {what} at {table.where(rows[i])} of {table.shown}; drop such rows with "
            "dropna=True (--dropna on the command line)."
        )
    hit = _first_true(np.isinf(values))
    if hit is not None:
        i, j = hit
        raise SoftmaxInputError(
            f"Infinite value {values[i, j]} in column {features[j]!r} at "
            f"{table.where(rows[i])} of {table.shown}; features must be finite."
        )
    return values, kept, labels, rows


def _is_text(column: pd.Series) -> bool:
    """Whether every value present in `column` is text that is not a number."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return False
    if not (dtype.kind == "O" or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)):  # fmt: skip
        return False
    present = column.dropna()
    if present.empty or pd.api.types.infer_dtype(present, skipna=True) not in (
        "string", "categorical"
    ):  # fmt: skip
        return False
    numbers = pd.to_numeric(present.astype(object), errors="coerce")
    return bool(numbers.isna().all())


def _to_float(column: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """One column as float64 of shape (n,), and a mask of the values that are
    present but not numbers (NaN in the result marks the missing ones)."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    ):
        return column.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(column), bool)
    present = column.notna().to_numpy()
    if dtype.kind in "mM":  # pandas would turn dates into nanosecond counts
        return np.full(len(column), np.nan), present
    try:
        numbers = pd.to_numeric(column.astype(object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError):  # values such as lists, which to_numeric cannot coerce
        return np.full(len(column), np.nan), present
    return numbers, np.isnan(numbers) & present


def _first_true(mask: NDArray[np.bool_]) -> tuple[int, int] | None:
    """First (row, column) where a 2-D mask is true, in reading order."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    return int(rows[0]), int(np.flatnonzero(mask[rows[0]])[0])


def names_for_message(columns: Sequence[str], limit: int = 8) -> str:
    """Column names for a message; long lists (64 pixels) are cut to one line.

    Examples
    --------
    >>> names_for_message(["length", "width"])
    "'length', 'width'"
    >>> names_for_message([f"pixel{i}" for i in range(64)], limit=2)
    "'pixel0', 'pixel1', ... (62 more)"
    """
    shown = ", ".join(repr(c) for c in list(columns)[:limit])
    return shown if len(columns) <= limit else f"{shown}, ... ({len(columns) - limit} more)"
