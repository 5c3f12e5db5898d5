"""Which solvers run on which problem, the reference optimum, and one problem's results."""

from __future__ import annotations

import functools
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from problems import Problem, mean_objective
from timing import PLAIN_L2, TOLS, Outcome, Runner, SolverSpec, relative_gap, time_to_reference

__all__ = [
    "REFERENCE_TOL",
    "SKLEARN_SOLVERS",
    "SKLEARN_THREADS",
    "ProblemResult",
    "Row",
    "compute_reference",
    "default_pools_equal",
    "our_solver_names",
    "SolverFilter",
    "plain_l2_reason",
    "run_problem",
    "skip_reason",
]

SKLEARN_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")
#: threadpool_limits values tried for scikit-learn's "best" setting (all APIs).
SKLEARN_THREADS = (1, 2)
#: Our solvers too slow for the big problems.
SLOW_SOLVERS = frozenset({"gd"})
#: Tolerance of the reference fits.
REFERENCE_TOL = 1e-12
#: A problem's time cap per fit: this many times its slowest reference fit...
CAP_PER_REFERENCE = 50.0
#: ...but at least this (and at most --time-cap).
MIN_CAP_S = 10.0
#: Another thread setting of a scikit-learn solver is stopped once this many
#: times slower than the fastest so far (it cannot be the best)...
SLOWER_FACTOR = 2.0
#: ...unless it has run less than this (stopping costs a worker restart).
MIN_SLOWER_S = 5.0
#: Largest dense Hessian a Cholesky solver may need.
MAX_HESSIAN_BYTES = 2 * 1024**3


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def our_solver_names() -> list[str]:
    """Names registered in ``softmax.solvers.SOLVERS`` today (empty if it cannot be imported)."""
    try:
        from softmax.solvers import SOLVERS
    except Exception:  # noqa: BLE001 - a broken tree must not stop the benchmark
        return []
    return list(SOLVERS)


@functools.cache
def _probe_data():
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _plain(estimator_cls) -> dict:
    params = estimator_cls().get_params()
    return {k: v for k, v in PLAIN_L2.items() if k in params}


@functools.cache
def plain_l2_reason(name: str) -> str | None:
    """Why our solver ``name`` cannot run the plain L2 benchmark, or None if it can.

    A solver is used when it is registered, its class does not declare
    penalties without L2, and a default ``SoftmaxRegression(solver=name)`` fit
    on standardised iris reaches the L-BFGS optimum (so an L1-only solver, or
    one that needs other options, is skipped rather than mis-timed).
    """
    import warnings

    try:
        from softmax import SoftmaxRegression
        from softmax.solvers import SOLVERS
    except Exception as exc:  # noqa: BLE001
        return f"softmax cannot be imported: {exc}"
    cls = SOLVERS.get(name)
    if cls is None:
        return "not registered in softmax.solvers.SOLVERS"
    for attr in ("penalties", "supported_penalties"):
        declared = getattr(cls, attr, None)
        if declared is not None and not any("l2" in str(p).lower() for p in declared):
            return f"declares penalties {declared!r}, not plain L2"
    X, y = _probe_data()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = SoftmaxRegression(tol=1e-10).set_params(**_plain(SoftmaxRegression)).fit(X, y)
            model = SoftmaxRegression(solver=name, tol=1e-8, max_iter=20_000)
            model = model.set_params(**_plain(SoftmaxRegression)).fit(X, y)
    except Exception as exc:  # noqa: BLE001
        return f"a default fit fails: {type(exc).__name__}: {str(exc)[:200]}"
    codes = np.unique(y, return_inverse=True)[1]
    f_ref = mean_objective(X, codes, ref.coef_, ref.intercept_, 1.0)
    f = mean_objective(X, codes, model.coef_, model.intercept_, 1.0)
    if abs(relative_gap(f, f_ref)) > 1e-5:
        return (
            f"a default fit does not minimise the plain L2 objective (iris probe: relative "
            f"difference {relative_gap(f, f_ref):.1e})"
        )
    return None


def skip_reason(library: str, solver: str, problem: Problem) -> str | None:
    """Why ``solver`` is not run on ``problem`` (None: it is)."""
    if "cholesky" in solver:
        dof = (problem.n_features + 1) * problem.n_classes
        nbytes = dof * dof * 8
        if nbytes > MAX_HESSIAN_BYTES:
            size = f"{nbytes / 1e12:.1f} TB" if nbytes >= 1e12 else f"{nbytes / 1e9:.1f} GB"
            return (
                f"needs a dense {dof:,} x {dof:,} Hessian ({size} in float64): "
                "cannot run on this problem"
            )
    if library == "softmax":
        if solver in SLOW_SOLVERS and problem.big:
            return "gradient descent is too slow for the big problems (skipped by design)"
        return plain_l2_reason(solver)
    return None


