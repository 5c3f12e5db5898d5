"""Smoke tests of the benchmark harness (benchmarks/bench_solvers.py), on tiny problems."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_solvers  # noqa: E402
from problems import (  # noqa: E402
    PROBLEM_NAMES,
    Problem,
    build_problems,
    make_planted_sparse,
    mean_objective,
)
from report import TABLE_COLUMNS  # noqa: E402
from suite import SolverFilter, skip_reason  # noqa: E402
from timing import FitResult, Runner, SolverSpec, relative_gap, time_to_reference  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    (problem,) = build_problems(["iris"])
    return problem


def _fit(spec, problem, tol):
    result = Runner(problem.X, problem.y, isolate=False).fit(spec, tol=tol)
    assert result.error is None
    return problem.objective(result.coef, result.intercept)


def test_mean_objective_matches_the_estimators_objective(iris):
    from softmax import SoftmaxRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol 1e-10 may be below what L-BFGS reaches on raw iris
        model = SoftmaxRegression(tol=1e-8).fit(iris.X, iris.y)
    f = mean_objective(iris.X, iris.y, model.coef_, model.intercept_, 1.0)
    assert f == pytest.approx(model.objective_history_[-1], rel=1e-12)


def test_gap_of_a_tight_sklearn_fit_is_below_1e8(iris):
    fstar = _fit(SolverSpec("softmax", "lbfgs"), iris, 1e-12)
    f = _fit(SolverSpec("sklearn", "lbfgs", threads=1), iris, 1e-10)
    assert abs(relative_gap(f, fstar)) < 1e-8
    loose = _fit(SolverSpec("sklearn", "lbfgs", threads=1), iris, 1e-2)
    assert relative_gap(loose, fstar) > 1e-8  # a loose fit is seen as one


def test_time_to_reference_reports_the_first_tol_that_reaches(iris):
    runner = Runner(iris.X, iris.y, isolate=False)
    fstar = _fit(SolverSpec("softmax", "lbfgs"), iris, 1e-12)
    out = time_to_reference(runner, SolverSpec("softmax", "lbfgs"), iris, fstar)
    assert out.reached and out.gap <= 1e-8 and out.n_iter > 0 and out.time > 0
    looser = runner.fit(SolverSpec("softmax", "lbfgs"), tol=out.tol * 10)
    assert relative_gap(iris.objective(looser.coef, looser.intercept), fstar) > 1e-8
    # The reported time is the median of repeats (3 at least; quick fits up to 7).
    assert 3 <= out.extra["repeats"] <= 7


def test_a_fit_time_is_the_median_of_its_runs():
    assert FitResult([0.3, 0.1, 5.0], 1, None, None).time == 0.3
    assert FitResult([0.4, 0.2], 1, None, None).time == pytest.approx(0.3)


@pytest.mark.parametrize("growth", [10, 0], ids=["more-iterations", "same-point"])
def test_a_search_that_stops_improving_ends_as_stalled(iris, growth):
    class Stuck:  # the same (poor) coefficients at every tol
        time_cap = 10.0

        def __init__(self):
            self.calls = 0

        def fit(self, spec, *, tol, **kwargs):
            self.calls += 1
            coef = np.zeros((3, 4))
            return FitResult([0.01], 10 + growth * self.calls, coef, np.zeros(3))

    runner = Stuck()
    out = time_to_reference(runner, SolverSpec("sklearn", "lbfgs"), iris, 0.19)
    assert out.status == "did not reach" and "stalled" in out.note and runner.calls == 3


def test_missing_solver_is_an_error_row_not_a_crash(iris):
    runner = Runner(iris.X, iris.y, isolate=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = time_to_reference(runner, SolverSpec("softmax", "no-such-solver"), iris, 0.19)
    assert out.status == "error"
    assert skip_reason("softmax", "no-such-solver", iris) is not None


def test_quick_problems_and_cholesky_skip():
    dense, dense32, sparse = build_problems(["dense", "dense32", "sparse"], quick=True)
    assert dense.X.shape == (5_000, 100) and dense32.dtype == np.float32
    assert dense.target_rtol == 1e-8 and dense32.target_rtol == 1e-6
    assert sp.isspmatrix_csr(sparse.X) and sparse.X.shape == (5_000, 2_000)
    assert np.all(np.diff(sparse.X.indptr) == 20) and sparse.n_classes == 20
    X2, y2 = make_planted_sparse(5_000, 2_000)
    assert (X2 != sparse.X).nnz == 0 and np.array_equal(y2, sparse.y)  # seeded
    full = Problem("sparse", sp.csr_matrix((1, 20_000)), np.arange(20), "full-size shape", big=True)
    assert "Hessian" in skip_reason("sklearn", "newton-cholesky", full)
    assert skip_reason("softmax", "gd", full) is not None
    assert skip_reason("sklearn", "lbfgs", full) is None


def test_solver_filter():
    f = SolverFilter("lbfgs,ours:newton-cg")
    assert f("softmax", "lbfgs") and f("sklearn", "lbfgs") and f("softmax", "newton-cg")
    assert not f("sklearn", "newton-cg") and not f("softmax", "gd")
    assert SolverFilter(None)("sklearn", "anything")


def test_harness_prints_and_writes_the_table(tmp_path, capsys):
    output = tmp_path / "report.md"
    bench_solvers.main(["--quick", "--problems", "iris", "--solvers", "ours:lbfgs,ours:missing",
                        "--in-process", "--output", str(output)])
    printed = capsys.readouterr().out
    assert output.read_text().strip() == printed.strip()
    assert "| " + " | ".join(TABLE_COLUMNS) + " |" in printed
    assert "num_threads=" in printed and "scikit-learn" in printed
    rows = [line for line in printed.splitlines() if line.startswith("| iris |")]
    lbfgs = next(r for r in rows if "| ours lbfgs |" in r)
    cells = [c.strip() for c in lbfgs.strip("|").split("|")]
    assert float(cells[2]) > 0 and int(cells[3]) > 0 and float(cells[4]) <= 1e-8
    assert any("| ours missing | skipped |" in r for r in rows)


def test_a_given_reference_skips_the_reference_fits(iris, tmp_path, capsys):
    # --fstar reuses an earlier report's optimum (probe1000's reference fit takes minutes).
    fstar = _fit(SolverSpec("sklearn", "newton-cholesky", threads=1), iris, 1e-12)
    output = tmp_path / "report.md"
    bench_solvers.main(["--quick", "--problems", "iris", "--solvers", "ours:lbfgs", "--in-process",
                        "--fstar", f"iris={fstar!r}", "--output", str(output)])
    printed = capsys.readouterr().out
    assert "given with --fstar" in printed and "reference ours" not in printed
    lbfgs = next(r for r in printed.splitlines() if r.startswith("| iris | ours lbfgs |"))
    assert float(lbfgs.strip("|").split("|")[4]) <= 1e-8


def test_sklearn_thread_settings_can_be_narrowed(iris, tmp_path, capsys):
    # --sklearn-threads 2: one setting tried (probe1000's fits take tens of minutes each).
    fstar = _fit(SolverSpec("sklearn", "newton-cholesky", threads=1), iris, 1e-12)
    bench_solvers.main(["--quick", "--problems", "iris", "--solvers", "sklearn:lbfgs",
                        "--in-process", "--fstar", f"iris={fstar!r}", "--sklearn-threads", "2",
                        "--output", str(tmp_path / "report.md")])
    printed = capsys.readouterr().out
    best = next(r for r in printed.splitlines() if "| sklearn lbfgs, best threads" in r)
    assert "best threads (2)" in best and "other:" not in best


def test_probe1000_is_opt_in():
    assert "probe1000" not in PROBLEM_NAMES
    (probe,) = build_problems(["probe1000"], quick=True)
    assert probe.n_classes <= 50 and probe.dtype == np.float32
    assert probe.reference_ours_only and probe.first_tol == 1e-5


def test_eval_bench_prints_the_floor_from_its_own_measurements(capsys, monkeypatch):
    import eval_bench

    monkeypatch.setattr(eval_bench, "LARGE_GEMM_SIDE", 200)
    variants = "ours,read X,read X 2-thread"
    eval_bench.main(["--sizes", "3000", "--dtypes", "float64", "--repeats", "1", "--pause", "0",
                     "--variants", variants])
    out = capsys.readouterr().out
    floor = [line for line in out.splitlines() if line.strip().startswith("floor:")]
    assert len(floor) == 1 and "4ndk at" in floor[0] and "ours / floor" in floor[0]
