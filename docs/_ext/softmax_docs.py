"""A small Sphinx extension: the pages' numbers come from code run at build time.

Directives
----------
``.. pycon::``
    The content is Python source. At build time each top-level statement is
    run in a namespace shared by the page's blocks, and the page shows it as
    an interactive session: the statement after ``>>>`` and what it printed,
    the value of an expression (as the interpreter echoes it) and any warning
    it raised. An exception fails the build. ``:hide:`` runs the code and
    shows nothing (set-up a page needs but need not show). The code runs in
    a scratch folder shared with ``command-output``, so a file written by
    one is there for the other.
``.. command-output:: softmax fit --help``
    Runs the command (``softmax`` is this interpreter's ``python -m softmax``)
    and shows ``$ command`` with its output; a non-zero exit status fails the
    build unless ``:returncode:`` names it.
``.. markdown-table:: ../../README.md``
    The first Markdown table after the line containing ``:after:``, as a
    table: measured figures are quoted from where the benchmarks record them,
    never copied by hand.

Gallery
-------
:func:`figure_scraper` is sphinx-gallery's image scraper for this library's
figures, which are bare matplotlib ``Figure`` objects (no pyplot, so the
default scraper cannot see them): after each code block it saves every
``Figure`` (or the figure of an ``Axes``) held by a variable of the example,
once, and every ``pathlib.Path`` to a ``.png`` file the example wrote.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import traceback
import warnings
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util import logging

logger = logging.getLogger(__name__)

# -- pycon ---------------------------------------------------------------------------

_NAMESPACES: dict[str, dict] = {}
_WORKDIR: list[Path] = []


def workdir() -> Path:
    """One scratch folder per build: pages' code and commands read and write files there."""
    if not _WORKDIR:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="softmax-docs-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _WORKDIR.append(folder)
    return _WORKDIR[0]


def _fresh_namespace(app, docname, source) -> None:
    _NAMESPACES.pop(docname, None)


def _echo(value) -> str:
    return "" if value is None else repr(value) + "\n"


