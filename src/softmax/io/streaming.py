"""Out-of-core files: train on and predict for CSV/Parquet files of any size.

A file is read in chunks of a bounded number of bytes (pandas' chunked C
reader for CSV, ``pyarrow.parquet.ParquetFile.iter_batches`` for Parquet),
so memory does not grow with the file. Training (``softmax fit BIG.csv
--solver sgd``) is:

1. a cheap first pass over the label column only, for the set of labels and
   the row count (skipped when ``--classes`` is given and the count is known:
   Parquet stores it, and ``--alpha`` makes it unnecessary);
2. epochs of mini-batch steps over the chunks
   (:func:`softmax.backends.stream.fit_chunks`), with a progress bar (rows,
   rows/s, loss);
3. a pass over the held-out rows to score the model.

The held-out rows are chosen by a hash of the row number and the seed, so the
split does not depend on the chunk size and needs no memory. Rows are
shuffled within each chunk, not across the file: a file sorted by label
should be shuffled once beforehand.

Anything wrong in a chunk (a malformed row, a non-numeric or missing value)
is a :class:`~softmax._errors.SoftmaxInputError` naming the line (CSV, the
header being line 1) or the 0-based row (Parquet); the model file is
written only after training succeeded, atomically.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import SoftmaxInputError

__all__ = [
    "CHUNK_BYTES",
    "Table",
    "fit_file",
    "open_table",
    "predict_file",
    "read_chunks",
]

#: Bytes of float64 features per chunk; memory stays a small multiple of it.
CHUNK_BYTES = 32 << 20
_PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
_INT = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Table:
    """A data file opened for chunked reading."""

    path: pathlib.Path
    shown: str
    is_csv: bool
    columns: list[str]
    n_rows: int | None  # known for Parquet

    def where(self, row: int) -> str:
        """The 0-based data row ``row`` as the user finds it in the file."""
        return f"line {row + 2}" if self.is_csv else f"row {row}"


def open_table(path: str | os.PathLike) -> Table:
    """Open a CSV or Parquet file (by suffix or magic bytes) and read its header."""
    file, shown = pathlib.Path(path), os.fspath(path)
    if not file.exists():
        raise SoftmaxInputError(f"File {shown} not found.")
    if file.is_dir():
        raise SoftmaxInputError(f"{shown} is a directory, not a data file.")
    with file.open("rb") as handle:
        is_parquet = file.suffix.lower() in _PARQUET_SUFFIXES or handle.read(4) == b"PAR1"
    try:
        if is_parquet:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(file)
            return Table(file, shown, False, list(meta.schema_arrow.names), meta.metadata.num_rows)
        columns = [str(c) for c in pd.read_csv(file, nrows=0).columns]
    except pd.errors.EmptyDataError as exc:
        raise SoftmaxInputError(f"{shown} is empty.") from exc
    except (OSError, ValueError) as exc:
        raise SoftmaxInputError(f"Cannot read {shown}: {exc}.") from exc
    return Table(file, shown, True, columns, None)


def chunk_rows(n_columns: int, batch_size: int = 1) -> int:
    """Rows per chunk: about :data:`CHUNK_BYTES` of float64, whole batches."""
    rows = max(CHUNK_BYTES // (8 * max(n_columns, 1)), batch_size)
    return rows - rows % batch_size if rows >= batch_size else batch_size


def read_chunks(
    table: Table, rows: int, columns: Sequence[str] | None = None, label: str | None = None
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(first data row, frame)`` for consecutive chunks of about ``rows`` rows.

    ``columns`` restricts what Parquet reads, and CSV too when it is only the
    ``label`` column (a malformed row is then not noticed: the training pass
    finds it). The ``label`` column of a CSV file is read as text (see
    :func:`_label_converter`).
    """
    start = 0
    if not table.is_csv:
        import pyarrow
        import pyarrow.parquet as pq

        try:
            # pre_buffer=False: with it, pyarrow keeps every row group read so far
            # (memory grew with the file: 3.5 GiB for a 2.9 GiB file).
            batches = pq.ParquetFile(table.path, pre_buffer=False).iter_batches(
                batch_size=rows, columns=columns
            )
            for batch in batches:
                frame = batch.to_pandas()
                yield start, frame
                start += len(frame)
        except (pyarrow.ArrowException, OSError) as exc:
            raise SoftmaxInputError(
                f"{table.shown} is not a readable Parquet file near {table.where(start)}: {exc}."
            ) from exc
        return
    only_label = columns is not None and list(columns) == [label]
    reader = pd.read_csv(
        table.path,
        chunksize=rows,
        usecols=[label] if only_label else None,
        dtype=None if label is None else {label: str},
        engine="c",
    )
    try:
        while True:
            with warnings.catch_warnings():
                # Mixed types within a chunk are handled (and reported) by chunk_arrays.
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                frame = next(reader, None)
            if frame is None:
                break
            yield start, frame
            start += len(frame)
    except pd.errors.ParserError as exc:
        # pandas counts lines from the start of the file: the line is exact.
        detail = str(exc).strip().removeprefix("Error tokenizing data. C error: ").rstrip(".")
        raise SoftmaxInputError(f"{table.shown} is not a well-formed CSV file: {detail}.") from exc
    except UnicodeDecodeError as exc:
        raise SoftmaxInputError(
            f"{table.shown} is not a text CSV file (not valid UTF-8 after {table.where(start)})."
        ) from exc
    finally:
        reader.close()


