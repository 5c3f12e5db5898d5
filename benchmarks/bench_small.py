"""Small problems (issue 12): per-fit time at equal objective, ours vs scikit-learn, and anes96.

On iris, wine and digits a fit takes milliseconds, so fixed costs (validation,
thread-pool entry, allocations, the checks after the solve) weigh as much as
the iterations. For each problem this script finds, for every solver of both
libraries, the loosest ``tol`` (of :data:`timing.TOLS`) whose fit is within
1e-8 (relative) of the reference optimum, then times those fits interleaved,
round after round in this one process, and reports the median per fit. With
``--before DIR``, a copy of the package saved as ``DIR/softmax_before`` (for
example ``cp -r src/softmax /tmp/before/softmax_before`` before a change) is
timed in the same rounds, for a before/after comparison under the same load.

The last line compares the default ``SoftmaxRegression(C=np.inf)`` on
statsmodels' anes96 data (``PID ~ logpopul + selfLR + age + educ + income``)
with ``statsmodels`` ``MNLogit(...).fit(method="newton")``.

Usage (from the repository root; the OpenBLAS variables of the test setup
must be unset)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_small.py
    ... benchmarks/bench_small.py --rounds 51 --before /tmp/before
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from problems import mean_objective  # noqa: E402
from timing import TOLS  # noqa: E402

SKLEARN_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")
OURS_SOLVERS = ("auto", "lbfgs", "newton-cg", "newton-cholesky")
#: Relative objective gap counted as "the same objective" (float64).
TARGET_RTOL = 1e-8


def small_problems() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """iris (raw features, as in ``bench_solvers``), wine and digits standardised."""
    from sklearn.datasets import load_digits, load_iris, load_wine
    from sklearn.preprocessing import StandardScaler

    out = {"iris": load_iris(return_X_y=True)}
    for name, load in (("wine", load_wine), ("digits", load_digits)):
        X, y = load(return_X_y=True)
        out[name] = (StandardScaler().fit_transform(X), y)
    return out


def make_fit(library, solver: str, tol: float):
    """A function fitting ``(X, y)`` once and returning ``(coef, intercept)``."""
    if library == "sklearn":
        from sklearn.linear_model import LogisticRegression

        def fit(X, y):
            model = LogisticRegression(C=1.0, solver=solver, tol=tol, max_iter=100_000)
            model.fit(X, y)
            return model.coef_, model.intercept_

        return fit

    def fit(X, y):
        model = library.SoftmaxRegression(C=1.0, solver=solver, tol=tol, max_iter=100_000)
        model.fit(X, y)
        return model.coef_, model.intercept_

    return fit


def loosest_tol(library, solver, X, y, fstar) -> float | None:
    """The loosest ``tol`` whose fit is within :data:`TARGET_RTOL` of ``fstar``."""
    for tol in TOLS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coef, intercept = make_fit(library, solver, tol)(X, y)
        if mean_objective(X, y, coef, intercept, 1.0) - fstar <= TARGET_RTOL * abs(fstar):
            return tol
    return None


def timed_rounds(fits: dict, X, y, rounds: int) -> dict[str, float]:
    """Median seconds per fit of each entry, the entries interleaved within each round.

    Each round takes the entries in a new (seeded) random order, so none
    always follows the same one: in a fixed order the entry after
    scikit-learn's Newton-Cholesky fit, whose BLAS threads spin on after it,
    ran 0.2-0.4 ms slower on iris and wine than the same fit further on.
    """
    times = {name: [] for name in fits}
    names = list(fits)
    order = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(rounds):
            for name in order.permutation(names):
                start = time.perf_counter()
                fits[name](X, y)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_problem(name, X, y, libraries, rounds) -> None:
    import softmax

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = softmax.SoftmaxRegression(C=1.0, solver="newton-cholesky", tol=1e-12).fit(X, y)
    fstar = mean_objective(X, y, reference.coef_, reference.intercept_, 1.0)
    fits = {}
    for solver in SKLEARN_SOLVERS:
        tol = loosest_tol("sklearn", solver, X, y, fstar)
        if tol is not None:
            fits[f"sklearn {solver} (tol {tol:g})"] = make_fit("sklearn", solver, tol)
    for label, library in libraries.items():
        for solver in OURS_SOLVERS:
            tol = loosest_tol(library, solver, X, y, fstar)
            if tol is not None:
                fits[f"{label} {solver} (tol {tol:g})"] = make_fit(library, solver, tol)
    medians = timed_rounds(fits, X, y, rounds)
    best_sklearn = min(t for k, t in medians.items() if k.startswith("sklearn"))
    print(f"\n{name} {X.shape[0]} x {X.shape[1]}, {len(np.unique(y))} classes "
          f"(median of {rounds} interleaved fits; ratio = time / best scikit-learn)")
    for key, seconds in medians.items():
        print(f"  {key:<40} {seconds * 1e3:8.2f} ms   ratio {seconds / best_sklearn:5.2f}")


def bench_anes96(libraries, rounds) -> None:
    import statsmodels.api as sm

    data = sm.datasets.anes96.load_pandas().data
    X, y = data[["logpopul", "selfLR", "age", "educ", "income"]], data["PID"]
    design = sm.add_constant(X)
    mnlogit = sm.MNLogit(y, design)
    result = mnlogit.fit(method="newton", disp=0)
    # The reference is the user's call, MNLogit(...).fit(method="newton"):
    # the model's construction (checks, label encoding) included, as our fit
    # includes its validation; the fit of a prebuilt model is shown too.
    fits = {
        "statsmodels MNLogit(...).fit newton": (
            lambda X, y: sm.MNLogit(y, design).fit(method="newton", disp=0)
        ),
        "statsmodels prebuilt .fit newton": lambda X, y: mnlogit.fit(method="newton", disp=0),
    }
    for label, library in libraries.items():
        fits[f"{label} default, C=inf"] = (
            lambda X, y, lib=library: lib.SoftmaxRegression(C=np.inf).fit(X, y)
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = libraries["ours"].SoftmaxRegression(C=np.inf).fit(X, y)
    medians = timed_rounds(fits, X, y, rounds)
    gap = (ours.objective_history_[-1] * len(y) + result.llf) / abs(result.llf)
    print(f"\nanes96 {X.shape[0]} x {X.shape[1]}, 7 classes, C=inf (median of {rounds}): "
          f"ours {getattr(ours, 'solver_', '?')} {ours.n_iter_[0]} iterations, "
          f"{len(caught)} warnings, relative gap to statsmodels' -llf {gap:.1e}; "
          f"statsmodels {result.mle_retvals['iterations']} iterations")
    base = medians["statsmodels MNLogit(...).fit newton"]
    for key, seconds in medians.items():
        print(f"  {key:<40} {seconds * 1e3:8.2f} ms   ratio {seconds / base:5.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="iris,wine,digits,anes96")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--before", type=Path, default=None,
                        help="folder holding a copy of the package as softmax_before")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    import softmax

    libraries = {"ours": softmax}
    if args.before is not None:
        sys.path.insert(0, str(args.before))
        libraries["before"] = importlib.import_module("softmax_before")
    # scikit-learn's best on these sizes is one BLAS thread (ours limits itself).
    threadpool_limits(1)
    problems = small_problems()
    for name in args.problems.split(","):
        if name == "anes96":
            bench_anes96(libraries, args.rounds)
        else:
            bench_problem(name, *problems[name], libraries, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