def run_session(source: str, namespace: dict) -> list[tuple[str, str]]:
    """Run ``source`` statement by statement; return (statement, output) pairs.

    Raises whatever the code raises, with the statement that raised it.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    pairs = []
    for stmt in tree.body:
        text = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno])
        text = textwrap.dedent(text)
        out = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(out), contextlib.chdir(workdir()):
            warnings.simplefilter("always")
            echo = ""
            if isinstance(stmt, ast.Expr):
                code = compile(ast.Expression(stmt.value), "<docs>", "eval")
                echo = _echo(eval(code, namespace))
            else:
                module = ast.Module(body=[stmt], type_ignores=[])
                exec(compile(module, "<docs>", "exec"), namespace)
        for w in caught:  # as the interpreter shows them (before the value), wrapped to the page
            shown = f"{w.category.__name__}: {w.message}"
            out.write(textwrap.fill(shown, width=88, subsequent_indent="    ") + "\n")
        pairs.append((text, out.getvalue() + echo))
    return pairs


def as_doctest(pairs: list[tuple[str, str]]) -> str:
    shown = []
    for text, output in pairs:
        first, *rest = text.splitlines()
        shown.append(">>> " + first)
        shown.extend("... " + line if line.strip() else "..." for line in rest)
        if output:
            shown.extend(output.rstrip("\n").splitlines())
    return "\n".join(shown)


class PyconDirective(Directive):
    has_content = True
    option_spec = {"hide": directives.flag}

    def run(self):
        env = self.state.document.settings.env
        namespace = _NAMESPACES.setdefault(env.docname, {"__name__": "__docs__"})
        source = "\n".join(self.content)
        try:
            pairs = run_session(source, namespace)
        except Exception:  # the page's code is broken: say where, fail the build
            logger.warning(
                "pycon block failed:\n%s", traceback.format_exc(limit=-3),
                location=(env.docname, self.lineno),
            )
            return []
        if "hide" in self.options:
            return []
        text = as_doctest(pairs)
        block = nodes.literal_block(text, text)
        block["language"] = "pycon"
        return [block]


# -- command-output ------------------------------------------------------------------


class CommandOutputDirective(Directive):
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"returncode": directives.nonnegative_int}

    def run(self):
        env = self.state.document.settings.env
        command = self.arguments[0]
        argv = shlex.split(command)
        if argv[0] == "softmax":
            argv = [sys.executable, "-m", "softmax", *argv[1:]]
        run_env = dict(os.environ, COLUMNS="90", NO_COLOR="1", TERM="dumb")
        run_env.pop("FORCE_COLOR", None)
        done = subprocess.run(
            argv, capture_output=True, text=True, env=run_env, timeout=300, cwd=workdir(),
        )
        expected = self.options.get("returncode", 0)
        if done.returncode != expected:
            logger.warning(
                "command %r exited with %d (expected %d):\n%s",
                command, done.returncode, expected, done.stderr[-2000:],
                location=(env.docname, self.lineno),
            )
        output = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())
        text = f"$ {command}\n{output.strip(chr(10))}"
        block = nodes.literal_block(text, text)
        block["language"] = "console"
        return [block]


# -- markdown-table ------------------------------------------------------------------


def _inline(cell: str) -> str:
    # Markdown `code` -> reST ``code``; **bold** is the same in both.
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", cell.strip())


def markdown_table(text: str, after: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if after in line), None)
    if start is None:
        raise ValueError(f"no line contains {after!r}")
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.lstrip().startswith("|"):
            cells = [c for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r"\s*:?-{3,}:?\s*", c) for c in cells):
                continue
            rows.append([_inline(c) for c in cells])
        elif rows:
            break
    if not rows:
        raise ValueError(f"no table after the line containing {after!r}")
    return rows


class MarkdownTableDirective(Directive):
    required_arguments = 1
    option_spec = {"after": directives.unchanged_required}

    def run(self):
        env = self.state.document.settings.env
        path = (Path(env.srcdir) / Path(env.docname).parent / self.arguments[0]).resolve()
        env.note_dependency(str(path))
        try:
            rows = markdown_table(path.read_text(encoding="utf-8"), self.options["after"])
        except (OSError, ValueError) as error:
            logger.warning("markdown-table: %s (%s)", error, path,
                           location=(env.docname, self.lineno))
            return []
        rst = [".. list-table::", "   :header-rows: 1", ""]
        for row in rows:
            for j, cell in enumerate(row):
                rst.append(("   * - " if j == 0 else "     - ") + (cell or " "))
        container = nodes.container()
        self.state.nested_parse(StringList(rst, source=str(path)), self.content_offset, container)
        return container.children


# -- sphinx-gallery scraper ----------------------------------------------------------

_SHOWN: dict[str, list] = {}


def reset_scraper(gallery_conf, fname) -> None:
    """sphinx-gallery ``reset_modules`` hook: forget the figures of the last example."""
    _SHOWN.pop(str(fname), None)


def _pictures(namespace: dict):
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, Axes):
                v = v.figure
            if isinstance(v, Figure) or (
                isinstance(v, Path) and v.suffix == ".png" and v.is_file()
            ):
                yield v


def figure_scraper(block, block_vars, gallery_conf) -> str:
    """Save the example's new figures and written ``.png`` files (see the module docstring)."""
    from sphinx_gallery.scrapers import figure_rst

    from matplotlib.figure import Figure

    shown = _SHOWN.setdefault(str(block_vars["src_file"]), [])
    paths = []
    for picture in _pictures(block_vars["example_globals"]):
        key = picture if isinstance(picture, Figure) else (picture, picture.stat().st_mtime_ns)
        if any(key is s if isinstance(key, Figure) else key == s for s in shown):
            continue
        shown.append(key)  # kept alive, so its id is never reused
        target = next(block_vars["image_path_iterator"])
        if isinstance(picture, Figure):
            picture.savefig(target, dpi=100)
        else:
            shutil.copyfile(picture, target)
        paths.append(target)
    return figure_rst(paths, gallery_conf["src_dir"])


def setup(app):
    app.add_directive("pycon", PyconDirective)
    app.add_directive("command-output", CommandOutputDirective)
    app.add_directive("markdown-table", MarkdownTableDirective)
    app.connect("source-read", _fresh_namespace)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
