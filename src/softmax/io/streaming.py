"""Out-of-core files: train on and predict for CSV/Parquet files of any size.

A file is read in chunks of a bounded number of bytes
(:func:`softmax.io.tables.read_chunks`), so memory does not grow with the
file. Training (``softmax fit BIG.csv
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

Each chunk gets the checks of a file read whole
(:func:`softmax.io.tables.checked_rows`): anything wrong (a malformed row,
a non-numeric or missing value) is a
:class:`~softmax._errors.SoftmaxInputError` naming the line (CSV, the header
being line 1) or the 0-based row (Parquet), in the same words. The model
file is written only after training succeeded, atomically.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from .._optional import require
from .tables import (
    Table,
    checked_frame,
    checked_rows,
    names_for_message,
    open_table,
    read_chunks,
    read_frame,
    select_features,
    split_columns,
)

__all__ = [
    "CHUNK_BYTES",
    "Predicted",
    "Scores",
    "chunk_rows",
    "fit_file",
    "held_out",
    "predict_file",
    "prediction_frame",
    "score_file",
]

#: Bytes of float64 features per chunk; memory stays a small multiple of it.
CHUNK_BYTES = 32 << 20
_INT = re.compile(r"[+-]?\d+")
_LISTED = 10  # rows not scored named in Predicted.note


def chunk_rows(n_columns: int, batch_size: int = 1) -> int:
    """Rows per chunk: about :data:`CHUNK_BYTES` of float64, whole batches."""
    rows = max(CHUNK_BYTES // (8 * max(n_columns, 1)), batch_size)
    return rows - rows % batch_size if rows >= batch_size else batch_size


def _chunk_arrays(
    table: Table, frame: pd.DataFrame, start: int, features: Sequence[str], label: str,
    dropna: bool, convert,
) -> tuple[NDArray, NDArray, NDArray]:
    """Checked float64 features, labels converted by ``convert``, and the data rows."""
    X, labels, rows = checked_rows(table, frame, features, label, dropna=dropna, start=start)
    return X, convert(labels.to_numpy()), rows


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
    path: str | os.PathLike | Table,
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
        The target column, rows trained on and held out, epochs and speed,
        for the model file.
    """
    from .._progress import RowProgress
    from ..backends.stream import fit_chunks
    from ..estimator import SoftmaxRegression

    table = open_table(path)
    features, target = split_columns(table, target)
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
            X, y, numbers = _chunk_arrays(table, frame, start, features, target, dropna, convert)
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
    epochs = int(np.max(model.n_iter_))  # an array of shape (1,), as in scikit-learn
    summary = {
        "target": target,
        "n_train": n_train,
        "n_test": scores.n,
        "batch_size": batch_size,
        "epochs": epochs,
        "train_seconds": round(seconds, 3),
    }
    if n_train:
        summary["rows_per_second"] = round(n_train * epochs / max(seconds, 1e-9), 1)
    return model, scores, summary


def _parquet_converter(table: Table, target: str):
    """Labels given as text (``--classes``) in the type of a Parquet label column."""
    pq = require("pyarrow.parquet", "parquet", "Reading Parquet files")

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
        _, labels, numbers = checked_rows(table, frame, [], target, dropna=dropna, start=start)
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
        X, y, numbers = _chunk_arrays(table, frame, start, features, target, dropna, convert)
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


@dataclass
class Predicted:
    """What :func:`predict_file` wrote: rows, and the rows it could not score.

    Attributes
    ----------
    rows : int
        Lines written, one per data row.
    unscored : int
        Rows with a missing value (``dropna``), written with empty cells.
    first_unscored : str
        Where the first few of those are (``"lines 5, 9"``), for a message.
    """

    rows: int = 0
    unscored: int = 0
    first_unscored: str = ""

    def note(self) -> str | None:
        """A sentence on the rows not scored, or None when every row was."""
        if not self.unscored:
            return None
        more = self.unscored - min(self.unscored, _LISTED)
        listed = self.first_unscored + (f" and {more} more" if more else "")
        rows = "1 row" if self.unscored == 1 else f"{self.unscored} rows"
        return (
            f"{rows} with missing values {'was' if self.unscored == 1 else 'were'} not scored "
            f"({listed}): their label and probabilities are empty."
        )


