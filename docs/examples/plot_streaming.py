"""
Streaming: partial_fit, one chunk at a time
===========================================

When the rows do not fit in memory, or keep arriving, ``partial_fit`` trains
on one chunk per call: true softmax (multinomial) stochastic gradient, not
one-vs-rest as scikit-learn's ``SGDClassifier``. A stream has no known size,
so the penalty is given per sample, ``alpha``: the objective is
``mean CE + alpha / 2 * ||coef||^2``. The default optimiser is averaged SGD
with momentum. Here 20,000 rows arrive in chunks of 500; after each chunk
the model is scored on 4,000 held-out rows and compared with the full-batch
optimum of the same objective.
"""

import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss

from softmax import SoftmaxRegression

n_rows, chunk = 24_000, 500
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("SOFTMAX_DOCS_TINY"):  # the test suite's quick run
    n_rows, chunk = 1_200, 200
# sphinx_gallery_end_ignore
X, y = make_classification(n_samples=n_rows, n_features=20, n_informative=10, n_classes=5,
                           random_state=0)
n_test = n_rows // 6  # held out
X_stream, y_stream, X_test, y_test = X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:]
alpha = 1e-4

model = SoftmaxRegression(solver="sgd", alpha=alpha, random_state=0)
losses = []
for epoch in range(2):  # two passes over the stream
    for start in range(0, len(X_stream), chunk):
        rows = slice(start, start + chunk)
        model.partial_fit(X_stream[rows], y_stream[rows], classes=np.arange(5))
        losses.append(log_loss(y_test, model.predict_proba(X_test)))

full = SoftmaxRegression(alpha=alpha).fit(X_stream, y_stream)  # all rows at once
best = log_loss(y_test, full.predict_proba(X_test))
print(f"after {model.n_iter_[0]} partial_fit calls: held-out log-loss {losses[-1]:.4f}; "
      f"full batch ({full.solver_}): {best:.4f}")

# %%
# The held-out log-loss after each chunk, against the full-batch model:

fig = Figure(figsize=(7, 4), layout="constrained")
ax = fig.add_subplot()
ax.plot(np.arange(1, len(losses) + 1) * chunk, losses, label="partial_fit, after each chunk")
ax.axhline(best, color="black", linestyle="--", label="full batch, same objective")
ax.set_xlabel("rows seen")
ax.set_ylabel("held-out log-loss")
ax.set_ylim(best - 0.05, losses[0] + 0.05)
ax.legend()
ax.grid(alpha=0.3)

# %%
# A saved model remembers its stream (optimiser state and random generator),
# so training resumes where it stopped, in this process or another:

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from softmax import load  # noqa: E402

path = model.save(Path(tempfile.mkdtemp()) / "stream.softmax")
resumed = load(path).partial_fit(X_stream[:chunk], y_stream[:chunk])
model.partial_fit(X_stream[:chunk], y_stream[:chunk])
print("resumed model equals the one that never stopped:",
      np.array_equal(resumed.coef_, model.coef_))