# -- checking a chunk ---------------------------------------------------------------------


def chunk_arrays(
    frame: pd.DataFrame, start: int, features: Sequence[str], label: str | None,
    table: Table, dropna: bool, convert=None,
) -> tuple[NDArray, NDArray | None, NDArray]:
    """Float64 features (rows, n_features), labels (rows,) or None, and the row numbers.

    Rows with a missing value are dropped with ``dropna``, else reported.
    """
    rows = np.arange(start, start + len(frame))
    values = np.empty((len(frame), len(features)))
    bad = np.zeros(values.shape, dtype=bool)
    for j, name in enumerate(features):
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            values[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            numbers = pd.to_numeric(column, errors="coerce").to_numpy(np.float64, na_value=np.nan)
            values[:, j] = numbers
            bad[:, j] = np.isnan(numbers) & column.notna().to_numpy()
    if bad.any():
        i, j = _first(bad)
        raise SoftmaxInputError(
            f"Non-numeric value {frame[features[j]].iat[i]!r} in column {features[j]!r} at "
            f"{table.where(rows[i])} of {table.shown}; every feature column must hold numbers."
        )
    labels = None if label is None else frame[label].to_numpy()
    missing = np.isnan(values)
    if labels is not None:
        missing = np.column_stack([missing, pd.isna(labels)])
    if missing.any():
        if not dropna:
            i, j = _first(missing)
            what = f"label in target column {label!r}" if j == len(features) else (
                f"value in column {features[j]!r}"
            )
            raise SoftmaxInputError(
                f"Missing {what} at {table.where(rows[i])} of {table.shown}; drop such rows "
                "with dropna=True (--dropna on the command line)."
            )
        keep = ~missing.any(axis=1)
        values, rows = values[keep], rows[keep]
        labels = None if labels is None else labels[keep]
    if np.isinf(values).any():
        i, j = _first(np.isinf(values))
        raise SoftmaxInputError(
            f"Infinite value {values[i, j]} in column {features[j]!r} at "
            f"{table.where(rows[i])} of {table.shown}; features must be finite."
        )
    if labels is not None and convert is not None:
        labels = convert(labels)
    return values, labels, rows


def _first(mask: NDArray) -> tuple[int, int]:
    i = int(np.flatnonzero(mask.any(axis=1))[0])
    return i, int(np.flatnonzero(mask[i])[0])


def _label_converter(texts: Sequence[str]):
    """How CSV labels (read as text) become labels: int if all are, else float, else str.

    Deciding once for the whole file keeps a label's type from depending on
    which chunk it was in.
    """
    texts = [str(t).strip() for t in texts]
    if all(_INT.fullmatch(t) for t in texts):
        return lambda a: np.array([int(str(v).strip()) for v in a], dtype=np.int64)
    try:
        [float(t) for t in texts]
    except ValueError:
        return lambda a: np.asarray(a, dtype=object).astype(str).astype(object)
    return lambda a: np.asarray(a, dtype=object).astype(np.float64)


def held_out(rows: NDArray, test_size: float, seed: int) -> NDArray:
    """Whether each 0-based row number is in the held-out part (a hash below ``test_size``).

    SplitMix64 of ``row + seed * golden``: independent of chunking, no memory.
    """
    if test_size <= 0:
        return np.zeros(len(rows), dtype=bool)
    z = rows.astype(np.uint64) + np.full(len(rows), seed & (2**64 - 1), np.uint64) * np.uint64(
        0x9E3779B97F4A7C15
    )
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53 < test_size


# -- training ---------------------------------------------------------------------------------


@dataclass
class Scores:
    """Accuracy and log-loss of streamed predictions, from a confusion matrix."""

    classes: NDArray
    confusion: NDArray
    log_loss_sum: float = 0.0

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.n, 1))

    @property
    def log_loss(self) -> float:
        return self.log_loss_sum / max(self.n, 1)


