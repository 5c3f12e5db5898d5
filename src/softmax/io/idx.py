"""The IDX file format of MNIST and Fashion-MNIST: a checked reader and a writer.

An IDX file is a 4-byte magic number, ``0x00 0x00 <dtype code> <ndim>``,
then ``ndim`` big-endian unsigned 32-bit dimensions, then the values in
row-major (C) order, big-endian. MNIST ships ``train-images-idx3-ubyte``
(``ndim=3``: images x rows x columns, unsigned bytes) and
``train-labels-idx1-ubyte`` (``ndim=1``), usually gzipped.

The reader believes nothing in a header that the file cannot back up: the
number of bytes the dimensions announce is checked against what is actually
there (read in bounded chunks, so a header claiming terabytes allocates
nothing), and every problem becomes one :class:`SoftmaxInputError` that
names the file.
"""

from __future__ import annotations

import gzip
import os
import pathlib
import struct
import zlib
from typing import IO

import numpy as np

from .._errors import SoftmaxInputError
from .atomic import atomic_write

__all__ = ["DTYPES", "read_idx_array", "write_idx_array"]

# dtype code (third magic byte) -> big-endian NumPy dtype, from the format's definition.
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # read the data 1 MiB at a time, never the announced size at once


def read_idx_array(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file, gzipped or not (told apart by the gzip magic bytes).

    Parameters
    ----------
    path : str or os.PathLike
        An IDX file such as ``train-images-idx3-ubyte`` or
        ``train-labels-idx1-ubyte.gz``.

    Returns
    -------
    ndarray of the shape the header gives, e.g. (n_images, rows, columns)
        In native byte order; the dtype follows the header's dtype code
        (``uint8`` for MNIST).

    Raises
    ------
    SoftmaxInputError
        If the file is missing, is not an IDX file (bad magic number or dtype
        code), is truncated, has bytes after the data, announces no values,
        or is a damaged gzip file.
    """
    shown = os.fspath(path)
    file = pathlib.Path(path)
    if not file.exists():
        raise SoftmaxInputError(f"File {shown} not found.")
    if file.is_dir():
        raise SoftmaxInputError(f"{shown} is a directory, not an IDX file.")
    try:
        with file.open("rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    return _parse(stream, shown)
            return _parse(raw, shown)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SoftmaxInputError(f"{shown} is a damaged gzip file: {exc}.") from exc
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot read {shown}: {exc.strerror or exc}.") from exc


def _parse(stream: IO[bytes], shown: str) -> np.ndarray:
    magic = _read_exactly(stream, 4)
    if len(magic) < 4:
        raise SoftmaxInputError(f"{shown} is too short to be an IDX file ({len(magic)} bytes).")
    zero, code, ndim = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00" or code not in DTYPES:
        raise SoftmaxInputError(
            f"{shown} is not an IDX file: its magic number is 0x{magic.hex()}, where IDX files "
            f"start with 0x0000 and a dtype code ({', '.join(f'0x{c:02x}' for c in DTYPES)})."
        )
    if ndim == 0:
        raise SoftmaxInputError(f"{shown} is a damaged IDX file: it declares 0 dimensions.")
    header = _read_exactly(stream, 4 * ndim)
    if len(header) < 4 * ndim:
        raise SoftmaxInputError(
            f"{shown} is truncated: it ends inside the header of its {ndim} dimensions."
        )
    shape = struct.unpack(f">{ndim}I", header)
    dtype = DTYPES[code]
    # Python integers: the product of 32-bit dimensions cannot overflow here.
    expected = dtype.itemsize * int(np.prod(shape, dtype=object))
    described = f"{' x '.join(map(str, shape))} {dtype.newbyteorder('=').name} values"
    if expected == 0:
        raise SoftmaxInputError(f"{shown} holds no data: its header says {described}.")
    # One byte more than announced tells a file with trailing bytes from a complete one.
    data = _read_exactly(stream, expected + 1)
    if len(data) < expected:
        raise SoftmaxInputError(
            f"{shown} is truncated: its header says {described} ({expected:,} bytes of data), "
            f"but the file holds {len(data):,}."
        )
    if len(data) > expected:
        raise SoftmaxInputError(
            f"{shown} is a damaged IDX file: there are bytes after the {described} "
            "its header announces."
        )
    values = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    """Up to `n` bytes, fewer only at the end of the stream, in bounded chunks."""
    parts = bytearray()
    while len(parts) < n:
        chunk = stream.read(min(_CHUNK, n - len(parts)))
        if not chunk:
            break
        parts += chunk
    return bytes(parts)


def write_idx_array(
    path: str | os.PathLike, values: np.ndarray, *, compress: bool | None = None
) -> pathlib.Path:
    """Write an array as an IDX file (the inverse of :func:`read_idx_array`).

    Parameters
    ----------
    path : str or os.PathLike
        Where to write, atomically (:func:`softmax.io.atomic.atomic_write`).
    values : ndarray of shape (n, ...)
        Of dtype uint8, int8, int16, int32, float32 or float64; 1 to 255
        dimensions, each below 2**32.
    compress : bool, optional
        Gzip the file; by default when `path` ends in ``.gz``.

    Returns
    -------
    pathlib.Path
    """
    array = np.asarray(values)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX files cannot hold dtype {array.dtype}; use one of {list(_CODES)}.")
    if not 1 <= array.ndim <= 255 or max(array.shape) >= 2**32:
        raise ValueError(f"IDX files cannot hold an array of shape {array.shape}.")
    target = pathlib.Path(path)
    data = (
        bytes([0, 0, code, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
    )
    if compress if compress is not None else target.suffix == ".gz":
        # mtime=0: the same array gives the same bytes.
        data = gzip.compress(data, mtime=0)
    with atomic_write(target, binary=True) as handle:
        handle.write(data)
    return target
