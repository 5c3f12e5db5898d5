"""
Tables with text columns: the Palmer penguins
=============================================

A pandas DataFrame may hold text columns: the estimator one-hot encodes them
(every category seen in ``fit``, sorted) and names the columns of ``coef_``
after them. The penguins data (bundled) has four body measurements and two
text columns, ``island`` and ``sex``.
"""

import numpy as np
from matplotlib.figure import Figure
from sklearn.model_selection import cross_val_predict

from softmax import SoftmaxRegression
from softmax.datasets import load_dataset
from softmax.plotting import plot_confusion_matrix

penguins = load_dataset("penguins")
X, y = penguins.X, penguins.y
print(X.head(3))

model = SoftmaxRegression(C=1.0, standardize=True).fit(X, y)
print("columns of coef_:", list(model.feature_names_out_))

# %%
# Cross-validated predictions: the species are almost perfectly separable.

predicted = cross_val_predict(SoftmaxRegression(C=1.0, standardize=True), X, y, cv=5)
fig = plot_confusion_matrix(y, predicted)

# %%
# The coefficients (in the original units, per class; each column sums to 0
# over the classes). The island indicators carry information too: Gentoo
# penguins live only on Biscoe, Chinstraps only on Dream.

fig_coef = Figure(figsize=(8, 4.5), layout="constrained")
ax = fig_coef.add_subplot()
names = model.feature_names_out_
width = 0.8 / len(model.classes_)
for k, label in enumerate(model.classes_):
    ax.barh(np.arange(len(names)) + k * width, model.coef_[k], height=width, label=label)
ax.set_yticks(np.arange(len(names)) + width, names)
ax.axvline(0, color="black", linewidth=0.8)
ax.set_xlabel("coefficient")
ax.legend(title="species")
