"""The Markdown report: machine header, method, references and the results table."""

from __future__ import annotations

import math
import os
import platform
import time

__all__ = ["TABLE_COLUMNS", "format_report", "format_table", "machine_info"]

TABLE_COLUMNS = (
    "problem", "solver", "time s", "iterations", "rel. gap", "ratio vs best sklearn", "tol", "notes",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> list[str]:
    """Markdown bullet lines: CPUs, load, versions, and each BLAS / OpenMP pool threadpoolctl sees."""
    import numpy
    import scipy
    import scipy.linalg  # noqa: F401 - loads SciPy's BLAS so threadpoolctl lists it
    import scipy.sparse.linalg  # noqa: F401
    import sklearn
    import sklearn.linear_model  # noqa: F401 - loads scikit-learn's OpenMP runtime
    import threadpoolctl

    try:
        import softmax

        ours = softmax.__version__
    except Exception as exc:  # noqa: BLE001
        ours = f"cannot import ({exc})"
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    lines = [
        f"- CPU: {_cpu_model()}; os.cpu_count() = {os.cpu_count()}, usable by this process = {affinity}",
        f"- load average (1, 5, 15 min) at start: {load}",
        f"- {platform.platform()}; Python {platform.python_version()}",
        f"- numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"threadpoolctl {threadpoolctl.__version__}, softmax {ours}",
    ]
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("OPENBLAS", "OMP_", "MKL_", "BLIS_", "GOTO"))}
    lines.append("- thread/BLAS environment variables: "
                 + (", ".join(f"{k}={v}" for k, v in sorted(env.items())) or "none set"))
    lines.append("- thread pools (threadpoolctl.threadpool_info(), defaults):")
    for pool in threadpoolctl.threadpool_info():
        lib = os.path.basename(pool.get("filepath", "?"))
        parts = [f"{pool.get('user_api')}: {pool.get('internal_api')}",
                 f"version={pool.get('version')}"]
        if "architecture" in pool:
            parts.append(f"architecture={pool['architecture']}")
        if "threading_layer" in pool:
            parts.append(f"threading_layer={pool['threading_layer']}")
        parts.append(f"num_threads={pool.get('num_threads')} ({lib})")
        lines.append("  - " + " ".join(parts))
    return lines


def _fmt_time(t: float) -> str:
    if not math.isfinite(t):
        return "-"
    return f"{t:.3g}" if t >= 1e-3 else f"{t:.2e}"


def _row_cells(problem_name: str, row, best_sklearn: float) -> list[str]:
    out = row.outcome
    notes = [n for n in (row.note, out.note) if n]
    if out.reached:
        repeats = out.extra.get("repeats", 1)
        if repeats > 1:
            notes.insert(0, f"median of {repeats}")
        ratio = out.time / best_sklearn if math.isfinite(best_sklearn) and best_sklearn > 0 else math.nan
        return [
            problem_name, row.label, _fmt_time(out.time), str(out.n_iter), f"{out.gap:.1e}",
            f"{ratio:.2f}" if math.isfinite(ratio) else "-", f"{out.tol:g}", "; ".join(notes),
        ]
    tol = f"{out.tol:g}" if out.tol is not None else "-"
    if out.status == "slower":  # stopped: the time is a lower bound
        ratio = out.time / best_sklearn if math.isfinite(best_sklearn) and best_sklearn > 0 else math.nan
        return [problem_name, row.label, f"> {_fmt_time(out.time)}", "-", "-",
                f"> {ratio:.2f}" if math.isfinite(ratio) else "-", tol, "; ".join(notes)]
    status = {"did not reach": "did not reach", "skipped": "skipped", "error": "error"}[out.status]
    gap = f"{out.gap:.1e}" if math.isfinite(out.gap) else "-"
    return [problem_name, row.label, status, "-", gap, "-", tol, "; ".join(notes)]


