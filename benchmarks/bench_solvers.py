"""Solver benchmark (issue 3): time to the reference optimum, ours vs scikit-learn.

Builds the problems (iris, digits, dense 200,000 x 100 in float64 and float32,
sparse 100,000 x 20,000), computes a reference optimum with very tight fits,
then times scikit-learn's lbfgs, newton-cg and newton-cholesky (best thread
setting and default threads) and every solver registered in
``softmax.solvers.SOLVERS`` that fits the plain L2 model, reporting time to
the reference objective within 1e-8 relative (1e-6 for float32).

Usage (from the repository root)::

    make bench                                       # everything, a few tens of minutes
    .venv/bin/python benchmarks/bench_solvers.py --quick       # tiny sizes, smoke test
    .venv/bin/python benchmarks/bench_solvers.py --problems digits,sparse --solvers lbfgs

The Markdown report is printed and written to ``benchmarks/results/latest.md``
(``latest-quick.md`` with ``--quick``); progress goes to stderr. See
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from problems import EXTRA_PROBLEM_NAMES, PROBLEM_NAMES, build_problems  # noqa: E402
from report import format_report, machine_info  # noqa: E402
from suite import SolverFilter, log, run_problem  # noqa: E402
from timing import TOLS  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time to the reference optimum: our solvers vs scikit-learn's.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (dense 5,000 x 100, sparse 5,000 x 2,000): a smoke test")
    parser.add_argument("--problems", default=",".join(PROBLEM_NAMES),
                        help=f"comma-separated subset of {','.join(PROBLEM_NAMES)} (default: "
                             f"these), or also {','.join(EXTRA_PROBLEM_NAMES)} (100,000 x 512 "
                             "float32, 1000 classes: about half an hour)")
    parser.add_argument("--solvers", default=None,
                        help="comma-separated solver names (both libraries), or ours:NAME / "
                             "sklearn:NAME (default: all)")
    parser.add_argument("--time-cap", type=float, default=None,
                        help="seconds after which a fit is stopped and counted as 'did not reach' "
                             "(default 120, 10 with --quick; reference fits get 3x)")
    parser.add_argument("--fstar", action="append", default=[], metavar="PROBLEM=VALUE",
                        help="a problem's reference optimum from an earlier run's report: its "
                             "reference fits are skipped and every fit gets the full time cap "
                             "(probe1000's reference fit alone takes about 17 minutes)")
    parser.add_argument("--sklearn-threads", default="1,2", metavar="N[,N]",
                        help="threadpool_limits settings tried for scikit-learn (default 1,2; "
                             "its best is the ratio's base: give one only where fits take too "
                             "long to try both, and say so)")
    parser.add_argument("--in-process", action="store_true",
                        help="run fits in this process (no worker; the time cap cannot stop a fit)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the report (default benchmarks/results/latest.md, "
                             "latest-quick.md with --quick)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.problems.split(",") if n.strip()]
    include = SolverFilter(args.solvers)
    if args.time_cap is None:
        args.time_cap = 10.0 if args.quick else 120.0
    started = time.perf_counter()
    machine = machine_info()  # before any fit: the default pool sizes and the load at start
    problems = build_problems(names, quick=args.quick)
    known = dict(item.split("=", 1) for item in args.fstar)
    sklearn_threads = tuple(int(t) for t in args.sklearn_threads.split(","))
    results = [
        run_problem(p, include=include, time_cap=args.time_cap, isolate=not args.in_process,
                    fstar=float(known[p.name]) if p.name in known else None,
                    sklearn_threads=sklearn_threads)
        for p in problems
    ]
    command = "bench_solvers.py " + " ".join(sys.argv[1:] if argv is None else argv)
    report = format_report(results, machine=machine, command=command.strip(),
                           total_seconds=time.perf_counter() - started,
                           time_cap=args.time_cap, tols=TOLS)
    print(report)
    output = args.output or HERE / "results" / ("latest-quick.md" if args.quick else "latest.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report + "\n")
    log(f"report written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
