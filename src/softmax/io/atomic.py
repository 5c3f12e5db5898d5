"""The one way this package writes an output file: whole or not at all.

A regular file is written to a temporary file in the same folder, flushed to
disk and renamed over the target, so a crash or a kill never leaves half a
file (a reader sees the old file or the new one). What is not a regular file
is written in place, because replacing it would be wrong:

==================================  ===========================================
target                              what happens
==================================  ===========================================
missing, or a regular file          temporary file + rename (mode kept, else 0644)
a symbolic link                     followed: the file it points to is replaced,
                                    the link stays a link
``/dev/null``, ``/dev/stdout``,     opened and written directly (a device, a
a FIFO, a socket, ``-`` (text)      pipe): nothing to rename, nothing replaced
==================================  ===========================================

Temporary files are named ``.<name>.softmax-<pid>-<random>.tmp``. SIGTERM
(like Ctrl-C) removes the one being written; one left by a process that was
killed outright (``kill -9``, a power cut) is removed by the next write into
the same folder, once its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO

from .._errors import SoftmaxInputError

__all__ = ["atomic_write", "check_writable"]

_TEMP = re.compile(r"^\..+\.softmax-(\d+)-[^.]+\.tmp$")


def _is_special(path: pathlib.Path) -> bool:
    """Whether ``path`` exists and is not a regular file (a device, FIFO or socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_writable(path: str | os.PathLike) -> pathlib.Path:
    """Check, before any work is done, that :func:`atomic_write` can write ``path``.

    Returns the path that will really be written (a symbolic link resolved).

    Raises
    ------
    SoftmaxInputError
        If the folder does not exist or is not writable, or ``path`` is a folder.
    """
    if os.fspath(path) == "-":
        return pathlib.Path("-")
    target = pathlib.Path(os.path.realpath(path))
    shown = os.fspath(path)
    if target.is_dir():
        raise SoftmaxInputError(f"Cannot write {shown}: it is a folder.")
    if _is_special(target):
        if not os.access(target, os.W_OK):
            raise SoftmaxInputError(f"Cannot write {shown}: permission denied.")
        return target
    folder = target.parent
    if not folder.is_dir():
        raise SoftmaxInputError(f"Cannot write {shown}: folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SoftmaxInputError(f"Cannot write {shown}: folder {folder} is not writable.")
    if target.exists() and not os.access(target, os.W_OK):
        raise SoftmaxInputError(f"Cannot write {shown}: permission denied.")
    return target


def _remove_stale(folder: pathlib.Path) -> None:
    """Delete our temporary files in ``folder`` whose writing process has ended."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _TEMP.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            pid = int(match.group(1))
            if pid == os.getpid() or _alive(pid):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` while writing, so the clean-up below runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, binary: bool = False) -> Iterator[IO]:
    """A file object whose content appears at ``path`` only if the block succeeds.

    Parameters
    ----------
    path : str or path-like
        The output; ``"-"`` is standard output (text only). See the module
        docstring for links, devices and FIFOs.
    binary : bool, default=False
        Bytes instead of text (text is UTF-8 with ``newline=""``).

    Raises
    ------
    SoftmaxInputError
        If the file cannot be created.
    """
    if os.fspath(path) == "-":
        if binary:
            raise SoftmaxInputError("Cannot write binary data to standard output ('-').")
        yield sys.stdout
        sys.stdout.flush()
        return
    target = check_writable(path)
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    if _is_special(target):
        with open(target, "wb" if binary else "w", **text) as handle:
            yield handle
        return
    _remove_stale(target.parent)
    mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
    try:
        handle = tempfile.NamedTemporaryFile(
            "wb" if binary else "w", dir=target.parent, delete=False,
            prefix=f".{target.name}.softmax-{os.getpid()}-", suffix=".tmp", **text,
        )  # fmt: skip
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot write {os.fspath(path)}: {exc.strerror or exc}.") from exc
    try:
        with _sigterm_raises():
            with handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, mode)
            os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