def prediction_frame(
    model, X, scored: NDArray[np.bool_] | None = None, top_k: int | None = None
) -> pd.DataFrame:
    """``label`` and one ``proba_<class>`` column per class, a line per input row.

    Parameters
    ----------
    model : SoftmaxRegression
    X : array-like of shape (n_scored, n_features)
        The rows to score.
    scored : ndarray of shape (n_rows,), optional
        Which input rows `X` holds (all by default); the others get an empty
        label and empty probabilities, so the output stays joinable, line by
        line, to the input.
    top_k : int, optional
        Instead, the `top_k` most probable classes, most probable first:
        columns ``top1, top1_proba, top2, top2_proba, ...`` (ties in the
        order of ``classes_``).
    """
    classes = model.classes_
    n = len(X) if scored is None else len(scored)
    proba = np.full((n, len(classes)), np.nan)
    labels = np.full(n, "", dtype=object)
    where = slice(None) if scored is None else scored
    if len(X):  # scikit-learn refuses to predict for no rows
        proba[where] = model.predict_proba(X)
        labels[where] = classes[np.argmax(proba[where], axis=1)]
    if top_k is None:
        frame = pd.DataFrame(proba, columns=[f"proba_{c}" for c in classes])
        frame.insert(0, "label", labels)
        return frame
    if not 1 <= top_k <= len(classes):
        raise SoftmaxInputError(
            f"--top-k {top_k} must be between 1 and the model's {len(classes)} classes."
        )
    order = np.argsort(-proba, axis=1, kind="stable")[:, :top_k]
    ranked = np.take_along_axis(proba, order, axis=1)  # NaN on the rows not scored
    columns = {}
    for rank in range(top_k):
        best = np.full(n, "", dtype=object)
        best[where] = classes[order[where, rank]]
        columns[f"top{rank + 1}"] = best
        columns[f"top{rank + 1}_proba"] = ranked[:, rank]
    return pd.DataFrame(columns)


def predict_file(
    model, path: str | os.PathLike | Table, out: IO[str], *, target: str | None = None,
    dropna: bool = False, batch_size: int | None = None, whole: bool = False,
    top_k: int | None = None, keep: Sequence[str] = (),
) -> Predicted:
    """Write ``label`` and ``proba_<class>`` CSV rows for every row of a file, chunk by chunk.

    With `top_k`, the columns are the `top_k` most probable classes and their
    probabilities instead (see :func:`prediction_frame`).

    The model's feature columns are read by name (other columns are
    ignored); a model without feature names takes every column but
    ``target``; columns of text are kept as such for a model that encodes
    them. With ``dropna``, a row with a missing value gets a line with
    empty cells (see :func:`prediction_frame`). ``keep`` names columns (ids)
    copied, first, to every line. ``whole`` reads the file in one piece, so
    that an error comes before any output.
    """
    from ..model.design import text_columns  # deferred: only prediction needs it

    table = open_table(path)
    names = getattr(model, "feature_names_in_", None)
    features, _ = select_features(table, names, target)
    absent = [c for c in keep if c not in table.columns]
    if absent:
        raise SoftmaxInputError(
            f"{table.shown} has no column(s) {names_for_message(absent)} to keep; its columns "
            f"are {names_for_message(table.columns)}."
        )
    if names is None and len(features) != model.n_features_in_:
        raise SoftmaxInputError(
            f"{table.shown} has {len(features)} feature column(s), but the model was "
            f"trained on {model.n_features_in_} unnamed features."
        )
    chunks = (
        [(0, read_frame(table))]
        if whole
        else read_chunks(table, chunk_rows(len(table.columns), batch_size or 1))
    )
    done, first = Predicted(), []
    for start, frame in chunks:
        X, _, kept = checked_frame(
            table, frame, features, None, text=text_columns(model), dropna=dropna, start=start
        )
        scored = np.zeros(len(frame), dtype=bool)
        scored[kept - start] = True
        missed = np.flatnonzero(~scored)
        done.unscored += len(missed)
        first += [start + int(i) for i in missed[: _LISTED - len(first)]]
        X = X if names is not None else X.to_numpy()
        ids = frame[list(keep)].reset_index(drop=True)
        frame = prediction_frame(model, X, scored, top_k)
        if keep:
            clash = [c for c in keep if c in frame.columns]
            if clash:
                raise SoftmaxInputError(
                    f"Kept column(s) {names_for_message(clash)} would repeat a column of the "
                    "predictions; rename them."
                )
            frame = pd.concat([ids, frame], axis=1)
        out.write(frame.to_csv(index=False, header=done.rows == 0))
        done.rows += len(frame)
    if done.rows == 0:
        raise SoftmaxInputError(f"{table.shown} has no data rows.")
    done.first_unscored = table.where(*first) if first else ""
    return done
