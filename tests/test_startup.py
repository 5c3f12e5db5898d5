"""Start-up: the quick commands import only what they need.

``softmax --help``, ``-h``, ``--version`` and ``softmax explain`` run as real
processes with ``PYTHONPROFILEIMPORTTIME=1`` (what ``python -X importtime``
turns on), and the modules they imported are read from that report: none of
scikit-learn, Numba, Dask, pandas, pyarrow or matplotlib. Wall times are not
asserted (machines differ); the imports are what makes a start slow.

The command line lists its commands without importing their modules, from
the table in :mod:`softmax.cli`; the checks at the end keep that table equal
to the commands themselves.
"""

import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import softmax
from softmax.cli import app

#: Packages that --help, -h, --version and explain must not import (explain computes with NumPy only).
HEAVY = ("sklearn", "numba", "dask", "distributed", "pandas", "pyarrow", "matplotlib", "scipy")


def _executable() -> str:
    found = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    assert Path(found).exists(), "the softmax console script is not installed"
    return found


def _run(args: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `args` with Python's import report on; the result and the top-level packages imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env |= {"PYTHONPROFILEIMPORTTIME": "1", "COLUMNS": "200"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    imported = set()
    report = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", line)
        if match:
            imported.add(match.group(1).split(".")[0])
        elif not line.startswith("import time:"):
            report.append(line)
    done.stderr = "\n".join(report)
    assert "softmax" in imported, "no import report: PYTHONPROFILEIMPORTTIME was not honoured"
    return done, imported


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], "explain"),
        (["-h"], "Commands"),
        (["--version"], f"softmax {softmax.__version__}"),
        (["explain", "3", "7", "14"], "Scores to probabilities"),
    ],
    ids=["help", "h", "version", "explain"],
)
def test_quick_commands_import_nothing_heavy(args, expected):
    done, imported = _run([_executable(), *args])
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    heavy = sorted(m for m in HEAVY if m in imported)
    assert not heavy, f"softmax {' '.join(args)} imported {heavy}"
    if args[0] != "explain":
        assert "numpy" not in imported


def test_python_m_softmax_runs_the_command():
    done, imported = _run([sys.executable, "-m", "softmax", "--version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"softmax {softmax.__version__}"
    assert not sorted(m for m in HEAVY if m in imported)


def test_import_softmax_is_light_until_the_estimator_is_used():
    code = (
        "import sys, softmax\n"
        f"print(sorted(m for m in {HEAVY + ('numpy',)!r} if m in sys.modules))\n"
        "from softmax import SoftmaxRegression, load, softmax as f, ModelFileError, "
        "SoftmaxInputError\n"
        "print('sklearn' in sys.modules, SoftmaxRegression.__module__, f([0.0, 0.0]).tolist())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert after == "True softmax.estimator [0.5, 0.5]"


def test_the_package_namespace():
    for name in softmax.__all__:
        assert getattr(softmax, name) is not None
    assert set(softmax.__all__) <= set(dir(softmax))
    assert softmax.SoftmaxRegression is importlib.import_module("softmax.estimator").SoftmaxRegression
    assert softmax.softmax is importlib.import_module("softmax.functions").softmax
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        softmax.nothing  # noqa: B018


# -- the table of commands agrees with the commands ------------------------------------


def _loaded_commands() -> dict:
    """Every command, its module imported: name -> click command."""
    import typer

    from softmax.cli import app as cli_app

    for module, _ in _table().values():
        importlib.import_module(module)
    return typer.main.get_group(cli_app).commands


def _table() -> dict[str, tuple[str, str]]:
    return importlib.import_module("softmax.cli.app")._LAZY


def test_every_command_is_listed_with_its_own_summary():
    commands = _loaded_commands()
    assert list(_table()) == [n for n in _table() if n in commands]
    assert set(commands) == set(_table()), "a command is missing from softmax.cli's table"
    for name, (_, summary) in _table().items():
        first = inspect.cleandoc(commands[name].help).split("\n\n")[0]
        assert summary == " ".join(first.split()), name


def test_help_lists_the_same_commands_loaded_or_not():
    from typer.testing import CliRunner

    lazily = _run([_executable(), "--help"])[0].stdout
    _loaded_commands()
    loaded = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}, prog_name="softmax")
    assert loaded.exit_code == 0
    assert lazily == loaded.stdout


def test_bundled_data_sets_in_the_options_are_the_library_s():
    from softmax.cli.options import BUNDLED
    from softmax.datasets import BUNDLED as LIBRARY

    assert BUNDLED == LIBRARY


def test_an_unknown_command_is_a_usage_error():
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["fitt"])
    assert result.exit_code == 2
    assert "No such command" in result.output


# -- Numba kernels compiled ahead ----------------------------------------------------------


def test_warm_up_reaches_the_compiled_kernels_with_every_kind_of_argument(monkeypatch):
    import numpy as np

    from softmax.loss import kernels, warmup

    calls = []

    def loss_gradient(X, coef, b, y, sw, *, gradient, keep_proba):
        n, d = X.shape  # X may be a CSR matrix (the sparse kernels)
        calls.append(("loss", X.dtype, coef.shape[0], n * d * coef.shape[0], y.ndim,
                      b is None, sw is None, gradient, keep_proba))
        return 0.0, None, np.full((coef.shape[0], n), 1 / coef.shape[0], X.dtype)

    def hessian_product(X, proba, v_coef, v_intercept, sw):
        calls.append(("hessp", X.dtype, v_coef.shape[0]))

    monkeypatch.setattr(kernels, "loss_gradient", loss_gradient)
    monkeypatch.setattr(kernels, "hessian_product", hessian_product)
    assert warmup.warm_up() >= 0
    losses = [c for c in calls if c[0] == "loss"]
    assert all(c[3] >= kernels._COMPILED_MIN_WORK for c in losses)  # large enough to compile
    assert {c[1] for c in calls} == {np.dtype(np.float32), np.dtype(np.float64)}
    assert {c[2] for c in calls} == {8, kernels._FUSED_MAX_CLASSES + 1}  # fused and block kernels
    assert {c[4:] for c in losses} == {
        (ndim, b, sw, g, keep) for ndim in (1, 2) for b in (True, False) for sw in (True, False)
        for g in (True, False) for keep in (True, False)
    }
    assert sum(c[0] == "hessp" for c in calls) == sum(c[-1] for c in losses)


@pytest.mark.slow
def test_a_fit_after_the_warm_up_compiles_nothing(tmp_path):
    """`python -m softmax.loss.warmup`, then fits in a fresh process only load Numba's cache.

    With the C kernels switched off, as where they could not be built: they
    would take these fits (few classes) and leave Numba's fused kernels unused.
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "SOFTMAX_NATIVE": "off"}
    subprocess.run([sys.executable, "-m", "softmax.loss.warmup"], env=env, check=True,
                   timeout=600)
    fit = (
        "import numpy as np\n"
        "from softmax import SoftmaxRegression\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((30_000, 100))\n"
        "y = (X[:, :10] + rng.gumbel(size=(30_000, 10))).argmax(1)\n"
        "SoftmaxRegression(max_iter=5).fit(X, y)\n"
        "SoftmaxRegression(max_iter=5).fit(X.astype(np.float32), y,\n"
        "                                  sample_weight=rng.uniform(size=30_000))\n"
    )
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", fit], capture_output=True,
                          text=True, env={**env, "NUMBA_DEBUG_CACHE": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "data loaded" in done.stdout  # the compiled kernels ran, from the cache
    assert "data saved" not in done.stdout, done.stdout  # and nothing new was compiled