def format_table(results) -> str:
    """The Markdown results table for a list of ``ProblemResult``."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |",
             "|" + "|".join("---" for _ in TABLE_COLUMNS) + "|"]
    for res in results:
        best = res.best_sklearn_time
        for row in res.rows:
            cells = _row_cells(res.problem.name, row, best)
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def format_report(results, *, machine: list[str], command: str, total_seconds: float,
                  time_cap: float, tols) -> str:
    """The whole Markdown report (what is printed and written to results/latest.md)."""
    try:
        load_end = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load_end = "unknown"
    machine = [line.replace("at start:", f"at start / end: ") + (f" / {load_end}" if "at start:" in line else "")
               for line in machine]
    out = [
        "# Solver benchmark: time to the reference optimum",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M:%S %Z')} with `{command}` "
        f"({total_seconds / 60:.1f} min in all).",
        "",
        "## Machine",
        "",
        *machine,
        "",
        "## Method",
        "",
        "- Objective (one function for every solver, float64, from `coef_` / `intercept_`): "
        "mean cross-entropy + ||coef||^2 / (2 C n), C = 1, intercept not penalised; "
        "logsumexp computed stably.",
        "- Reference f*: the lowest objective of very tight fits (tol 1e-12) on float64 data "
        "(for dense32: its float32 values, in float64): scikit-learn's newton-cg and our "
        "newton-cg (lbfgs if absent) on the big problems; on iris and digits, every L-BFGS and "
        "Newton solver of both libraries; on probe1000 (1000 classes) our newton-cg alone at "
        "tol 1e-9, and every fit's tol search starts at 1e-5 there. The fits are listed under "
        "each problem.",
        f"- Each solver is fitted with tol = {', '.join(f'{t:g}' for t in tols)} in turn until "
        "(f - f*) / |f*| <= 1e-8 (float64 problems) or <= 1e-6 (float32: the accuracy float32 "
        "allows). Reported: wall time, iterations, gap and tol of the *first* run that reaches it "
        "(not the sum); that run is repeated, and the median time of 3 runs (more for fits "
        "under 1 s, up to 7) reported; fits over 60 s run once.",
        f"- Time cap per fit: min({time_cap:g} s, max(10 s, 50 x the slowest reference fit)) "
        "(listed per problem); a fit over it is stopped and the solver \"did not reach\"; so does "
        "a solver whose tol search takes over 2 caps in all, whose gap stops improving (twice in a "
        "row: a tighter tol, no fewer iterations, gap not halved) or is still above the target at the tightest "
        "tol. Reference fits get 3 x the cap.",
        "- scikit-learn `LogisticRegression` (multinomial) runs with `threadpool_limits(1)` and "
        "`(2)` on all pools (the faster is \"best threads\"; its tol search is done with 1 thread, "
        "and 2 threads start at the tol found; a setting more than 2 x slower than the faster one "
        "(and over 5 s) is stopped, its time shown as a lower bound) and with the default "
        "pools (not re-run when they equal one of the limits); `--sklearn-threads` in the command "
        "above narrows the settings tried. Ours runs as a user "
        "gets it (the estimator sets its own BLAS pool); the fit worker loads our compiled "
        "kernels from Numba's cache once before any timed fit (what a process's first large "
        "fit pays, reported apart in the README).",
        "- ratio vs best sklearn: time / fastest \"best threads\" scikit-learn solver on that "
        "problem (below 1: ours is faster).",
        "- Timings are wall-clock; on a shared machine (see the load average) they are noisy.",
        "",
        "## Problems and references",
        "",
    ]
    for res in results:
        p = res.problem
        out.append(f"- **{p.name}**: {p.description}; target relative gap {p.target_rtol:g}; "
                   f"f* = {res.fstar:.15g}; cap {res.time_cap:.3g} s per fit "
                   f"({res.seconds:.0f} s for this problem)")
        out.extend(f"  - {d}" for d in res.reference)
    out += ["", "## Results", "", format_table(results), ""]
    return "\n".join(out)
