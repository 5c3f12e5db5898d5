"""Choosing C by cross-validation (issue 14): time to the chosen model, ours vs scikit-learn.

Standardised digits (1797 x 64, 10 classes), the same grid of 20 ``C`` and the
same 5 shuffled stratified folds for every contender, scored by the log-loss;
each contender's time runs from ``fit`` to its final model (refit on all the
data included), in a fresh process of its own:

* ``SoftmaxRegressionCV`` (L2): regularisation paths with warm starts;
* scikit-learn ``LogisticRegressionCV(solver="lbfgs")`` (L2), at our ``tol``
  (the same criterion: the largest gradient entry of the mean objective) and
  at its own default ``tol=1e-4``;
* ``GridSearchCV(SoftmaxRegression())`` (L2): each fit from scratch;
* ``SoftmaxRegressionCV(l1_ratios=[0.5])`` and scikit-learn
  ``LogisticRegressionCV(solver="saga", l1_ratios=(0.5,))``: elastic net,
  on the grid from ``C_min`` (every coefficient zero) up 1e4-fold. saga's
  ``tol`` bounds the change of the coefficients, not the gradient, so it is
  run at scikit-learn's default 1e-4 and its accuracy is reported.

Every final model is judged by one objective, computed here from its
``coef_`` and ``intercept_`` at its chosen ``C``: the relative gap to a tight
(``tol=1e-10``) fit at that ``C`` shows what accuracy each time bought.
A contender over ``--cap`` seconds is stopped; its time is then a lower bound.

Usage (from the repository root; the OpenBLAS variables of the test setup
must be unset)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_cv.py
    ... benchmarks/bench_cv.py --cap 300 --note "taken on a loaded machine"

The Markdown report goes to stdout and to ``benchmarks/results/cv.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from report import machine_info  # noqa: E402

N_CS = 20
N_FOLDS = 5
SEED = 0
#: Our tol (and scikit-learn lbfgs's in the matched row): max |gradient| of the mean objective.
TOL = 1e-6
MAX_ITER = 1000
#: Speed-up targets of issue 14, by row label of the contender compared with ours.
TARGETS = {
    "sklearn LogisticRegressionCV lbfgs, tol 1e-6": ("ours L2", 5.0),
    "sklearn LogisticRegressionCV saga elastic net": ("ours elastic net", 10.0),
    "ours GridSearchCV(SoftmaxRegression)": ("ours L2", 1.0),
}


def digits():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def folds():
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(N_FOLDS, shuffle=True, random_state=SEED)


def grids(X, y) -> dict[float, np.ndarray]:
    """The grid of each l1_ratio: scikit-learn's L2 default; from C_min for the elastic net."""
    from softmax import SoftmaxRegression
    from softmax.selection.path import prepare, smallest_c

    data = prepare(SoftmaxRegression(l1_ratio=0.5), X, y, np.ones(len(y)))
    return {
        0.0: np.logspace(-4, 4, N_CS),
        0.5: smallest_c(data, 0.5, grouped=False) * np.logspace(0, 4, N_CS),
    }


# -- the contenders: each builds an estimator; fitted in a worker process ----------------------


def ours_cv(Cs, l1_ratio):
    from softmax import SoftmaxRegressionCV

    return SoftmaxRegressionCV(
        Cs=Cs, l1_ratios=[l1_ratio], cv=folds(), tol=TOL, max_iter=MAX_ITER
    )


def sklearn_cv(Cs, l1_ratio, solver, tol):
    from sklearn.linear_model import LogisticRegressionCV

    return LogisticRegressionCV(
        Cs=Cs, l1_ratios=(l1_ratio,), cv=folds(), solver=solver, scoring="neg_log_loss",
        tol=tol, max_iter=MAX_ITER, use_legacy_attributes=False,
    )  # fmt: skip


def ours_grid(Cs, l1_ratio):
    from sklearn.model_selection import GridSearchCV

    from softmax import SoftmaxRegression

    return GridSearchCV(
        SoftmaxRegression(l1_ratio=l1_ratio, tol=TOL, max_iter=MAX_ITER), {"C": list(Cs)},
        cv=folds(), scoring="neg_log_loss",
    )  # fmt: skip


def contenders(Cs: dict[float, np.ndarray]):
    """(label, l1_ratio, builder, args) in the order they run."""
    return [
        ("ours L2", 0.0, ours_cv, (Cs[0.0], 0.0)),
        ("sklearn LogisticRegressionCV lbfgs, tol 1e-6", 0.0, sklearn_cv,
         (Cs[0.0], 0.0, "lbfgs", TOL)),
        ("sklearn LogisticRegressionCV lbfgs, tol 1e-4 (its default)", 0.0, sklearn_cv,
         (Cs[0.0], 0.0, "lbfgs", 1e-4)),
        ("ours GridSearchCV(SoftmaxRegression)", 0.0, ours_grid, (Cs[0.0], 0.0)),
        ("ours elastic net", 0.5, ours_cv, (Cs[0.5], 0.5)),
        ("sklearn LogisticRegressionCV saga elastic net", 0.5, sklearn_cv,
         (Cs[0.5], 0.5, "saga", 1e-4)),
    ]  # fmt: skip


def _chosen(model):
    """(C, coef, intercept) of a fitted contender's final model."""
    if hasattr(model, "best_estimator_") and not hasattr(model, "C_"):  # GridSearchCV
        final = model.best_estimator_
        return float(model.best_params_["C"]), final.coef_, final.intercept_
    return float(np.ravel(model.C_)[0]), model.coef_, model.intercept_


