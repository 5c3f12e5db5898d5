"""Solvers, one per file, behind the :class:`Solver` interface.

``SOLVERS`` maps the estimator's ``solver`` names to solver classes. Each
class lists in ``options`` the estimator parameters it takes in ``__init__``;
adding a solver means adding a file and a line here.
"""

from ._auto import choose_solver
from ._base import IterationInfo, Solver, SolverResult
from .gd import GradientDescent
from .lbfgs import LBFGS
from .newton_cg import NewtonCG
from .newton_cholesky import NewtonCholesky
from .prox_newton import ProxNewton
from .sgd import SGD

SOLVERS: dict[str, type[Solver]] = {
    "lbfgs": LBFGS,
    "gd": GradientDescent,
    "newton-cg": NewtonCG,
    "newton-cholesky": NewtonCholesky,
    "prox-newton": ProxNewton,
    "sgd": SGD,
}

__all__ = [
    "SOLVERS",
    "GradientDescent",
    "IterationInfo",
    "LBFGS",
    "NewtonCG",
    "NewtonCholesky",
    "ProxNewton",
    "SGD",
    "Solver",
    "SolverResult",
    "choose_solver",
]
