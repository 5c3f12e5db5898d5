"""
Hard-max, sum-normalisation and softmax
=======================================

The founding article turns the scores ``3, 7, 14`` into probabilities three
ways. Hard-max gives everything to the largest score. Sum-normalisation
divides by the sum, which ignores scale (the scores divided by ten give the
same answer) and gives negative "probabilities" for negative scores. Softmax
exponentiates first: every value is positive, the values sum to one, and the
result depends on the scale of the scores.
"""

from softmax.explain import compare, format_probability
from softmax.plotting import plot_explain

for scores in ([3, 7, 14], [0.3, 0.7, 1.4]):
    c = compare(scores)
    print(f"scores {scores}:")
    for name, values in (("hard-max", c.hardmax), ("sum", c.normalized), ("softmax", c.softmax)):
        print(f"  {name:9}", ", ".join(format_probability(p) for p in values))

# %%
# The article's scores: softmax all but ignores the two smaller ones.

fig = plot_explain([3, 7, 14])

# %%
# The same scores divided by ten: sum-normalisation does not change, softmax
# spreads its mass (the article's 0.18, 0.27, 0.55).

fig_small = plot_explain([0.3, 0.7, 1.4])

# %%
# Negative scores: sum-normalisation gives a negative share and one above 1;
# softmax stays a probability distribution.

fig_negative = plot_explain([-1, 0.5, 2])
