"""
Temperature scaling: a reliability diagram before and after
===========================================================

A weakly penalised model on many features is over-confident: when it says
95% it is right less often than that. Temperature scaling fits one inverse
temperature ``beta_`` on held-out data, the same β as in
``softmax(z, beta=...)``; the probabilities become ``softmax(beta_ * scores)``.
Every score is multiplied by the same positive number, so the predicted
classes do not change: only the confidence does.
"""

from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from softmax import SoftmaxRegression
from softmax.plotting import expected_calibration_error, plot_reliability

X, y = load_digits(return_X_y=True)
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("SOFTMAX_DOCS_TINY"):  # the test suite's quick run
    X, y = X[:400], y[:400]
# sphinx_gallery_end_ignore
X_fit, X_rest, y_fit, y_rest = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0,
                                                stratify=y_rest)

model = SoftmaxRegression(C=100.0, standardize=True).fit(X_fit, y_fit)
before = model.predict_proba(X_test)
labels_before = model.predict(X_test)

model.calibrate(X_val, y_val)  # fits beta_ on data the fit did not see
after = model.predict_proba(X_test)

print(f"beta_ = {model.beta_:.2f} (below 1: the model was over-confident)")
for name, p in (("before", before), ("after", after)):
    print(f"{name:6}: test log-loss {log_loss(y_test, p, labels=model.classes_):.3f}, "
          f"ECE {expected_calibration_error(y_test, p, classes=model.classes_):.3f}")
print("same predictions:", (model.predict(X_test) == labels_before).all())

# %%
# Points below the diagonal are over-confident bins. After scaling they move
# towards it; the bars below count the samples in each bin.

fig = plot_reliability(y_test, {"before": before, f"after (beta={model.beta_:.2f})": after},
                       classes=model.classes_)
