"""Timing fits: one fit, a worker process with a hard time cap, and "time to reference".

Time to reference: a solver is fitted with a decreasing sequence of ``tol``
(:data:`TOLS`) until its objective is within the problem's target relative gap
of the reference optimum ``f*``; the result is the wall time of that *first*
run that reaches it (not the sum of the runs), its iterations and its gap.
A solver "did not reach" when the tightest ``tol`` is not enough, or when a
fit exceeds the time cap.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "TOLS",
    "FitResult",
    "Outcome",
    "Runner",
    "SolverSpec",
    "fit_once",
    "relative_gap",
    "time_to_reference",
]

#: The decreasing tolerances tried, loosest first.
TOLS = tuple(10.0**-k for k in range(3, 13))

#: Our estimator's options that keep the benchmarked problem plain L2 (set when they exist).
PLAIN_L2 = {"standardize": False, "l1_ratio": 0.0, "grouped": False, "label_smoothing": 0.0}

#: A tol search stops when its fits have taken this many time caps in all.
SEARCH_BUDGET_CAPS = 2.0
#: Our estimator's options that keep the benchmarked problem plain L2 (set when they exist).
PLAIN_L2 = {"standardize": False, "l1_ratio": 0.0, "grouped": False, "label_smoothing": 0.0}

#: A tol search stops ("stalled") after this many tighter tols in a row that
#: took as many iterations or more but left the gap above STALL_RATIO times the previous one.
STALL_STEPS = 2
STALL_RATIO = 0.5
#: A fit that reaches the target is run this many times in all (the median
#: reported): the machine's timings vary by a third between runs...
MIN_RUNS = 3
#: ...quick ones more, until this much time is spent...
REPEAT_BUDGET_S = 1.0
#: ...with at most this many runs in all; fits over REPEAT_MAX_S run once (a
#: 1000-class fit takes minutes).
MAX_REPEATS = 7
REPEAT_MAX_S = 60.0


@dataclass(frozen=True)
class SolverSpec:
    """Which solver, from which library, with which thread pools.

    ``library`` is ``"softmax"`` (ours) or ``"sklearn"``. ``threads`` is the
    :func:`threadpoolctl.threadpool_limits` value (all APIs) applied around a
    scikit-learn fit, or ``None`` for the libraries' defaults (what a user
    gets). Ours always runs with ``threads=None``: the estimator sets its own
    thread pools.
    """

    library: str
    solver: str
    threads: int | None = None

    @property
    def label(self) -> str:
        if self.library == "softmax":
            return f"ours {self.solver}"
        return f"sklearn {self.solver}"


@dataclass
class FitResult:
    """One timed fit (possibly repeated: ``time`` is the median of ``times``)."""

    times: list[float]
    n_iter: int
    coef: np.ndarray | None
    intercept: np.ndarray | None
    error: str | None = None
    timed_out: bool = False

    @property
    def time(self) -> float:
        return float(np.median(self.times)) if self.times else math.inf


@dataclass
class Outcome:
    """Time to reference of one solver configuration on one problem.

    ``status`` is ``"ok"``, ``"did not reach"``, ``"error"``, ``"skipped"`` or
    ``"slower"`` (stopped once slower than another setting: ``time`` is a lower bound).
    """

    spec: SolverSpec
    status: str
    time: float = math.nan
    n_iter: int | None = None
    tol: float | None = None
    gap: float = math.nan
    note: str = ""
    n_runs: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        return self.status == "ok"


def relative_gap(f: float, fstar: float) -> float:
    """``(f - f*) / |f*|``."""
    return (f - fstar) / abs(fstar)


def _estimator(spec: SolverSpec, C: float, tol: float, max_iter: int):
    if spec.library == "softmax":
        from softmax import SoftmaxRegression

        model = SoftmaxRegression(C=C, solver=spec.solver, tol=tol, max_iter=max_iter)
        # Pin the plain L2 problem, whatever the defaults become.
        params = model.get_params()
        return model.set_params(**{k: v for k, v in PLAIN_L2.items() if k in params})
    if spec.library == "sklearn":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=C, solver=spec.solver, tol=tol, max_iter=max_iter)
    raise ValueError(f"unknown library {spec.library!r}")


def _thread_context(spec: SolverSpec):
    if spec.threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=spec.threads)


def fit_once(
    spec: SolverSpec,
    X,
    y,
    *,
    C: float = 1.0,
    tol: float,
    max_iter: int = 100_000,
    repeat: bool = False,
) -> FitResult:
    """Fit once, in this process; ``repeat=True``: the repeats of a run made before.

    That is :data:`MIN_RUNS` - 1 fits, more while quick (:data:`MAX_REPEATS` - 1 at most).

    Warnings (ConvergenceWarning, line-search warnings) are silenced: whether
    the fit is good enough is judged by its objective, not by the solver.
    Exceptions become ``FitResult.error``.
    """
    times: list[float] = []
    model = None
    try:
        while True:
            model = _estimator(spec, C, tol, max_iter)
            with warnings.catch_warnings(), _thread_context(spec):
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X, y)
                times.append(time.perf_counter() - start)
            # Repeats follow a first run made elsewhere (the tol search's): one less each.
            enough = len(times) >= MIN_RUNS - 1 and sum(times) >= REPEAT_BUDGET_S
            if not repeat or len(times) >= MAX_REPEATS - 1 or enough:
                break
    except Exception as exc:  # noqa: BLE001 - reported in the table, never fatal
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return FitResult(times, 0, None, None, error=detail.splitlines()[-1][:300])
    n_iter = int(np.max(np.atleast_1d(model.n_iter_)))
    intercept = getattr(model, "intercept_", None)
    return FitResult(times, n_iter, np.asarray(model.coef_), None if intercept is None else np.asarray(intercept))


# -- a worker process, so that a fit over the time cap can be stopped ---------------------------


def _worker_main(conn) -> None:
    # Our compiled kernels are loaded from Numba's cache once per process (a few
    # tenths of a second per kernel and dtype, paid by a user's first large fit in
    # a process, which the README reports apart): the timed fits measure the solvers.
    from softmax.loss.warmup import warm_up

    warm_up()
    X = y = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        kind = message[0]
        if kind == "data":
            _, X, y = message
            conn.send(("ok",))
        elif kind == "fit":
            _, spec, kwargs = message
            conn.send(("result", fit_once(spec, X, y, **kwargs)))
        else:  # "stop"
            return


class Runner:
    """Runs fits of one data set, in a worker process (``isolate=True``) or in this one.

    With a worker, a fit still running ``time_cap`` seconds after it started
    (plus a margin) is stopped by killing the worker, which is restarted for
    the next fit. In this process (``isolate=False``, for tests and tiny
    problems) nothing can be stopped: ``time_cap`` is checked after the fact.
    """

    #: Seconds granted beyond the cap before the worker is killed (pickling, a short repeat).
    MARGIN_S = 2.0
    MARGIN_FRACTION = 0.1

    def __init__(self, X, y, *, C: float = 1.0, time_cap: float = 120.0, isolate: bool = True):
        self.X, self.y, self.C = X, y, C
        self.time_cap = time_cap
        self.isolate = isolate
        self._process = None
        self._conn = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        self._conn.send(("data", self.X, self.y))
        self._conn.recv()

    def fit(self, spec: SolverSpec, *, tol: float, max_iter: int = 100_000, repeat: bool = False,
            time_cap: float | None = None) -> FitResult:
        """Fit, or a ``timed_out`` result when over ``time_cap`` (default: the runner's)."""
        cap = self.time_cap if time_cap is None else time_cap
        kwargs = dict(C=self.C, tol=tol, max_iter=max_iter, repeat=repeat)
        if not self.isolate:
            result = fit_once(spec, self.X, self.y, **kwargs)
        else:
            if self._process is None or not self._process.is_alive():
                self._start()
            self._conn.send(("fit", spec, kwargs))
            if not self._conn.poll(cap * (1 + self.MARGIN_FRACTION) + self.MARGIN_S):
                self._kill()
                return FitResult([], 0, None, None, timed_out=True)
            try:
                result = self._conn.recv()[1]
            except EOFError:  # the worker died (out of memory?)
                self._kill()
                return FitResult([], 0, None, None, error="the worker process died during the fit")
        if result.error is None and result.times and result.times[0] > cap:
            result.timed_out = True
        return result

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        if self._process is not None and self._process.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send(("stop",))
            self._process.join(timeout=10)
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def time_to_reference(
    runner: Runner,
    spec: SolverSpec,
    problem,
    fstar: float,
    *,
    tols=None,
    max_iter: int = 100_000,
    slower_than: float | None = None,
) -> Outcome:
    """Fit with each ``tol`` in turn until the relative gap to ``fstar`` is within target.

    ``tols`` defaults to :data:`TOLS` from the problem's ``first_tol`` on.

    Each fit is capped at ``runner.time_cap`` seconds, and the whole search at
    :data:`SEARCH_BUDGET_CAPS` times that; a search whose gap stops improving
    (:data:`STALL_STEPS`) ends as "did not reach" too.

    Returns the first run that reaches ``problem.target_rtol`` (its time is
    the median of :data:`MIN_RUNS` or more runs, one above :data:`REPEAT_MAX_S`), or a "did not reach" /
    "error" outcome saying why. With ``slower_than`` (seconds: the time of
    another setting of the same solver), a fit running longer is stopped: the
    outcome is "slower", with that time as a lower bound.
    """
    if tols is None:
        tols = [t for t in TOLS if problem.first_tol is None or t <= problem.first_tol]
    target = problem.target_rtol
    gap = math.nan
    n_runs = 0
    budget = SEARCH_BUDGET_CAPS * runner.time_cap
    spent = 0.0
    previous = None  # (gap, n_iter) of the last fit
    stalls = 0
    for tol in tols:
        cap = min(runner.time_cap, budget - spent)
        stop_slow = slower_than is not None and slower_than < cap
        if stop_slow:
            cap = slower_than
        if cap <= 0:
            return Outcome(spec, "did not reach", tol=tol, gap=gap, n_runs=n_runs,
                           note=f"the search exceeded its {budget:.3g} s budget before tol={tol:g}")
        result = runner.fit(spec, tol=tol, max_iter=max_iter, time_cap=cap)
        n_runs += 1
        if result.error is not None:
            return Outcome(spec, "error", tol=tol, note=result.error, n_runs=n_runs)
        if result.timed_out and stop_slow:
            return Outcome(spec, "slower", time=cap, tol=tol, gap=gap, n_runs=n_runs,
                           note=f"stopped after {cap:.3g} s at tol={tol:g}")
        if result.timed_out:
            why = (f"the fit at tol={tol:g} exceeded the {runner.time_cap:.3g} s cap"
                   if cap >= runner.time_cap else
                   f"the search exceeded its {budget:.3g} s budget (fit at tol={tol:g})")
            return Outcome(spec, "did not reach", tol=tol, gap=gap, n_runs=n_runs, note=why)
        spent += result.time
        gap = relative_gap(problem.objective(result.coef, result.intercept), fstar)
        if gap <= target:
            if result.time < REPEAT_MAX_S:
                again = runner.fit(spec, tol=tol, max_iter=max_iter, repeat=True,
                                   time_cap=MIN_RUNS * runner.time_cap)
                if again.error is None and not again.timed_out:
                    result = replace(result, times=result.times + again.times)
            return Outcome(
                spec, "ok", time=result.time, n_iter=result.n_iter, tol=tol, gap=gap,
                n_runs=n_runs, extra={"repeats": len(result.times)},
            )
        # A tighter tol that does not halve the gap, with more iterations (the
        # solver is at the limit of its precision) or the same ones (it stops on
        # another criterion): twice in a row, and tighter tols only cost time.
        if previous is not None and result.n_iter >= previous[1] and gap > STALL_RATIO * previous[0]:
            stalls += 1
            if stalls >= STALL_STEPS:
                return Outcome(
                    spec, "did not reach", tol=tol, gap=gap, n_runs=n_runs,
                    note=f"stalled: relative gap {gap:.1e} > {target:g}, not improving with "
                         f"tighter tol ({result.n_iter} iterations at tol={tol:g})",
                )
        else:
            stalls = 0
        previous = (gap, result.n_iter)
    return Outcome(
        spec, "did not reach", tol=tols[-1] if len(tols) else None, gap=gap, n_runs=n_runs,
        note=f"relative gap {gap:.1e} > {target:g} at the tightest tol={tols[-1]:g}"
        if len(tols) else "no tol to try",
    )
