"""CSV and Parquet files: one reader for data read whole and data streamed in chunks.

:func:`open_table` tells the format and reads the header; :func:`read_frame`
reads the whole file and :func:`read_chunks` consecutive chunks of it, both
turning every failure into one :class:`~softmax._errors.SoftmaxInputError`
sentence. What the columns hold is checked by :mod:`softmax.io.tables`,
which re-exports these names (the package's front door to tables).

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

import pandas as pd

from .._errors import SoftmaxInputError
from .._optional import require
from .sources import readable

__all__ = ["Table", "open_table", "read_chunks", "read_frame"]

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
        # Deferred: 40 ms of the command line's start-up, and an optional extra.
        pq = require("pyarrow.parquet", "parquet", "Reading Parquet files")

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
    if table.is_csv:
        parquet_errors = ()
    else:
        pyarrow = require("pyarrow", "parquet", "Reading Parquet files")
        parquet_errors = (pyarrow.ArrowException, ValueError)
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
        pq = require("pyarrow.parquet", "parquet", "Reading Parquet files")

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
