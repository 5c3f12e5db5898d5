"""The ``softmax`` app, its consoles and its error handling, shared by every command.

Commands live in one module per group (:mod:`.fit`, :mod:`.predict`, ...),
which import :func:`command` from here and register themselves on
:data:`app` when :mod:`softmax.cli` imports them; this module imports none
of them. Bad input (a missing file, a damaged model, an unknown label) ends
in one line ``error: <message>`` on stderr and exit status 2, never a
traceback; usage errors also exit with 2, success with 0.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

__all__ = ["app", "command", "console", "err_console"]

app = typer.Typer(
    name="softmax",
    help="Softmax regression (multinomial logistic regression) on CSV/Parquet files "
    "and bundled data sets.",
    no_args_is_help=True,
    add_completion=False,
    # Tracebacks are for bugs; bad input is one line (see _reporting_user_errors).
    pretty_exceptions_enable=False,
)

# Markup off: file, column and class names are printed as given, brackets and all.
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)

# What bad input raises: SoftmaxInputError and scikit-learn's parameter errors
# are ValueErrors, unwritable outputs OSErrors, diverging fits FloatingPointError.
_USER_ERRORS = (ValueError, OSError, FloatingPointError)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def command(**settings: Any) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Register a command on :data:`app`, with user errors reported as one line.

    Parameters
    ----------
    **settings
        Passed to ``typer.Typer.command``.
    """

    def register(function: Callable[_P, _R]) -> Callable[_P, _R]:
        return app.command(**settings)(_reporting_user_errors(function))

    return register


def _reporting_user_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `command`, turning bad input into ``error: ...`` and exit status 2.

    Warnings (a ``ConvergenceWarning`` above all) become one yellow line each
    on stderr instead of Python's two-line format with a source location.
    """

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with warnings.catch_warnings(record=True) as caught:
            try:
                return command(*args, **kwargs)
            except BrokenPipeError:
                # The reader (`| head`) left: not an error. Point stdout at devnull so
                # the interpreter's final flush does not fail again, and exit as a
                # process killed by SIGPIPE would (128 + 13).
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(141) from None
            except _USER_ERRORS as exc:
                _stderr_line("error:", "red", str(exc))
                raise typer.Exit(2) from None
            finally:
                for message in dict.fromkeys(str(w.message) for w in caught):
                    _stderr_line("warning:", "yellow", message)

    return run


def _stderr_line(label: str, colour: str, message: str) -> None:
    # typer.echo, not rich: rich would wrap a long message over several lines.
    styled = typer.style(label, fg=colour, bold=True)
    typer.echo(f"{styled} {' '.join(message.split())}", err=True)