class SolverFilter:
    """The ``--solvers`` choice: which ``(library, solver)`` pairs run.

    Comma-separated entries: ``name`` (ours and scikit-learn's of that name),
    ``ours:name`` or ``sklearn:name``; empty or None: all. ``requested_ours``
    lists our solvers named explicitly (so a missing one gets a "skipped" row).
    """

    def __init__(self, text: str | None = None) -> None:
        self.wanted: set[tuple[str, str]] | None = None
        if not text:
            return
        self.wanted = set()
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            if ":" in entry:
                lib, name = entry.split(":", 1)
                lib = {"ours": "softmax", "softmax": "softmax", "sklearn": "sklearn"}.get(lib.strip())
                if lib is None:
                    raise ValueError(f"--solvers: unknown library in {entry!r} (use ours: or sklearn:)")
                self.wanted.add((lib, name.strip()))
            else:
                self.wanted.add(("softmax", entry))
                self.wanted.add(("sklearn", entry))

    @property
    def requested_ours(self) -> list[str]:
        return sorted(n for lib, n in self.wanted or () if lib == "softmax")

    def __call__(self, library: str, solver: str) -> bool:
        return self.wanted is None or (library, solver) in self.wanted


def default_pools_equal(threads: int) -> bool:
    """Whether every thread pool loaded here defaults to ``threads`` threads.

    Then "default threads" is the same setting as ``threadpool_limits(threads)``.
    """
    from threadpoolctl import threadpool_info

    info = threadpool_info()
    return bool(info) and all(pool.get("num_threads") == threads for pool in info)


@dataclass
class Row:
    """One table row: an outcome and how it is labelled."""

    label: str
    outcome: Outcome
    is_sklearn_best: bool = False
    note: str = ""


@dataclass
class ProblemResult:
    problem: Problem
    fstar: float
    reference: list[str]
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    time_cap: float = math.nan

    @property
    def best_sklearn_time(self) -> float:
        times = [r.outcome.time for r in self.rows if r.is_sklearn_best and r.outcome.reached]
        return min(times) if times else math.nan


def compute_reference(problem: Problem, runner: Runner, *, our_names, time_cap: float):
    """``f*``: the lowest objective of very tight fits (ours and scikit-learn's), on float64 data.

    ``runner`` must hold ``problem.X64``. Returns ``(fstar, details)``, with
    one line of details per reference fit, and the slowest reference fit's seconds.
    """
    usable = [n for n in our_names if skip_reason("softmax", n, problem) is None]
    if problem.big:
        # Tight fits of big problems are slow: one of ours (Newton-CG if there is
        # one, it is the most precise per second) and scikit-learn's Newton-CG.
        ours = [n for n in ("newton-cg", "lbfgs") if n in usable][:1]
        sk = ["newton-cg"]
    else:
        ours = [n for n in usable if n == "lbfgs" or n.startswith("newton")]
        sk = list(SKLEARN_SOLVERS)
    if problem.reference_ours_only:
        ours, sk = ["newton-cg"], []
    tol = problem.reference_tol or REFERENCE_TOL
    candidates = [SolverSpec("softmax", n) for n in ours]
    candidates += [SolverSpec("sklearn", n, threads=1) for n in sk
                   if skip_reason("sklearn", n, problem) is None]
    values, details, value_line, seconds = [], [], {}, [0.0]
    for spec in candidates:
        result = runner.fit(spec, tol=tol, max_iter=100_000, time_cap=time_cap)
        if result.error is not None or result.timed_out:
            why = result.error or f"over the {time_cap:g} s cap"
            details.append(f"{spec.label} (tol={tol:g}): failed: {why}")
            log(f"  reference {spec.label}: failed: {why}")
            continue
        f = problem.objective(result.coef, result.intercept)
        values.append(f)
        seconds.append(result.time)
        value_line[f] = len(details)
        details.append(f"{spec.label} (tol={tol:g}): f = {f:.15g} "
                       f"({result.n_iter} iterations, {result.time:.3g} s)")
        log(f"  reference {spec.label}: f = {f:.15g}, {result.n_iter} it, {result.time:.3g} s")
    if not values:
        raise RuntimeError(f"no reference fit succeeded on {problem.name}: {details}")
    fstar = min(values)
    details[value_line[fstar]] += "  <- f*"
    return fstar, details, max(seconds)


