"""What a fit tells its user: per-iteration lines and progress, and advice when it fails."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..solvers import IterationInfo, SolverResult
from .separation import SeparationReport

__all__ = ["announce_solver", "convergence_advice", "iteration_hook", "separation_advice"]


def announce_solver(model, name: str, reason: str) -> None:
    """With ``verbose``, print which solver runs and why (before its iteration lines)."""
    if model.verbose:
        print(f"solver {name} ({reason})", flush=True)


def iteration_hook(model) -> Callable[[IterationInfo], None] | None:
    """The model's ``callback`` and, with ``verbose``, a printed line per iteration; or None."""
    hooks = [h for h in (model.callback, _print_iteration if model.verbose else None) if h]
    if not hooks:
        return None
    return lambda info: [hook(info) for hook in hooks] and None


def _print_iteration(info: IterationInfo) -> None:
    print(
        f"iter {info.iteration:5d}  objective {info.objective:.10g}  "
        f"max|grad| {info.gradient_max:.3e}",
        flush=True,
    )


def convergence_advice(model, result: SolverResult) -> str:
    """The ``ConvergenceWarning`` message: what happened and what to do about it."""
    advice = [
        f"increase max_iter (now {model.max_iter})" if result.n_iter >= model.max_iter else None,
        # A stochastic run that stalls needs smaller steps or more of them, or no noise.
        "let it run longer (n_iter_no_change, now "
        f"{model.n_iter_no_change}), lower learning_rate, or use a full-batch solver such as "
        "solver='lbfgs'"
        if model.solver == "sgd"
        else None,
        None
        if model.standardize
        else "set standardize=True (or scale the features, for example with "
        "sklearn.preprocessing.StandardScaler): features on very different scales are "
        "the most common cause",
        "use solver='lbfgs'" if model.solver == "gd" else None,
        "use a finite C: without a penalty, separable classes have no finite optimum"
        if np.isinf(model.C)
        else "decrease C for a stronger penalty",
        f"or loosen tol (now {model.tol:g})",
    ]
    return (
        f"SoftmaxRegression(solver={_ran(model)!r}) did not converge after "
        f"{result.n_iter} iterations ({result.message}); the largest gradient entry is "
        f"{result.gradient_max:.2e}, above tol={model.tol:g}. To fix it: "
        + "; ".join(a for a in advice if a)
        + "."
    )


def separation_advice(model, report: SeparationReport) -> str:
    """The ``ConvergenceWarning`` message of an unpenalised fit of separated classes."""
    return (
        f"SoftmaxRegression(solver={_ran(model)!r}) did not converge: the classes are "
        f"separated, so without a penalty the optimum is at infinity and the coefficients "
        f"grow for as long as the solver runs (the gradient only vanishes there). "
        f"{report.message} To fix it: set a finite C (a penalty makes the optimum finite), "
        "or remove the separating features; for standard errors and tests, "
        "model.inference(X, y) uses Firth's bias-reduced estimate (separation='firth')."
    )


def _ran(model) -> str:
    """The solver that ran (``solver_``, what ``"auto"`` chose), else the parameter."""
    return getattr(model, "solver_", model.solver)
