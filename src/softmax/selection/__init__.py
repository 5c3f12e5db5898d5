"""Choosing the penalty: regularisation paths and cross-validation (glmnet's ``cv.glmnet``).

``path`` fits one data set for a whole sequence of ``C`` with warm starts and,
for L1 parts, sequential strong rules; ``scores`` turns the folds' scores into
scikit-learn's ``cv_results_`` and applies the ``"min"`` and ``"1se"`` rules;
``cv`` is :class:`SoftmaxRegressionCV`, the estimator.
"""

from .cv import SoftmaxRegressionCV

__all__ = ["SoftmaxRegressionCV"]
