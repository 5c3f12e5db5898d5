"""The documentation cannot rot: its examples run, its public names have examples.

* Every gallery script (``docs/examples/plot_*.py``) runs on tiny data
  (``SOFTMAX_DOCS_TINY=1``, matplotlib's Agg backend), all in one subprocess
  so that the imports are paid once.
* Every public class and function (``softmax.__all__`` and the public
  modules' ``__all__``) has a numpydoc ``Examples`` section with ``>>>`` lines,
  which ``pytest --doctest-modules`` runs.
* The docs' Sphinx extension finds the README and benchmark tables it quotes,
  and the command-line page shows every command.

The full Sphinx build (a minute or more) is ``make docs``, and the slow test
at the end (``make test-slow``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("plot_*.py"))

sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS))
try:
    import softmax_docs
finally:
    sys.path.remove(str(DOCS / "_ext"))
    sys.path.remove(str(DOCS))

#: Modules whose ``__all__`` is public API; the API reference has a page for each.
PUBLIC_MODULES = [
    "softmax",
    "softmax.functions",
    "softmax.explain",
    "softmax.penalties",
    "softmax.solvers",
    "softmax.inference",
    "softmax.datasets",
    "softmax.plotting",
    "softmax.bandits",
]

_RUN_ALL = textwrap.dedent(
    """
    import json, runpy, sys, time, traceback
    results = {}
    for path in sys.argv[1:]:
        start = time.perf_counter()
        try:
            runpy.run_path(path, run_name="__main__")
            results[path] = {"ok": True, "seconds": time.perf_counter() - start}
        except BaseException:
            results[path] = {"ok": False, "error": traceback.format_exc(limit=-8)}
    print("RESULTS" + json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def gallery_runs(tmp_path_factory) -> dict:
    """Run every gallery script once, on tiny data, in a scratch folder."""
    env = dict(os.environ, SOFTMAX_DOCS_TINY="1", MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, "-c", _RUN_ALL, *map(str, EXAMPLES)],
        cwd=tmp_path_factory.mktemp("gallery"), env=env, capture_output=True, text=True,
        timeout=600,
    )
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULTS")), None)
    assert line is not None, f"the gallery runner died:\n{done.stderr[-3000:]}"
    return json.loads(line[len("RESULTS"):])


def test_gallery_has_examples():
    assert 8 <= len(EXAMPLES) <= 12, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_gallery_script_runs(script, gallery_runs):
    result = gallery_runs[str(script)]
    assert result["ok"], result.get("error")


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_gallery_script_has_a_title(script):
    """sphinx-gallery needs a docstring whose first lines are a title and its underline."""
    doc = ast_docstring(script)
    lines = [l for l in doc.strip().splitlines()]
    assert len(lines) >= 3 and set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), doc


def ast_docstring(path: Path) -> str:
    import ast

    return ast.get_docstring(ast.parse(path.read_text()), clean=False) or ""


def _public_objects():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                yield f"{module_name}.{name}", obj


PUBLIC = dict(_public_objects())


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_has_an_example(name):
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert re.search(r"^Examples\n-{8,}\n", doc, re.MULTILINE), f"{name}: no Examples section"
    examples = doc.split("Examples\n--------", 1)[1]
    assert ">>>" in examples, f"{name}: its Examples section has no >>> line"


def test_api_reference_covers_the_public_modules():
    conf = (DOCS / "conf.py").read_text()
    for module_name in PUBLIC_MODULES:
        assert f'"{module_name}":' in conf, f"docs/conf.py does not document {module_name}"


# -- the docs' extension -------------------------------------------------------------


def test_quoted_tables_are_found():
    """The guide quotes these tables; a README edit that loses one must fail here."""
    readme = (ROOT / "README.md").read_text()
    for after in ("## Solvers, penalties and targets", "Small problems, our **default**",
                  "Large problems, `bench_solvers.py`"):
        rows = softmax_docs.markdown_table(readme, after)
        assert len(rows) >= 3 and len({len(r) for r in rows}) == 1, after
    bandits = (ROOT / "benchmarks" / "results" / "bandits.md").read_text()
    assert len(softmax_docs.markdown_table(bandits, "# The 10-armed testbed")) >= 10
    for page in (DOCS / "guide").glob("*.rst"):
        for after in re.findall(r":after: (.+)", page.read_text()):
            assert any(after.strip() in text for text in (readme, bandits)), (page, after)


def test_markdown_table_inline_code():
    rows = softmax_docs.markdown_table("x\n| a | `b` |\n| --- | --- |\n| 1 | **2** |\n\n", "x")
    assert rows == [["a", "``b``"], ["1", "**2**"]]


def test_session_shows_values_prints_and_warnings():
    pairs = softmax_docs.run_session(
        "import warnings\nx = 2\nx + 1\nprint('hi')\nwarnings.warn('careful')\nNone", {}
    )
    assert [out for _, out in pairs] == ["", "", "3\n", "hi\n", "UserWarning: careful\n", ""]
    assert softmax_docs.as_doctest([("for i in []:\n    pass", "")]) == (
        ">>> for i in []:\n...     pass"
    )


def test_cli_page_shows_every_command():
    import click
    import typer

    from softmax.cli.app import app

    page = (DOCS / "guide" / "cli.rst").read_text()
    group = typer.main.get_command(app)
    names = group.list_commands(click.Context(group))
    assert "fit" in names
    for name in names:
        assert f".. command-output:: softmax {name} --help" in page, name


def test_guide_pages_are_in_the_toctree():
    index = (DOCS / "guide" / "index.rst").read_text()
    for page in (DOCS / "guide").glob("*.rst"):
        if page.stem != "index":
            assert f"   {page.stem}\n" in index, page.name


# -- the whole build -----------------------------------------------------------------


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-5000:]
