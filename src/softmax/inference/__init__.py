"""Statistical inference for a fitted :class:`~softmax.SoftmaxRegression`.

:func:`inference` (also :meth:`SoftmaxRegression.inference`) returns an
:class:`InferenceResults`: coefficients in a reference-class form with
standard errors, z and p-values, confidence intervals, likelihood statistics,
tests of hypotheses and marginal effects, in the manner of a statistics
package. The estimator is left untouched.

**Identification.** The estimator's symmetric form (one row per class) is
not identified without a penalty: adding one vector to every row changes no
probability, so its Hessian is singular and a covariance of it does not
exist. Inference therefore works in the *reference-class* form: the rows of
the other classes minus the reference row (``reference=``, by default the
first class, as statsmodels' ``MNLogit`` does). The conversion is lossless:
probabilities, ``llf`` and marginal effects are the same for every reference
and for the symmetric form. :meth:`InferenceResults.with_reference`
re-expresses results for another reference by the linear map between the
two forms (``cov' = T cov T'``, exact), and :meth:`InferenceResults.symmetric`
reports the centred rows the estimator stores, as contrasts against the
average class, whose covariance (singular, of rank ``(K-1) q``) follows by
the same map.

**Refinement.** The estimator stops at ``tol`` on the gradient, far looser
than the 1e-6 relative accuracy tables of estimates need. Inference starts
from the estimator's coefficients and takes Newton steps on the
reference-class objective with the full Hessian (cheap: ``(K-1) q`` is small
at the sizes where inference makes sense) until the step is at rounding
level. For data other than the training data this re-estimates the model on
the data given, starting from the fitted one.

**Penalised fits (finite C).** The estimate is the penalised optimum, the
one the estimator computes, with the estimator's penalty written in the
reference form. Its covariance is the sandwich ``A^{-1} B A^{-1}`` where
``A = I + P`` is the Hessian of the penalised objective (information ``I``
plus penalty ``P``) and ``B`` the variance of the score: ``I`` for
``"nonrobust"``, the outer product of scores for ``"HC0"``/``"HC1"``, of
cluster sums for ``"cluster"``. It is the sampling variance of the penalised
estimator around *its own* expectation: shrinkage bias is not in it, so
intervals are for the penalised estimand and cover the true coefficients
less often than stated when the penalty is strong. Without a penalty it is
the usual ``I^{-1}`` and robust sandwiches. AIC and BIC then use the
effective number of parameters ``tr(A^{-1} I)``.

**Weights.** ``weights_kind="frequency"`` (default): a weight is a count of
identical observations; results equal those of duplicating rows, and the
number of observations is the sum of the weights. ``"analytic"``: weights
are relative precisions (or sampling weights, when used with a robust
``cov_type``); they are rescaled to sum to the number of rows with positive
weight, which is then the number of observations, and each row's score
enters the robust covariance once, multiplied by its weight. The estimator's
``class_weight`` multiplies the weights, as in ``fit``; rows of weight 0 are
dropped.

**Separation.** Without a penalty, classes that a linear score separates
have no finite MLE (iris's setosa is one). A linear programme detects
complete and quasi-complete separation before estimation
(:mod:`softmax.inference.separation`); a :class:`SeparationWarning` names the classes
and features, and ``separation=`` picks the remedy: ``"firth"`` (default;
Firth's bias-reduced estimate, finite and reference-invariant, with
covariance from the information at that estimate), ``"ridge"`` (the
estimator's penalty with ``C = 1``) or ``"error"``. Wald p-values of the
separated classes are then unreliable; prefer likelihood-ratio comparisons.

**Modules.**

============================ ===============================================
module                        what
============================ ===============================================
``results``                   :class:`InferenceResults`, :func:`inference`, :func:`lr_test`
``options``                   :class:`InferenceOptions`: the options, validated once
``estimation``                refined estimate and covariance (sandwiches)
``core``                      reference-class maths shared by the others
``separation``, ``firth``     detection of separation; Firth's remedy
``hypotheses``, ``margins``   Wald tests, the chi-squared law; marginal effects
``summary``                   the printed table
============================ ===============================================
"""

from .hypotheses import HypothesisTest
from .margins import MarginalEffects
from .options import InferenceOptions
from .results import InferenceResults, inference, lr_test
from .separation import SeparationReport, SeparationWarning
from .summary import InferenceSummary

__all__ = [
    "HypothesisTest",
    "InferenceOptions",
    "InferenceResults",
    "InferenceSummary",
    "MarginalEffects",
    "SeparationReport",
    "SeparationWarning",
    "inference",
    "lr_test",
]
