"""What a DATA argument names, made readable as often as the table readers need.

A regular file is read where it is. Standard input (``-``), a pipe (a FIFO,
bash's ``<(command)``) or a device can be read only once, but the readers of
:mod:`softmax.io.tables` read a file several times (the magic bytes, the
header, then the rows; a streamed fit makes one pass per epoch). Reading such
a stream twice lost its first bytes, so :func:`readable` copies ("spools") it
once to a temporary file, deleted when the file object it returns is closed
or collected. A stream has no name to tell its compression by, so the spool
is named after its first bytes (``.csv.gz``, ``.parquet``, ...).

:func:`text_bytes` estimates the size of a file's text once decompressed, to
decide whether it can be read whole.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import stat
import sys
import tempfile
import zlib
from typing import IO

import pandas as pd

from .._errors import SoftmaxInputError

__all__ = ["COMPRESSION_RATIO", "STDIN", "readable", "text_bytes"]

#: The DATA argument that means standard input.
STDIN = "-"

_BLOCK = 1 << 20
# The first bytes of what a stream may hold, and the suffix that makes the readers
# take it for that (pandas infers compression from the suffix). zstd is left out:
# pandas reads it only with the optional zstandard package.
_MAGIC = tuple(
    (re.compile(magic), suffix)
    for magic, suffix in (
        (rb"PAR1", ".parquet"),
        (rb"\x1f\x8b\x08", ".csv.gz"),
        (rb"BZh[1-9]1AY&SY", ".csv.bz2"),
        (rb"\xfd7zXZ\x00", ".csv.xz"),
        (rb"PK\x03\x04", ".csv.zip"),
    )
)
#: Assumed text bytes per compressed byte where the file cannot tell: at the top of
#: what CSV files reach (numbers 3-5x, repetitive text 10x and more), so that a
#: large file is rather read in chunks (the same result, bounded memory) than whole.
COMPRESSION_RATIO = 12
_PROBE_TEXT = 64 << 20  # at most this much text is inflated to measure a gzip file's ratio


def readable(path: str | os.PathLike) -> tuple[pathlib.Path, str, IO[bytes] | None]:
    """The regular file to read for `path`, its name for messages, and its spool.

    Parameters
    ----------
    path : str or os.PathLike
        A file, a FIFO or device, or ``"-"`` for standard input.

    Returns
    -------
    file : pathlib.Path
        `path` itself when it is a regular file, else the temporary copy.
    shown : str
        `path` as the user gave it (``"standard input"`` for ``"-"``).
    spool : file object or None
        The temporary copy's open file, which must be kept while `file` is
        read (closing it deletes the copy); None for a regular file.

    Raises
    ------
    SoftmaxInputError
        If `path` is missing, a directory or unreadable, or standard input is
        a terminal.
    """
    if os.fspath(path) == STDIN:
        shown = "standard input"
        if sys.stdin is None or sys.stdin.isatty():
            raise SoftmaxInputError(
                "DATA '-' reads standard input, but it is a terminal; pipe the data in "
                "(softmax fit - < data.csv) or name the file."
            )
        opened = contextlib.nullcontext(sys.stdin.buffer)
    else:
        file, shown = pathlib.Path(path), os.fspath(path)
        try:
            mode = file.stat().st_mode
        except FileNotFoundError:
            raise SoftmaxInputError(f"File {shown} not found.") from None
        except OSError as exc:
            raise SoftmaxInputError(f"Cannot read {shown}: {exc.strerror or exc}.") from exc
        if stat.S_ISDIR(mode):
            raise SoftmaxInputError(f"{shown} is a directory, not a data file.")
        if stat.S_ISREG(mode):
            return file, shown, None
        opened = None
    try:
        with opened or file.open("rb") as stream:
            head = stream.read(_BLOCK)
            suffix = next((s for magic, s in _MAGIC if magic.match(head)), ".csv")
            spool = tempfile.NamedTemporaryFile(prefix="softmax-data-", suffix=suffix)
            try:
                spool.write(head)
                shutil.copyfileobj(stream, spool, _BLOCK)
                spool.flush()
            except BaseException:
                spool.close()  # deletes the partial copy
                raise
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot read {shown}: {exc.strerror or exc}.") from exc
    return pathlib.Path(spool.name), shown, spool


def text_bytes(file: pathlib.Path) -> int:
    """About how many bytes of text a regular file holds once decompressed.

    Uncompressed files: their size. Gzip: the larger of the size its trailer
    records (ISIZE, the size modulo 4 GiB of the last member only, so too small
    past 4 GiB or with several members) and the compressed size times the
    ratio measured on the file's first MiB. Other compressions: the size times
    :data:`COMPRESSION_RATIO`.
    """
    size = file.stat().st_size
    compression = pd.io.common.infer_compression(os.fspath(file), "infer")
    if compression is None:
        return size
    if compression != "gzip" or size < 18:  # 18: the smallest gzip member
        return size * COMPRESSION_RATIO
    with file.open("rb") as handle:
        probe = handle.read(_BLOCK)
        handle.seek(-4, os.SEEK_END)
        isize = int.from_bytes(handle.read(4), "little")
    inflate = zlib.decompressobj(wbits=31)
    try:
        text = len(inflate.decompress(probe, _PROBE_TEXT))
    except zlib.error:  # damaged: the reader will say so; assume the worst meanwhile
        return size * COMPRESSION_RATIO
    # Input not used: held back by the output cap, or past the end of the first member.
    used = len(probe) - len(inflate.unconsumed_tail) - len(inflate.unused_data)
    return max(isize, size * text // max(used, 1))
