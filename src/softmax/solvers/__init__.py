"""Solvers, one per file, behind the :class:`Solver` interface.

``SOLVERS`` maps the estimator's ``solver`` names to solver classes. Each
class lists in ``options`` the estimator parameters it takes in ``__init__``;
adding a solver means adding a file and a line here.
"""

from ._base import IterationInfo, Solver, SolverResult
from .gd import GradientDescent
from .lbfgs import LBFGS

SOLVERS: dict[str, type[Solver]] = {"lbfgs": LBFGS, "gd": GradientDescent}

__all__ = ["SOLVERS", "GradientDescent", "IterationInfo", "LBFGS", "Solver", "SolverResult"]
