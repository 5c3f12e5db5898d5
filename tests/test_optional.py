"""Optional dependencies: each feature that needs one names the extra that installs it.

The core install leaves out Numba, pyarrow, matplotlib, Dask and palmerpenguins
(``pyproject.toml``'s extras); a missing one must give a clear error where it is
needed, and the core (CSV in, fit, predict, model files) must work without any.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from softmax._optional import MissingDependencyError, require


def test_require_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install 'softmax\[plot\]'"):
        require("not_a_module_softmax_needs", "plot", "Drawing pictures")
    assert require("numpy", "core", "x").__name__ == "numpy"


def _run_without(modules: list[str], code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where importing ``modules`` fails."""
    # A finder that refuses them, as if not installed (a None in sys.modules
    # would break libraries that look there, such as scikit-learn's pyarrow check).
    blocker = textwrap.dedent(
        f"""
        import sys, importlib.abc
        class Missing(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {modules!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        sys.meta_path.insert(0, Missing())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", blocker + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120,
    )


def test_core_works_without_the_extras(tmp_path):
    # Fit from CSV, predict, save and load: no Numba, pyarrow, matplotlib, Dask.
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.to_csv(tmp_path / "iris.csv", index=False)
    code = f"""
        import numpy as np, softmax
        from softmax.cli import app
        from typer.testing import CliRunner
        result = CliRunner().invoke(app, [
            "fit", {str(tmp_path / 'iris.csv')!r}, "--target", "target",
            "-o", {str(tmp_path / 'm.softmax')!r}, "-q",
        ])
        assert result.exit_code == 0, (result.output, repr(result.exception))
        model = softmax.load({str(tmp_path / 'm.softmax')!r})
        assert model.predict(np.zeros((1, 4))).shape == (1,)
        for name in ("numba", "pyarrow", "matplotlib", "dask", "palmerpenguins"):
            assert name not in sys.modules, name
    """
    result = _run_without(["numba", "pyarrow", "matplotlib", "dask", "palmerpenguins"], code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "blocked, code, extra",
    [
        ("matplotlib", "from softmax.plotting.base import figure; figure(1, 1)", "plot"),
        ("palmerpenguins", "from softmax.datasets import load_dataset; load_dataset('penguins')",
         "datasets"),
    ],
)
def test_a_missing_extra_is_named(blocked, code, extra):
    result = _run_without([blocked], code)
    assert result.returncode != 0
    assert "MissingDependencyError" in result.stderr
    assert f"softmax[{extra}]" in result.stderr


def test_cli_reports_a_missing_parquet_reader_in_one_line(tmp_path):
    path = tmp_path / "data.parquet"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]}).to_parquet(path)
    code = f"""
        from softmax.cli import app
        from typer.testing import CliRunner
        result = CliRunner().invoke(app, ["fit", {str(path)!r}, "--target", "y", "-q"])
        print(result.output)
        raise SystemExit(result.exit_code)
    """
    result = _run_without(["pyarrow"], code)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error:" in result.stdout and "softmax[parquet]" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
