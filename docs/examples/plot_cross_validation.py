"""
Choosing C by cross-validation: the CV curve and the coefficient path
=====================================================================

:class:`~softmax.SoftmaxRegressionCV` fits the whole grid of ``C`` as one
regularisation path per fold, from the strongest penalty to the weakest,
each fit starting from the previous one (glmnet's ``cv.glmnet``). Here: the
lasso (``l1_ratio=1``) on the standardised wine data. The ``"min"`` rule
takes the best mean validation score; ``"1se"`` the strongest penalty within
one standard error of it, a simpler model that scores about as well.
"""

from sklearn.datasets import load_wine

from softmax import SoftmaxRegressionCV
from softmax.plotting import plot_coef_path, plot_cv_curve

X, y = load_wine(return_X_y=True, as_frame=True)
n_Cs = 20
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("SOFTMAX_DOCS_TINY"):  # the test suite's quick run
    n_Cs = 4
# sphinx_gallery_end_ignore
model = SoftmaxRegressionCV(Cs=n_Cs, cv=5, l1_ratios=[1.0], standardize=True, rule="1se",
                            random_state=0).fit(X, y)
print(f"C chosen by '1se': {model.C_:.3g}; by 'min' it would be "
      f"{model.cv_results_['param_C'][model.rule_indices_['min']]:.3g}")
print(f"non-zero coefficients: {(model.coef_ != 0).sum()} of {model.coef_.size}")

# %%
# The mean validation score (negative log-loss) against ``C``, one standard
# error either side:

ax = plot_cv_curve(model)

# %%
# The path fitted on all the data: as the penalty weakens (to the right)
# features enter one by one. The dashed line is the chosen ``C``.

ax_path = plot_coef_path(model)
