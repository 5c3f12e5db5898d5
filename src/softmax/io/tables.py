"""CSV and Parquet tables: one reader for data read whole and data streamed in chunks.

:func:`open_table` tells the format and reads the header; :func:`read_frame`
reads the whole file and :func:`read_chunks` consecutive chunks of it, both
turning every failure into one :class:`~softmax._errors.SoftmaxInputError`
sentence; :func:`checked_rows` converts and checks the feature and label
columns of a frame or a chunk. So a file gets the same checks and the same
messages whether :mod:`softmax.datasets` reads it whole or
:mod:`softmax.io.streaming` reads it in chunks, and every message names the
row as the user finds it: the line in a CSV file (the header is line 1, one
line per record assumed), the 0-based row in a Parquet file.

Formats: ``.parquet`` and ``.pq`` files, and any file that starts with the
Parquet magic bytes, are Parquet; anything else is CSV with a header line
(compressed CSV such as ``.csv.gz`` too). Standard input (``-``), pipes and
devices are read once, into a temporary file (:mod:`softmax.io.sources`).
Every data row of a CSV file has at most one field per header name: pandas
would take a first row with one field more for row labels, silently.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from typing import IO

import numpy as np
import pandas as pd
import pyarrow
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from .sources import readable

__all__ = [
    "Table",
    "checked_rows",
    "names_for_message",
    "open_table",
    "read_chunks",
    "read_frame",
    "select_features",
    "split_columns",
]

_PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
_PARQUET_MAGIC = b"PAR1"
# How pandas' C parser words a row with more fields than the header has names.
_TOO_MANY_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclasses.dataclass(frozen=True)
class Table:
    """A CSV or Parquet file whose header has been read.

    Attributes
    ----------
    path : pathlib.Path
        The regular file to read: the user's, or the copy of a stream.
    shown : str
        The path as the user gave it, for messages.
    is_csv : bool
        CSV, else Parquet.
    columns : list of str
        The column names, in file order.
    n_rows : int or None
        The number of data rows where the file stores it (Parquet), else None.
    spool : file object or None
        The open temporary copy of a stream (standard input, a pipe), which
        lives as long as the table; None for a regular file.
    """

    path: pathlib.Path
    shown: str
    is_csv: bool
    columns: list[str] = dataclasses.field(default_factory=list)
    n_rows: int | None = None
    spool: IO[bytes] | None = dataclasses.field(default=None, compare=False, repr=False)

    def where(self, *rows: int) -> str:
        """0-based data rows as the user finds them: ``"line 5"``, ``"lines 5, 9"``, ``"row 3"``."""
        # A CSV file's header is line 1, so data row 0 is on line 2.
        unit, first = ("line", 2) if self.is_csv else ("row", 0)
        plural = "s" if len(rows) > 1 else ""
        return f"{unit}{plural} {', '.join(str(row + first) for row in rows)}"


def open_table(path: str | os.PathLike | Table) -> Table:
    """Open a CSV or Parquet file (by suffix or magic bytes) and read its header.

    Parameters
    ----------
    path : str, os.PathLike or Table
        A file, a FIFO or device, ``"-"`` for standard input (these three are
        read once, into a temporary file), or a table already open, returned
        as it is (so that a command reads a stream once).

    Raises
    ------
    SoftmaxInputError
        If the file is missing, a directory, empty or unreadable, or the first
        data row of a CSV file has more fields than the header has names.
    """
    if isinstance(path, Table):
        return path
    file, shown, spool = readable(path)
    # Reading the magic bytes can only raise an OSError, worded alike for either format.
    with _reported(Table(file, shown, is_csv=True)):
        is_csv = file.suffix.lower() not in _PARQUET_SUFFIXES and not _parquet_magic(file)
    table = Table(file, shown, is_csv, spool=spool)
    with _reported(table):
        if is_csv:
            header = pd.read_csv(file, nrows=0, index_col=False).columns
            # Without a header the C parser counts line 2's fields against line 1's,
            # as it does for every later line when reading rows.
            pd.read_csv(file, header=None, nrows=2, dtype=str)
            return dataclasses.replace(table, columns=[str(c) for c in header])
        import pyarrow.parquet as pq  # deferred: 40 ms of the command line's start-up

        meta = pq.ParquetFile(file)
        return dataclasses.replace(
            table, columns=list(meta.schema_arrow.names), n_rows=meta.metadata.num_rows
        )


def _parquet_magic(file: pathlib.Path) -> bool:
    with file.open("rb") as handle:
        return handle.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC


@contextlib.contextmanager
def _reported(table: Table, start: int = 0) -> Iterator[None]:
    """Turn a failure to read `table`, from data row `start` on, into one sentence."""
    # Past a Parquet file's first chunk, say how far reading got: the damage is there
    # or later. (CSV messages have their exact line.)
    near = f" at or after {table.where(start)}" if start else ""
    parquet_errors = () if table.is_csv else (pyarrow.ArrowException, ValueError)
    try:
        yield
    except parquet_errors as exc:
        # pyarrow repeats the path before its reason; keep only the reason.
        detail = str(exc).split("': ", 1)[-1].strip().rstrip(".")
        raise SoftmaxInputError(
            f"{table.shown} is not a readable Parquet file{near}: {detail}."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise SoftmaxInputError(f"{table.shown} is empty.") from exc
    except pd.errors.ParserError as exc:
        # pandas counts lines from the start of the file, chunked or not, and says
        # what it expected there: its line is exact.
        detail = str(exc).strip().removeprefix("Error tokenizing data. C error: ").rstrip(".")
        fields = _TOO_MANY_FIELDS.fullmatch(detail)
        if fields is not None:
            names, line, seen = fields.groups()
            raise SoftmaxInputError(
                f"The header of {table.shown} names {names} columns but line {line} has "
                f"{seen} fields; every row needs one field per column."
            ) from exc
        raise SoftmaxInputError(f"{table.shown} is not a well-formed CSV file: {detail}.") from exc
    except UnicodeDecodeError as exc:
        # pandas decodes in blocks, so its byte offset says nothing; find the line.
        line = _first_non_utf8_line(table)
        where = "" if line is None else f" on line {line}"
        raise SoftmaxInputError(
            f"{table.shown} is not a text CSV file: a byte{where} is not valid UTF-8."
        ) from exc
    except (EOFError, zlib.error) as exc:
        raise SoftmaxInputError(f"{table.shown} is a damaged compressed file: {exc}.") from exc
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot read {table.shown}: {exc.strerror or exc}.") from exc
    except ImportError as exc:  # .csv.zst without the optional zstandard package
        raise SoftmaxInputError(f"Cannot read {table.shown}: {exc}") from exc


def _first_non_utf8_line(table: Table) -> int | None:
    """The 1-based line of the first byte that is not UTF-8, or None if it cannot be told."""
    # UTF-8 never puts a newline byte inside a character: decoding line by line is exact.
    number = 0
    try:
        with pd.io.common.get_handle(
            table.path, "rb", compression="infer", is_text=False
        ) as handles:
            for number, line in enumerate(handles.handle, start=1):
                line.decode("utf-8")
    except UnicodeDecodeError:
        return number
    except (OSError, EOFError, zlib.error):  # damaged compression hides the line
        return None
    return None


def read_frame(table: Table) -> pd.DataFrame:
    """The whole of `table` as one frame, indexed by the 0-based data row.

    Raises
    ------
    SoftmaxInputError
        If the file cannot be read or parsed, or has no data rows.
    """
    with _reported(table):
        # low_memory=False: one pass over the whole file, so that a column gets
        # one dtype, not one per internal chunk.
        frame = (
            pd.read_csv(table.path, low_memory=False, index_col=False)
            if table.is_csv
            else pd.read_parquet(table.path)
        )
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise SoftmaxInputError(f"{table.shown} has no data rows.")
    # A Parquet file written by pandas may bring back an index of its own.
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def read_chunks(
    table: Table, rows: int, columns: Sequence[str] | None = None, label: str | None = None
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(first data row, frame)`` for consecutive chunks of about `rows` rows.

    `columns` restricts what Parquet reads, and CSV too when it is only the
    `label` column (a malformed row is then not noticed: a later pass over
    all columns finds it). The `label` column of a CSV file is read as text,
    so that its type does not depend on the chunk.
    """
    frames = _frames(table, rows, columns, label)
    start = 0
    with contextlib.closing(frames):
        while True:
            with _reported(table, start), warnings.catch_warnings():
                # Mixed types within a chunk are handled (and reported) by checked_rows.
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                frame = next(frames, None)
            if frame is None:
                return
            yield start, frame
            start += len(frame)


