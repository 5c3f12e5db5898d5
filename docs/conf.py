"""Sphinx configuration for the softmax documentation (``make docs``).

Why Sphinx: the people this library is for read scikit-learn's and
statsmodels' documentation, which are Sphinx sites with a sphinx-gallery
gallery and an API reference generated from numpydoc docstrings; the same
tools give the same shape here, and they execute the examples at build time,
so every figure and number on a page comes from code that ran. (MkDocs with
mkdocstrings is the alternative; it renders numpydoc less completely and has
no gallery that runs scripts.)
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # the small extension that runs the pages' code
sys.path.insert(0, str(HERE.parent / "src"))  # the package, even without an install

from softmax._version import __version__  # noqa: E402  (the one place the version lives)

os.environ.setdefault("MPLBACKEND", "Agg")

project = "softmax"
author = "the softmax developers"
copyright = "the softmax developers, BSD-3-Clause"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "softmax_docs",
]

root_doc = "index"
exclude_patterns = ["_build", "examples/*.rst", "**/GALLERY_HEADER.rst", "sg_execution_times.rst"]
templates_path = ["_templates"]

# -- API reference: autosummary pages from the numpydoc docstrings --------------------
#: The public modules; each one's ``__all__`` is its public API (``tests/test_docs.py``
#: checks that every name there has a docstring with an example).
PUBLIC_MODULES = {
    "softmax": "The estimators, the functions, model files and errors",
    "softmax.functions": "The softmax function and its relatives",
    "softmax.explain": "The founding article's comparison",
    "softmax.penalties": "Penalties",
    "softmax.solvers": "Solvers",
    "softmax.inference": "Statistical inference",
    "softmax.datasets": "Data sets and file readers",
    "softmax.plotting": "Pictures",
    "softmax.bandits": "Bandits: softmax exploration",
}


def write_api_pages(folder: Path) -> None:
    """One page per public module: its docstring, then a summary of every name in ``__all__``.

    Written at every build from ``__all__``, so a new public name cannot be left out.
    """
    import importlib
    import inspect

    folder.mkdir(exist_ok=True)
    for name, title in PUBLIC_MODULES.items():
        module = importlib.import_module(name)
        rows = {"class": [], "function": [], "data": []}
        for public in module.__all__:
            if public.startswith("__"):
                continue
            obj = getattr(module, public)
            kind = ("class" if inspect.isclass(obj)
                    else "function" if inspect.isroutine(obj) else "data")
            rows[kind].append(public)
        heading = f"``{name}``: {title}"
        lines = [heading, "=" * len(heading), "", f".. automodule:: {name}", "   :no-members:", ""]
        for kind, label in (("class", "Classes"), ("function", "Functions"), ("data", "Data")):
            if rows[kind]:
                lines += [label, "-" * len(label), "", f".. currentmodule:: {name}", "",
                          ".. autosummary::", "   :toctree: ../generated",
                          f"   :template: autosummary/{kind}.rst", "",
                          *(f"   {n}" for n in rows[kind]), ""]
        text = "\n".join(lines)
        page = folder / f"{name}.rst"
        if not page.exists() or page.read_text() != text:  # unchanged pages stay unchanged
            page.write_text(text)


write_api_pages(HERE / "api" / "modules")

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc Parameters sections say it, in words
numpydoc_show_class_members = False  # members are listed by the class template
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}  # the build needs no network

# -- Gallery: docs/examples/plot_*.py, run at build time ------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "image_scrapers": ("softmax_docs.figure_scraper",),
    "reset_modules": ("softmax_docs.reset_scraper",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "min_reported_time": 1,
    "show_signature": False,
    "write_computation_times": False,
}

# -- HTML -----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"softmax {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["softmax.css"]
html_last_updated_fmt = None


def _skip_member(app, what, name, obj, skip, options):
    """Document a class's methods and properties only where this library defines them.

    Classes show inherited members (``to_onnx`` and ``from_formula`` come from mixins),
    but not those of scikit-learn's base classes (``get_params``, the generated
    ``set_*_request`` methods of metadata routing) or of ``Exception``: they are
    documented where they are defined.
    """
    if what != "class":
        return None
    function = getattr(obj, "fget", obj)  # a property's getter
    if not (inspect.isroutine(function) or isinstance(obj, property)):
        return None
    module = getattr(function, "__module__", None) or ""
    return True if not module.startswith("softmax") else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
