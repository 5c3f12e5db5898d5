"""
Gradient descent on iris
========================

The article trains softmax regression on the iris flowers by gradient descent.
Here ``solver="gd"`` does exactly that, on two standardised features (petal
length and width) so that the decision regions can be drawn in the plane. A
``callback`` records the largest gradient entry after each iteration; the
fit stops when it falls below ``tol``.
"""

from sklearn.datasets import load_iris

from softmax import SoftmaxRegression
from softmax.plotting import plot_decision_regions, plot_training

iris = load_iris(as_frame=True)
X = iris.data[["petal length (cm)", "petal width (cm)"]]
y = iris.target_names[iris.target]

gradients = []
model = SoftmaxRegression(
    solver="gd", standardize=True, tol=1e-5,
    callback=lambda info: gradients.append(info.gradient_max),
).fit(X, y)
print(f"{model.n_iter_[0]} iterations, converged: {model.converged_}, "
      f"training accuracy {model.score(X, y):.3f}")

# %%
# The loss curve: the mean cross-entropy plus penalty falls fast, then slowly;
# the gradient shrinks steadily towards the tolerance.

fig = plot_training(model, gradients)

# %%
# Decision regions: each class owns a convex region of the plane, bounded by
# straight lines (the scores are linear); paler where the model is less sure.

fig_regions = plot_decision_regions(model, X, y)

# %%
# Newton's method reaches the same optimum in a handful of iterations, which
# is why ``solver="auto"`` picks it for a problem this small.

newton = SoftmaxRegression(standardize=True, tol=1e-5).fit(X, y)
print(f"{newton.solver_}: {newton.n_iter_[0]} iterations; "
      f"largest coefficient difference {abs(newton.coef_ - model.coef_).max():.1e}")