def _worker(conn, builder, args) -> None:
    X, y = digits()
    model = builder(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # judged by the objective below, not by warnings
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    conn.send((seconds, *_chosen(model)))


def run(builder, args, cap: float):
    """``(seconds, C, coef, intercept)``, or None after ``cap`` seconds (the worker is killed)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker, args=(child, builder, args), daemon=True)
    process.start()
    child.close()
    # Data loading and imports come before the clock starts: a margin for them.
    result = parent.recv() if parent.poll(cap + 30.0) else None
    process.kill()
    process.join()
    return result


# -- judging --------------------------------------------------------------------------------


def objective(X, y, coef, intercept, C: float, l1_ratio: float) -> float:
    """``mean CE + ((1 - r) / 2 ||W||^2 + r ||W||_1) / (C n)``, in float64."""
    from scipy.special import logsumexp

    coef = np.asarray(coef, dtype=np.float64)
    scores = X @ coef.T + np.asarray(intercept, dtype=np.float64)
    data = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), y])
    penalty = (1 - l1_ratio) / 2 * np.sum(coef**2) + l1_ratio * np.abs(coef).sum()
    return float(data + penalty / (C * len(y)))


def reference(X, y, C: float, l1_ratio: float) -> float:
    from softmax import SoftmaxRegression

    fit = SoftmaxRegression(C=C, l1_ratio=l1_ratio, tol=1e-10, max_iter=10_000).fit(X, y)
    return objective(X, y, fit.coef_, fit.intercept_, C, l1_ratio)


def report(rows, cap: float, note: str, seconds: float) -> str:
    by_label = {row["label"]: row for row in rows}
    lines = [
        "# Choosing C by cross-validation: time to the chosen model",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M:%S %Z')} with `{' '.join(sys.argv)}` "
        f"({seconds / 60:.1f} min in all).",
        "",
    ]
    if note:
        lines += [f"**{note}**", ""]
    lines += ["## Machine", "", *machine_info(), "", "## Method", "",
              f"- Standardised digits (1797 x 64, 10 classes); {N_CS} C per l1_ratio; "
              f"{N_FOLDS} stratified folds, shuffled (seed {SEED}), the same for all; "
              "scoring neg_log_loss; n_jobs=None (one process) everywhere.",
              "- Time: `fit` to the final model (refit included), wall clock, one run per "
              f"contender in a fresh process; over {cap:g} s the run is stopped (time '>').",
              "- gap: (f - f*) / |f*| of the final model at its chosen C, f* from a "
              "`SoftmaxRegression(tol=1e-10)` fit there; the objective is mean CE + "
              "((1 - r)/2 ||W||^2 + r ||W||_1) / (C n).",
              "- speed-up: the contender's time / ours (same penalty); above 1, ours is faster.",
              "", "## Results", "",
              "| contender | l1_ratio | time s | chosen C | gap | speed-up of ours |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        ours = by_label["ours L2" if row["l1_ratio"] == 0 else "ours elastic net"]
        if row["result"] is None:
            time_cell, C_cell, gap_cell = f"> {cap:g}", "-", "-"
            speed = cap / ours["seconds"] if ours["result"] else np.nan
            speed_cell = f"> {speed:.1f}"
        else:
            time_cell, C_cell = f"{row['seconds']:.3g}", f"{row['C']:.4g}"
            gap_cell = f"{row['gap']:.1e}"
            speed_cell = "-" if row is ours else f"{row['seconds'] / ours['seconds']:.1f}"
        lines.append(f"| {row['label']} | {row['l1_ratio']:g} | {time_cell} | {C_cell} | "
                     f"{gap_cell} | {speed_cell} |")
    lines += ["", "## Targets (issue 14)", ""]
    for label, (ours_label, target) in TARGETS.items():
        row, ours = by_label.get(label), by_label.get(ours_label)
        if row is None or ours is None or ours["result"] is None:
            continue
        t = cap if row["result"] is None else row["seconds"]
        bound = ">= " if row["result"] is None else ""
        speed = t / ours["seconds"]
        verdict = "met" if speed >= target else "NOT met"
        lines.append(f"- {ours_label} vs {label}: {bound}{speed:.1f}x (target >= {target:g}x): "
                     f"{verdict}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=900.0,
                        help="seconds per contender before it is stopped (default 900)")
    parser.add_argument("--skip", default="",
                        help="comma-separated words; contenders whose label has one are skipped")
    parser.add_argument("--note", default="", help="a line for the report's head")
    parser.add_argument("--output", default=str(HERE / "results" / "cv.md"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    X, y = digits()
    Cs = grids(X, y)
    skip = [word for word in args.skip.split(",") if word]
    rows = []
    for label, l1_ratio, builder, builder_args in contenders(Cs):
        if any(word in label for word in skip):
            continue
        print(f"{label} ...", file=sys.stderr, flush=True)
        result = run(builder, builder_args, args.cap)
        row = {"label": label, "l1_ratio": l1_ratio, "result": result}
        if result is not None:
            row["seconds"], row["C"], coef, intercept = result
            fstar = reference(X, y, row["C"], l1_ratio)
            row["gap"] = (objective(X, y, coef, intercept, row["C"], l1_ratio) - fstar) / abs(fstar)
            print(f"  {row['seconds']:.2f} s, C = {row['C']:.4g}, gap {row['gap']:.1e}",
                  file=sys.stderr, flush=True)
        rows.append(row)
    text = report(rows, args.cap, args.note, time.perf_counter() - start)
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
