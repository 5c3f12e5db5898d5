"""A contextual bandit: learn to read handwritten digits from right/wrong feedback only.

Each round the agent sees one 8x8 digit image (the context, 64 pixels),
names a digit (one of 10 actions), and hears only whether it was right
(reward 1 or 0) - never the true digit. Its policy is softmax over the class
scores of a ``SoftmaxRegression`` model,

    pi(a | x) = (1 - epsilon) * softmax(beta * log p_model(a | x)) + epsilon / 10,

refitted after every batch of 100 rounds on its own log of (context, action,
reward, propensity) with importance weights reward / propensity.

The inverse temperature ``beta`` (the same one as in ``softmax.softmax``)
trades earning against learning: a greedy policy (large beta) collects reward
sooner but rarely tries the actions it believes wrong, so it learns less
about them; a cooler policy explores and ends with a better classifier.
A model trained on the true labels (full information) shows the ceiling.
Runs in a few seconds:

    .venv/bin/python examples/contextual_bandit.py
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from softmax import SoftmaxRegression
from softmax.bandits import ContextualSoftmaxPolicy
from softmax.datasets import load_dataset

BATCHES, BATCH_SIZE, EPSILON, SEED = 12, 100, 0.1, 0
BETAS = (0.5, 1.0, 2.0, 4.0)
TRACED_BETA = 1.0  # the run whose learning curve is printed batch by batch


def run(
    beta: float, X_train: NDArray, y_train: NDArray, X_test: NDArray, y_test: NDArray, trace: bool
) -> tuple[float, float]:
    """Play the bandit; return the mean reward earned and the final test accuracy."""
    rng = np.random.default_rng(SEED)  # the same stream of contexts for every beta
    policy = ContextualSoftmaxPolicy(n_actions=10, beta=beta, epsilon=EPSILON)
    earned = 0.0
    for batch in range(1, BATCHES + 1):
        rows = rng.integers(len(X_train), size=BATCH_SIZE)  # contexts arrive at random
        actions, propensities = policy.select(X_train[rows], rng)
        rewards = (actions == y_train[rows]).astype(float)  # right or wrong, nothing more
        policy.update(X_train[rows], actions, rewards, propensities)
        earned += rewards.sum()
        if trace:
            accuracy = np.mean(policy.probabilities(X_test).argmax(axis=1) == y_test)
            print(f"{batch:>7}  {batch * BATCH_SIZE:>6}  {rewards.mean():>12.2f}  "
                  f"{accuracy:>13.3f}")
    accuracy = np.mean(policy.probabilities(X_test).argmax(axis=1) == y_test)
    return earned / (BATCHES * BATCH_SIZE), float(accuracy)


def main() -> None:
    digits = load_dataset("digits")
    X, y = digits.X.to_numpy(), digits.y.to_numpy().astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=SEED
    )
    print(f"digits as a 10-armed contextual bandit: {BATCHES} batches of {BATCH_SIZE} rounds, "
          f"epsilon={EPSILON:g}\n")
    print(f"learning curve at beta={TRACED_BETA:g} (test accuracy of the greedy choice):")
    print(f"{'batch':>7}  {'rounds':>6}  {'reward/round':>12}  {'test accuracy':>13}")
    outcomes = {}
    for beta in (TRACED_BETA, *(b for b in BETAS if b != TRACED_BETA)):
        outcomes[beta] = run(beta, X_train, y_train, X_test, y_test, trace=beta == TRACED_BETA)

    print(f"\n{'beta':>6}  {'mean reward earned':>18}  {'final test accuracy':>19}")
    for beta in BETAS:
        earned, accuracy = outcomes[beta]
        print(f"{beta:>6g}  {earned:>18.3f}  {accuracy:>19.3f}")
    full = SoftmaxRegression(standardize=True).fit(X_train, y_train)
    print(f"\nguessing earns {1 / 10:.3f}; full-information SoftmaxRegression "
          f"(true labels) reaches test accuracy {full.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
