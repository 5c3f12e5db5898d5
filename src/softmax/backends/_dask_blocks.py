"""How Dask collections are cut into aligned row blocks: ``X``, ``y`` and the weights.

A Dask array is re-chunked to whole rows; a DataFrame keeps its partitions.
A per-row vector (labels, weights) given as a Dask Series, a Dask array or an
in-memory array is cut into blocks of the same rows as ``X``'s, re-cut on the
workers when Dask partitioned it differently.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["row_blocks", "vector_blocks"]


def row_blocks(X):
    """Delayed 2-D blocks of whole rows, their lengths (None if unknown), names, dtype, width."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(X, dd.DataFrame):
        # Partitions as they are: to_dask_array(lengths=True) would cost a pass and can
        # disagree with the partitions after Dask's query optimisation.
        dtypes = set(X.dtypes.tolist())
        dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
        return X.to_delayed(), None, [str(c) for c in X.columns], dtype, len(X.columns)
    if not isinstance(X, da.Array):
        X = da.asarray(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a Dask array of shape {X.shape}")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    X = X.rechunk({1: -1})
    lengths = None if any(math.isnan(c) for c in X.chunks[0]) else X.chunks[0]
    return X.to_delayed().ravel().tolist(), lengths, None, dtype, X.shape[1]


def vector_blocks(v, X_blocks: list, lengths, what: str) -> list:
    """Delayed blocks of a per-row vector, aligned with the blocks of X."""
    import dask
    import dask.array as da
    import dask.dataframe as dd
    from dask import delayed

    if v is None:
        return [None] * len(X_blocks)
    if isinstance(v, (dd.Series, dd.DataFrame)):
        blocks = v.to_delayed()
        if len(blocks) != len(X_blocks):
            # Dask may partition two projections of one Parquet file differently.
            blocks = _realign(blocks, X_blocks, lengths)
    elif isinstance(v, da.Array):
        if lengths is not None and v.shape[0] != sum(lengths):
            raise ValueError(
                f"{what} must have one value per row of X: {v.shape[0]} != {sum(lengths)}"
            )
        if lengths is not None and v.chunks[0] != tuple(lengths):
            v = v.rechunk({0: tuple(lengths)})
        blocks = v.to_delayed().ravel().tolist()
    else:
        v = np.asarray(v)
        if lengths is None:
            lengths = dask.compute(*[delayed(len)(b) for b in X_blocks])
        if v.shape[0] != sum(lengths):
            raise ValueError(f"{what} must have one value per row of X: {len(v)} != {sum(lengths)}")
        blocks = np.split(v, np.cumsum(lengths)[:-1])
    if len(blocks) != len(X_blocks):
        raise ValueError(
            f"{what} must have one value per row of X, in blocks like X's "
            f"({len(blocks)} blocks for {len(X_blocks)})"
        )
    return blocks


def _slice_concat(pieces: list, cuts: list) -> NDArray:
    """Rows ``cuts[i]`` (a slice) of each piece, concatenated: one re-cut block."""
    return np.concatenate([np.asarray(p)[c] for p, c in zip(pieces, cuts)])


def _realign(blocks: list, X_blocks: list, lengths) -> list:
    """Re-cut delayed vector ``blocks`` to the row lengths of ``X_blocks``."""
    import dask
    from dask import delayed

    sizes = dask.compute(*[delayed(len)(b) for b in blocks])
    if lengths is None:
        lengths = dask.compute(*[delayed(len)(b) for b in X_blocks])
    if sum(sizes) != sum(lengths):
        raise ValueError(f"y must have one value per row of X: {sum(sizes)} != {sum(lengths)}")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    out, row = [], 0
    for n in lengths:
        pieces, cuts = [], []
        for i in np.flatnonzero((starts[:-1] < row + n) & (starts[1:] > row)):
            pieces.append(blocks[i])
            cuts.append(slice(max(row - starts[i], 0), min(row + n, starts[i + 1]) - starts[i]))
        out.append(delayed(_slice_concat)(pieces, cuts))
        row += n
    return out