def _frames(
    table: Table, rows: int, columns: Sequence[str] | None, label: str | None
) -> Iterator[pd.DataFrame]:
    if not table.is_csv:
        import pyarrow.parquet as pq

        # pre_buffer=False: with it, pyarrow keeps every row group read so far
        # (memory grew with the file: 3.5 GiB for a 2.9 GiB file).
        batches = pq.ParquetFile(table.path, pre_buffer=False).iter_batches(
            batch_size=rows, columns=columns
        )
        for batch in batches:
            yield batch.to_pandas()
        return
    only_label = columns is not None and list(columns) == [label]
    with pd.read_csv(
        table.path,
        chunksize=rows,
        usecols=[label] if only_label else None,
        dtype=None if label is None else {label: str},
        index_col=False,
        engine="c",
    ) as reader:
        yield from reader


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
    rows = np.arange(start, start + len(frame))
    if dropna:
        used = [*features] if label is None else [*features, label]
        keep = frame[used].notna().all(axis=1).to_numpy()
        if not keep.all():
            frame, rows = frame[keep], rows[keep]
    values = np.empty((len(frame), len(features)), dtype=np.float64)
    not_numbers = np.zeros(values.shape, dtype=bool)
    for j, name in enumerate(features):
        values[:, j], not_numbers[:, j] = _to_float(frame[name])

    hit = _first_true(not_numbers)
    if hit is not None:
        i, j = hit
        raise SoftmaxInputError(
            f"Non-numeric value {frame[features[j]].iat[i]!r} in column {features[j]!r} at "
            f"{table.where(rows[i])} of {table.shown}; every feature column must hold numbers."
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
    return values, labels, rows


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
    """Column names for a message; long lists (64 pixels) are cut to one line."""
    shown = ", ".join(repr(c) for c in list(columns)[:limit])
    return shown if len(columns) <= limit else f"{shown}, ... ({len(columns) - limit} more)"
