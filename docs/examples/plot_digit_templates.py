"""
Digit templates: the weights as images
======================================

A softmax classifier of images scores each class by the dot product of the
pixels with that class's weights, so the weights of a class, drawn as an
image, are the template it matches: red pixels raise the class's score where
the image is bright, blue ones lower it. The 8 x 8 digits of scikit-learn,
fitted on three quarters of the images and scored on the rest.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from softmax import SoftmaxRegression
from softmax.plotting import plot_confusion_matrix, plot_weights

X, y = load_digits(return_X_y=True)
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("SOFTMAX_DOCS_TINY"):  # the test suite's quick run
    X, y = X[:300], y[:300]
# sphinx_gallery_end_ignore
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
model = SoftmaxRegression(C=1e-4).fit(X_train, y_train)
sharper = SoftmaxRegression(C=1e-2).fit(X_train, y_train)
print(f"C=1e-4: test accuracy {model.score(X_test, y_test):.3f}; "
      f"C=1e-2: {sharper.score(X_test, y_test):.3f}")

# %%
# A strong penalty (small ``C``) keeps the templates smooth enough to read:
# the 0, for one, is a ring of red around a blue centre (ink in the middle
# means "not a 0"). A weaker penalty classifies better, with noisier
# templates (the second picture).

fig = plot_weights(model, shape=(8, 8))
fig_sharper = plot_weights(sharper, shape=(8, 8))

# %%
# Which digits the sharper model confuses, on the held-out quarter:

fig_confusion = plot_confusion_matrix(y_test, sharper.predict(X_test))
