"""
A statistics-package summary: multinomial logit on anes96
=========================================================

The 1996 American National Election Study (shipped with statsmodels): party
identification ``PID`` (7 classes, 0 = strong Democrat to 6 = strong
Republican) against ideology, age, education, income and the log
population of the place of residence. Unpenalised (``C=np.inf``), this is
statsmodels' ``MNLogit`` example; its log-likelihood is -1461.92 and its
pseudo-R² 0.1648, and the table below agrees with it.
"""

import numpy as np
import statsmodels.api as sm
from matplotlib.figure import Figure

from softmax import SoftmaxRegression

data = sm.datasets.anes96.load_pandas().data
X = data[["logpopul", "selfLR", "age", "educ", "income"]]
y = data["PID"]

model = SoftmaxRegression(C=np.inf).fit(X, y)
res = model.inference(X, y)  # reference class: the first, PID = 0
print(res.summary())

# %%
# The effect of ideology (``selfLR``, 1 = extremely liberal to 7 = extremely
# conservative) on the log-odds of each party identification against strong
# Democrats, with 95% intervals:

estimate = res.params.loc["selfLR"]  # one value per class but the reference
ci = res.conf_int(0.05).xs("selfLR", level="term")  # columns lower, upper
low, high = ci["lower"].to_numpy(), ci["upper"].to_numpy()

fig = Figure(figsize=(6.5, 3.8), layout="constrained")
ax = fig.add_subplot()
positions = np.arange(len(estimate))
ax.errorbar(estimate, positions, xerr=[estimate - low, high - estimate], fmt="o", capsize=3)
ax.axvline(0, color="grey", linewidth=0.8)
ax.set_yticks(positions, [f"PID {c:g} vs 0" for c in estimate.index])
ax.set_xlabel("coefficient of selfLR (log-odds per point), 95% interval")
ax.grid(alpha=0.3)

# %%
# Average marginal effects: how one more point of conservatism changes each
# class's probability (they sum to zero over the classes):

effects = res.marginal_effects(at="overall")
print(effects.effects.loc["selfLR"].round(4))