def _sklearn_rows(problem, runner, fstar, solver, *, max_iter,
                  thread_settings=SKLEARN_THREADS) -> list[Row]:
    """Best-of-threads and default-threads rows for one scikit-learn solver."""
    by_threads: dict[int, Outcome] = {}
    first = SolverSpec("sklearn", solver, threads=thread_settings[0])
    log(f"  sklearn {solver} threads={first.threads}")
    by_threads[first.threads] = out = time_to_reference(runner, first, problem, fstar, max_iter=max_iter)
    for threads in thread_settings[1:]:
        spec = SolverSpec("sklearn", solver, threads=threads)
        time_limited = "cap" in out.note or "budget" in out.note
        if out.status == "error" or (out.status == "did not reach" and not time_limited):
            # The same iterations with another thread count: it would fail the same way.
            by_threads[threads] = Outcome(spec, out.status, note=out.note)
            continue
        # The looser tols failed on the gap, whatever the thread count: start at the found one.
        log(f"  sklearn {solver} threads={threads}")
        tols = [t for t in TOLS if t <= out.tol]
        fastest = min((o.time for o in by_threads.values() if o.reached), default=None)
        slower_than = None if fastest is None else max(MIN_SLOWER_S, SLOWER_FACTOR * fastest)
        by_threads[threads] = time_to_reference(runner, spec, problem, fstar, tols=tols,
                                                max_iter=max_iter, slower_than=slower_than)
    reached = {t: o for t, o in by_threads.items() if o.reached}
    if reached:
        best_threads = min(reached, key=lambda t: reached[t].time)
    else:
        best_threads = thread_settings[0]
    best = by_threads[best_threads]
    others = "; ".join(
        f"{t} thread{'s' if t > 1 else ''}: "
        + (f"{o.time:.3g} s" if o.reached
           else f"> {o.time:.3g} s (stopped)" if o.status == "slower" else o.status)
        for t, o in by_threads.items() if t != best_threads
    )
    rows = [Row(f"sklearn {solver}, best threads ({best_threads})", best, is_sklearn_best=True,
                note=f"other: {others}" if others else "")]
    same = next((t for t in thread_settings if default_pools_equal(t)), None)
    if same is not None:
        rows.append(Row(f"sklearn {solver}, default threads", by_threads[same],
                        note=f"default pools are {same} threads here: same setting as "
                             f"threadpool_limits({same}), not re-run"))
    else:
        log(f"  sklearn {solver} default threads")
        spec = SolverSpec("sklearn", solver, threads=None)
        tols = [t for t in TOLS if best.tol is None or t <= best.tol]
        if best.status == "did not reach" and not ("cap" in best.note or "budget" in best.note):
            default = Outcome(spec, best.status, note=best.note)
        else:
            default = time_to_reference(runner, spec, problem, fstar, tols=tols, max_iter=max_iter)
        rows.append(Row(f"sklearn {solver}, default threads", default))
    return rows


def run_problem(
    problem: Problem,
    *,
    include: SolverFilter | None = None,
    time_cap: float = 120.0,
    isolate: bool = True,
    max_iter: int = 100_000,
    our_names=None,
    fstar: float | None = None,
    sklearn_threads: tuple[int, ...] = SKLEARN_THREADS,
) -> ProblemResult:
    """Reference, then time to reference of every selected solver, for one problem.

    ``fstar``: the reference optimum, known from an earlier run (no reference
    fits; every fit gets ``time_cap``). ``sklearn_threads``: the
    ``threadpool_limits`` settings tried for scikit-learn (a subset of
    :data:`SKLEARN_THREADS` saves hours on a problem whose fits take tens of minutes).
    """
    started = time.perf_counter()
    include = SolverFilter() if include is None else include
    our_names = our_solver_names() if our_names is None else list(our_names)
    # Our solvers asked for by name but not registered get a "skipped" row.
    timed_ours = our_names + [n for n in include.requested_ours if n not in our_names]
    log(f"{problem.name}: {problem.description}")
    runner = Runner(problem.X, problem.y, C=problem.C, time_cap=time_cap, isolate=isolate)
    with runner:
        if fstar is not None:
            details = [f"given with --fstar: f = {fstar:.15g} (from an earlier run's reference)"]
            ref_seconds = time_cap / CAP_PER_REFERENCE
        elif problem.dtype == np.float64:
            fstar, details, ref_seconds = compute_reference(
                problem, runner, our_names=our_names, time_cap=3 * time_cap)
        else:
            with Runner(problem.X64, problem.y, C=problem.C, isolate=isolate) as runner64:
                fstar, details, ref_seconds = compute_reference(
                    problem, runner64, our_names=our_names, time_cap=3 * time_cap)
        # Tiny problems get a smaller cap: a fit 50x slower than the slowest
        # tight reference fit has clearly not kept up.
        runner.time_cap = min(time_cap, max(MIN_CAP_S, CAP_PER_REFERENCE * ref_seconds))
        result = ProblemResult(problem, fstar, details, time_cap=runner.time_cap)
        for solver in SKLEARN_SOLVERS:
            if not include("sklearn", solver):
                continue
            reason = skip_reason("sklearn", solver, problem)
            if reason:
                result.rows.append(Row(f"sklearn {solver}",
                                       Outcome(SolverSpec("sklearn", solver), "skipped", note=reason),
                                       is_sklearn_best=True))
                continue
            result.rows.extend(_sklearn_rows(problem, runner, fstar, solver, max_iter=max_iter,
                                             thread_settings=sklearn_threads))
        for solver in timed_ours:
            if not include("softmax", solver):
                continue
            spec = SolverSpec("softmax", solver)
            reason = skip_reason("softmax", solver, problem)
            if reason:
                result.rows.append(Row(spec.label, Outcome(spec, "skipped", note=reason)))
                continue
            log(f"  {spec.label}")
            out = time_to_reference(runner, spec, problem, fstar, max_iter=max_iter)
            result.rows.append(Row(spec.label, out))
    result.seconds = time.perf_counter() - started
    log(f"{problem.name}: done in {result.seconds:.0f} s")
    return result
