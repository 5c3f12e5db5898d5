"""The ``softmax`` app, its consoles and its error handling, shared by every command.

Commands live in one module per group (:mod:`.fit`, :mod:`.predict`, ...),
which import :func:`command` from here and register themselves on
:data:`app` when imported. :mod:`softmax.cli` names them with
:func:`lazy_command`, and the app imports a command's module only when that
command runs (or shows its own help): ``softmax --help``, ``--version`` and
``explain`` do not pay for scikit-learn, pandas or Numba. This module names
no command module.

Bad input (a missing file, a damaged model, an unknown label) ends in one
line ``error: <message>`` on stderr and exit status 2, never a traceback;
usage errors also exit with 2, success with 0.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from .._optional import MissingDependencyError
from .._version import __version__

__all__ = ["app", "command", "console", "err_console", "lazy_command"]

#: Commands by name, in the order ``softmax --help`` lists them: the module
#: that registers the command and the line that --help shows for it.
_LAZY: dict[str, tuple[str, str]] = {}


def lazy_command(name: str, module: str, summary: str) -> None:
    """List command `name` with `summary`; import `module` (which registers it) when it runs.

    `summary` is the first line of the command's docstring, which ``softmax
    --help`` would show (``tests/test_startup.py`` checks that they agree).
    """
    _LAZY[name] = (module, summary)


class _LazyGroup(TyperGroup):
    """The app's command group: a command's module is imported when the command is used.

    :meth:`resolve_command` (running ``softmax NAME ...``, or ``softmax NAME
    --help``) imports it; :meth:`get_command` gives, for the list in
    ``softmax --help``, a stand-in that carries the summary until then.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*_LAZY, *(name for name in super().list_commands(ctx) if name not in _LAZY)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in _LAZY:
            return super().get_command(ctx, cmd_name)
        return click.Command(cmd_name, help=_LAZY[cmd_name][1])

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in _LAZY and args[0] not in self.commands:
            importlib.import_module(_LAZY[args[0]][0])  # registers the command on `app`
            loaded = typer.main.get_group(app).commands
            self.commands.update({k: v for k, v in loaded.items() if k not in self.commands})
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="softmax",
    cls=_LazyGroup,
    help="Softmax regression (multinomial logistic regression) on CSV/Parquet files "
    "and bundled data sets.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # Tracebacks are for bugs; bad input is one line (see _reporting_user_errors).
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"softmax {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """The options of ``softmax`` itself, before the command (the app's help is above)."""

# Markup off: file, column and class names are printed as given, brackets and all.
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)

# What bad input raises: SoftmaxInputError and scikit-learn's parameter errors
# are ValueErrors, unwritable outputs OSErrors, diverging fits FloatingPointError;
# a feature whose optional package is missing, MissingDependencyError.
_USER_ERRORS = (ValueError, OSError, FloatingPointError, MissingDependencyError)

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
                result = command(*args, **kwargs)
                # Here, not at the interpreter's exit, so that a reader who left is met below.
                sys.stdout.flush()
                return result
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
