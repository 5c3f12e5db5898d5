"""
Softmax exploration on the 10-armed testbed
===========================================

Reinforcement learning uses softmax to trade exploitation (pull the arm that
looks best) against exploration (try the others): Boltzmann selection picks
arm ``a`` with probability ``softmax(beta * Q)[a]``. On Sutton and Barto's
10-armed testbed (chapter 2), against greedy, epsilon-greedy and UCB, and
Boltzmann-Gumbel exploration, which gives each arm its own temperature.
"""

import tempfile
from pathlib import Path

from softmax.bandits import method, plot_results, simulate

runs, steps = 500, 1000
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("SOFTMAX_DOCS_TINY"):  # the test suite's quick run
    runs, steps = 20, 50
# sphinx_gallery_end_ignore
specs = ["greedy", "epsilon=0.1", "softmax=4", "ucb=2", "boltzmann-gumbel=0.5"]
results = []
for spec in specs:
    m = method(spec)
    result = simulate(m.policy, m.testbed, runs=runs, steps=steps, seed=0)
    results.append(result)
    last = slice(-50, None)
    print(f"{result.label:26} reward {result.mean_reward[last].mean():.2f}, "
          f"optimal {100 * result.optimal_fraction[last].mean():.0f}%"
          + (f"  (book: {m.reward:.2f}, {100 * m.optimal:.0f}%)" if m.reward else ""))

# %%
# Average reward and % optimal action, step by step, over the runs
# (``plot_results`` writes the figure to a file). The full reproduction, 2000
# runs of every textbook method, is ``make bench`` and
# ``softmax bandit --plot``; its table is in the user guide.

picture = Path(tempfile.mkdtemp()) / "bandits.png"
plot_results(results, picture)

# %%
# The inverse temperature matters: too small and the policy keeps exploring,
# too large and it locks on early to an arm that looked good by chance.

from softmax.bandits import SoftmaxPolicy, Testbed  # noqa: E402

for beta in (0.5, 1, 2, 4, 8, 16):
    r = simulate(SoftmaxPolicy(beta=beta), Testbed(k=10), runs=runs // 2, steps=steps, seed=1)
    print(f"beta={beta:<4} mean reward over all steps {r.mean_reward.mean():.3f}")
