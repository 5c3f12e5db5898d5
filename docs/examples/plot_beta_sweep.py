"""
The inverse temperature β, and the sigmoid
==========================================

``softmax(z, beta=b)`` is ``exp(b z_i) / sum_j exp(b z_j)``: the article's
"base other than e" (``e**(b z)`` is ``(e**b)**z``). As β goes to 0 every
score gets the same share; as β grows the largest score takes everything, the
hard-max. The temperature is ``1 / β``.
"""

import numpy as np
from matplotlib.figure import Figure

from softmax import hardmax, sigmoid, softmax
from softmax.explain import format_probability
from softmax.plotting import plot_beta_sweep

fig = plot_beta_sweep([3, 7, 14])

# %%
# The two limits, computed. Note that β = 0.1 on ``3, 7, 14`` is softmax of
# ``0.3, 0.7, 1.4``: scaling the scores and changing β are the same thing.

for beta in (0.0, 0.01, 0.1, 1.0, 10.0, np.inf):
    p = softmax([3, 7, 14], beta=beta)
    print(f"beta={beta:<5}", ", ".join(format_probability(v) for v in p))
print("hard-max  ", ", ".join(format_probability(v) for v in hardmax([3, 7, 14])))

# %%
# Two classes: softmax is the sigmoid
# -----------------------------------
# Dividing ``e**x / (e**0 + e**x)`` by ``e**x`` gives ``1 / (1 + e**-x)``: the
# probability of the second of two classes with scores ``0`` and ``x`` is the
# logistic sigmoid of ``x``, so logistic regression is two-class softmax
# regression. β scales the slope.

x = np.linspace(-8, 8, 161)
two_class = softmax(np.column_stack([np.zeros_like(x), x]), axis=1)[:, 1]
print("largest difference from the sigmoid:", np.abs(two_class - sigmoid(x)).max())

fig_sigmoid = Figure(figsize=(7, 4), layout="constrained")
ax = fig_sigmoid.add_subplot()
for beta in (0.5, 1.0, 2.0):
    ax.plot(x, sigmoid(x, beta=beta), label=f"sigmoid, beta={beta:g}")
ax.plot(x[::8], two_class[::8], "o", color="black", markersize=4,
        label="softmax([0, x])[1], beta=1")
ax.set_xlabel("x (score of class 1 minus score of class 0)")
ax.set_ylabel("probability of class 1")
ax.legend()
ax.grid(alpha=0.3)
