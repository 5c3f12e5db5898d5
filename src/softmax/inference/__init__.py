"""Statistical inference: standard errors, tests and marginal effects (see :mod:`.results`).

============================ ===============================================
module                        what
============================ ===============================================
``results``                   :class:`InferenceResults` and :func:`inference`
``estimation``                refined estimate and covariance (sandwiches)
``core``                      reference-class maths shared by the others
``separation``, ``firth``     detection of separation; Firth's remedy
``hypotheses``, ``margins``   Wald and LR tests; marginal effects
``summary``                   the printed table
============================ ===============================================
"""

from .results import (
    HypothesisTest,
    InferenceResults,
    InferenceSummary,
    MarginalEffects,
    SeparationReport,
    SeparationWarning,
    inference,
    lr_test,
)

__all__ = [
    "HypothesisTest",
    "InferenceResults",
    "InferenceSummary",
    "MarginalEffects",
    "SeparationReport",
    "SeparationWarning",
    "inference",
    "lr_test",
]