def fit_file(
    path: str | os.PathLike,
    target: str | None,
    *,
    C: float = 1.0,
    alpha: float | None = None,
    batch_size: int = 256,
    classes: Sequence[str] | None = None,
    epochs: int = 5,
    tol: float = 1e-6,
    test_size: float = 0.2,
    seed: int = 0,
    dropna: bool = False,
    progress: bool = True,
):
    """Train ``SoftmaxRegression(solver="sgd")`` on a file, streaming it.

    Returns
    -------
    model : SoftmaxRegression
    scores : Scores
        On the held-out rows (all rows when ``test_size == 0``).
    summary : dict
        Rows read, trained on and held out, for the model file.
    """
    from .._progress import RowProgress
    from ..backends.stream import fit_chunks
    from ..estimator import SoftmaxRegression

    table = open_table(path)
    target = table.columns[-1] if target is None else target
    if target not in table.columns:
        raise SoftmaxInputError(f"{table.shown} has no column {target!r}.")
    features = [c for c in table.columns if c != target]
    if not features:
        raise SoftmaxInputError(f"{table.shown} has no feature columns besides {target!r}.")
    rows = chunk_rows(len(table.columns), batch_size)
    convert = None
    n_train = None
    if classes is not None:
        labels = [c.strip() for c in classes if c.strip()]
        if len(set(labels)) < 2:
            raise SoftmaxInputError("--classes needs at least two distinct labels.")
        convert = _label_converter(labels) if table.is_csv else _parquet_converter(table, target)
        known = np.unique(convert(np.array(labels, dtype=object)))
        if table.n_rows is not None:
            n_train = _count_train(table.n_rows, test_size, seed)
    if classes is None or (n_train is None and alpha is None):
        with RowProgress(table.n_rows, "labels", enabled=progress, show_loss=False) as bar:
            found, counted, n_train = _label_pass(table, target, rows, test_size, seed, dropna, bar)
        if classes is None:
            convert = (
                _label_converter(found) if table.is_csv else _parquet_converter(table, target)
            )
            known = np.unique(convert(np.array(list(found), dtype=object)))
        if known.size < 2:
            raise SoftmaxInputError(f"{table.shown} has fewer than two labels: {known.tolist()}.")
    known_set = set(known.tolist())
    trained = []  # rows trained on in each epoch

    def chunks(_rng):
        trained.append(0)
        for start, frame in read_chunks(table, rows, label=target):
            X, y, numbers = chunk_arrays(frame, start, features, target, table, dropna, convert)
            train = ~held_out(numbers, test_size, seed)
            if classes is not None:
                _check_known(y, numbers, known_set, table)
            trained[-1] += int(train.sum())
            yield X[train], y[train], None

    model = SoftmaxRegression(
        C, solver="sgd", alpha=alpha, batch_size=batch_size, max_iter=epochs, tol=tol,
        random_state=seed,
    )  # fmt: skip
    started = time.perf_counter()
    fit_chunks(
        model, chunks, known, len(features), total_weight=n_train, total_rows=n_train,
        feature_names=features, progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    scores = score_file(model, table, target, features, rows, test_size, seed, dropna, convert)
    n_train = trained[0]  # the first pass's count included rows that dropna dropped
    summary = {
        "n_train": n_train,
        "n_test": scores.n,
        "batch_size": batch_size,
        "epochs": int(model.n_iter_),
        "train_seconds": round(seconds, 3),
    }
    if n_train:
        summary["rows_per_second"] = round(n_train * model.n_iter_ / max(seconds, 1e-9), 1)
    return model, scores, summary


def _parquet_converter(table: Table, target: str):
    """Labels given as text (``--classes``) in the type of a Parquet label column."""
    import pyarrow.parquet as pq

    kind = pq.ParquetFile(table.path).schema_arrow.field(target).type
    if str(kind).startswith(("int", "uint")):
        return lambda a: np.asarray(a).astype(np.int64)
    if str(kind).startswith(("float", "double", "halffloat")):
        return lambda a: np.asarray(a).astype(np.float64)
    if str(kind) == "bool":
        return lambda a: np.asarray(a).astype(bool)
    return lambda a: np.asarray(a, dtype=object).astype(str).astype(object)


def _count_train(n_rows: int, test_size: float, seed: int) -> int:
    step = 1 << 20
    return sum(
        int((~held_out(np.arange(i, min(i + step, n_rows)), test_size, seed)).sum())
        for i in range(0, n_rows, step)
    )


def _label_pass(table, target, rows, test_size, seed, dropna, bar):
    """Distinct labels, rows read and training rows, from the label column alone."""
    found: set = set()
    n = n_train = 0
    for start, frame in read_chunks(table, rows * 8, columns=[target], label=target):
        labels = frame[target]
        missing = labels.isna().to_numpy()
        numbers = np.arange(start, start + len(frame))
        if missing.any():
            if not dropna:
                raise SoftmaxInputError(
                    f"Missing label in target column {target!r} at "
                    f"{table.where(int(numbers[missing][0]))} of {table.shown}; drop such rows "
                    "with dropna=True (--dropna on the command line)."
                )
            labels, numbers = labels[~missing], numbers[~missing]
        found.update(pd.unique(labels.to_numpy()).tolist())
        n += len(frame)
        n_train += int((~held_out(numbers, test_size, seed)).sum())
        bar.advance(len(frame))
    if n == 0:
        raise SoftmaxInputError(f"{table.shown} has no data rows.")
    return found, n, n_train


def _check_known(y: NDArray, rows: NDArray, known: set, table: Table) -> None:
    unknown = np.array([v not in known for v in y.tolist()], dtype=bool)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        label = y[i].item() if isinstance(y[i], np.generic) else y[i]
        raise SoftmaxInputError(
            f"Label {label!r} at {table.where(int(rows[i]))} of {table.shown} is not one of "
            f"--classes {sorted(known, key=str)}."
        )


def score_file(model, table, target, features, rows, test_size, seed, dropna, convert) -> Scores:
    """Confusion matrix and log-loss on the held-out rows (all rows if ``test_size == 0``)."""
    classes = model.classes_
    scores = Scores(classes, np.zeros((len(classes), len(classes)), dtype=np.int64))
    for start, frame in read_chunks(table, rows, label=target):
        X, y, numbers = chunk_arrays(frame, start, features, target, table, dropna, convert)
        if test_size > 0:
            keep = held_out(numbers, test_size, seed)
            X, y = X[keep], y[keep]
        if not len(y):
            continue
        codes = np.searchsorted(classes, y)
        codes = np.minimum(codes, len(classes) - 1)
        known = classes[codes] == y
        log_proba = model.predict_log_proba(pd.DataFrame(X[known], columns=features))
        predicted = np.argmax(log_proba, axis=1)
        np.add.at(scores.confusion, (codes[known], predicted), 1)
        scores.log_loss_sum -= float(log_proba[np.arange(len(predicted)), codes[known]].sum())
    return scores


# -- prediction -------------------------------------------------------------------------------


def predict_file(
    model, path: str | os.PathLike, out: IO[str], *, target: str | None = None,
    dropna: bool = False, batch_size: int | None = None,
) -> int:
    """Write ``label`` and ``proba_<class>`` CSV rows for every row of a file, chunk by chunk.

    The model's feature columns are read by name (other columns are
    ignored); a model without feature names takes every column but
    ``target``. Returns the number of rows written.
    """
    table = open_table(path)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        features = [str(n) for n in names]
        missing = [n for n in features if n not in table.columns]
        if missing:
            raise SoftmaxInputError(
                f"{table.shown} lacks the feature column(s) {missing[:8]}; its columns are "
                f"{table.columns[:8]}."
            )
    else:
        features = [c for c in table.columns if c != target]
        if len(features) != model.n_features_in_:
            raise SoftmaxInputError(
                f"{table.shown} has {len(features)} feature column(s), but the model was "
                f"trained on {model.n_features_in_} unnamed features."
            )
    rows = chunk_rows(len(table.columns), batch_size or 1)
    columns = [f"proba_{c}" for c in model.classes_]
    written = 0
    for start, frame in read_chunks(table, rows):
        X, _, _ = chunk_arrays(frame, start, features, None, table, dropna)
        X = pd.DataFrame(X, columns=features) if names is not None else X
        result = pd.DataFrame(model.predict_proba(X), columns=columns)
        result.insert(0, "label", model.classes_[np.argmax(result.to_numpy(), axis=1)])
        out.write(result.to_csv(index=False, header=written == 0))
        written += len(result)
    return written


@contextlib.contextmanager
def atomic_text(path: str | os.PathLike) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` only when the block succeeds."""
    target = pathlib.Path(path)
    mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
    try:
        handle = tempfile.NamedTemporaryFile(
            "w", dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False,
            newline="",
        )  # fmt: skip
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    try:
        with handle:
            yield handle
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
