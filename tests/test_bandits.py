"""Tests for softmax.bandits: testbed, policies, simulator, textbook numbers, CLI."""

import functools

import numpy as np
import pytest
from typer.testing import CliRunner

from softmax import softmax
from softmax.bandits import (
    TEXTBOOK,
    UCB,
    BoltzmannGumbel,
    Constant,
    ContextualSoftmaxPolicy,
    EpsilonGreedy,
    Exponential,
    GradientBandit,
    Linear,
    Logarithmic,
    SoftmaxPolicy,
    Testbed,
    method,
    simulate,
)
from softmax.bandits._sampling import argmax_random, categorical
from softmax.bandits.textbook import OPTIMAL_TOLERANCE, REWARD_TOLERANCE
from softmax.cli import app

ALL_POLICIES = [
    EpsilonGreedy(0.0),
    EpsilonGreedy(0.1),
    EpsilonGreedy(0.0, initial=5.0, alpha=0.1),
    UCB(2.0),
    SoftmaxPolicy(beta=4.0),
    SoftmaxPolicy(beta=Linear(0.0, 8.0, steps=50)),
    BoltzmannGumbel(0.5),
    GradientBandit(0.1),
    GradientBandit(0.4, baseline=False),
]


# -- testbed -------------------------------------------------------------------------


def test_testbed_draws_true_values_per_run():
    q = Testbed(k=5, mean=4.0, sd=2.0).reset(runs=20_000, rng=np.random.default_rng(0))
    assert q.shape == (20_000, 5)
    assert abs(q.mean() - 4.0) < 0.05 and abs(q.std() - 2.0) < 0.05


def test_testbed_fixed_means_and_reward_noise():
    testbed = Testbed(k=3, means=[0.0, 1.0, 2.0], noise=0.5)
    rng = np.random.default_rng(1)
    q = testbed.reset(runs=40_000, rng=rng)
    rewards = testbed.pull(q, np.full(40_000, 2), rng)
    assert abs(rewards.mean() - 2.0) < 0.02 and abs(rewards.std() - 0.5) < 0.02
    with pytest.raises(ValueError, match="means has 2 values"):
        Testbed(k=3, means=[0.0, 1.0])


def test_nonstationary_testbed_random_walk():
    testbed = Testbed.nonstationary(k=4, walk=0.01)
    assert not testbed.stationary
    rng = np.random.default_rng(2)
    q = testbed.reset(runs=10_000, rng=rng)
    assert np.all(q == 0.0)
    for _ in range(100):
        q = testbed.drift(q, rng)
    assert abs(q.std() - 0.01 * np.sqrt(100)) < 0.005  # sd grows like walk * sqrt(steps)


def test_stationary_drift_draws_nothing():
    rng = np.random.default_rng(3)
    q = Testbed().reset(2, rng)
    state = rng.bit_generator.state
    assert Testbed().drift(q, rng) is q and rng.bit_generator.state == state


@pytest.mark.parametrize("kwargs", [{"k": 0}, {"sd": -1.0}, {"noise": np.nan}, {"walk": -0.1}])
def test_testbed_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        Testbed(**kwargs)


# -- schedules ----------------------------------------------------------------------


def test_schedules():
    assert Constant(2.0)(1) == Constant(2.0)(10**6) == 2.0
    assert [Linear(1.0, 3.0, steps=3)(t) for t in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]
    e = Exponential(0.5, 8.0, steps=5)
    assert e(1) == 0.5 and e(5) == 8.0 and e(100) == 8.0
    assert e(3) == pytest.approx(2.0)  # geometric midpoint
    assert Logarithmic(2.0)(np.e - 1) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        Exponential(0.0, 1.0, steps=3)
    with pytest.raises(ValueError):
        Linear(0.0, 1.0, steps=0)


def test_softmax_policy_uses_the_scheduled_beta():
    policy = SoftmaxPolicy(beta=lambda t: 0.0 if t == 1 else 3.0)
    state = policy.init(2, 3, np.random.default_rng(0))
    state.q[:] = [1.0, 2.0, 4.0]
    np.testing.assert_allclose(policy.probabilities(state, 1), 1 / 3)
    np.testing.assert_allclose(policy.probabilities(state, 2), softmax(state.q, beta=3.0))


# -- sampling --------------------------------------------------------------------------


def test_categorical_matches_probabilities_and_skips_zero_mass():
    p = np.tile([0.5, 0.0, 0.2, 0.3, 0.0], (200_000, 1))
    draws = categorical(p, np.random.default_rng(4))
    freq = np.bincount(draws, minlength=5) / len(draws)
    np.testing.assert_allclose(freq, p[0], atol=0.005)
    assert freq[1] == 0 and freq[4] == 0


def test_argmax_random_breaks_ties_uniformly():
    values = np.tile([1.0, 3.0, 0.0, 3.0, 3.0], (60_000, 1))
    draws = argmax_random(values, np.random.default_rng(5))
    freq = np.bincount(draws, minlength=5) / len(draws)
    np.testing.assert_allclose(freq, [0, 1 / 3, 0, 1 / 3, 1 / 3], atol=0.01)
    unique = np.random.default_rng(6).standard_normal((1000, 7))
    np.testing.assert_array_equal(argmax_random(unique, np.random.default_rng(0)),
                                  unique.argmax(axis=1))


# -- policies ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.describe())
def test_policy_interface(policy):
    rng = np.random.default_rng(7)
    state = policy.init(50, 6, rng)
    for t in range(1, 20):
        actions = policy.select(state, t, rng)
        assert actions.shape == (50,) and actions.min() >= 0 and actions.max() < 6
        state = policy.update(state, actions, rng.standard_normal(50), t)
    assert isinstance(policy.describe(), str)


def test_sample_average_and_constant_step_updates():
    rewards = [1.0, 2.0, 6.0]
    averaged = EpsilonGreedy(0.0)
    constant = EpsilonGreedy(0.0, initial=5.0, alpha=0.5)
    s_avg = averaged.init(1, 2, None)
    s_const = constant.init(1, 2, None)
    for t, r in enumerate(rewards, 1):
        averaged.update(s_avg, np.array([1]), np.array([r]), t)
        constant.update(s_const, np.array([1]), np.array([r]), t)
    assert s_avg.q[0, 1] == pytest.approx(3.0) and s_avg.n[0, 1] == 3
    assert s_const.q[0, 1] == pytest.approx(((5.0 + 1.0) / 2 + 2.0) / 2 / 2 + 3.0)
    assert s_avg.q[0, 0] == 0.0 and s_const.q[0, 0] == 5.0


def test_epsilon_greedy_extremes():
    rng = np.random.default_rng(8)
    state = EpsilonGreedy(0.0).init(1000, 4, rng)
    state.q[:] = [0.0, 2.0, 1.0, 0.0]
    assert np.all(EpsilonGreedy(0.0).select(state, 1, rng) == 1)
    freq = np.bincount(EpsilonGreedy(1.0).select(state, 1, rng), minlength=4) / 1000
    assert np.all(np.abs(freq - 0.25) < 0.06)


@pytest.mark.parametrize("policy", [UCB(2.0), BoltzmannGumbel(0.5)], ids=["ucb", "bg"])
def test_untried_arms_come_first(policy):
    rng = np.random.default_rng(9)
    state = policy.init(300, 5, rng)
    chosen = []
    for t in range(1, 6):
        actions = policy.select(state, t, rng)
        chosen.append(actions)
        policy.update(state, actions, np.full(300, 10.0 * (actions == 0)), t)
    assert np.all(np.sort(np.stack(chosen), axis=0) == np.arange(5)[:, None])
    # The order among untried arms is random, not always arm 0 first.
    assert len(np.unique(chosen[0])) == 5


def test_gradient_bandit_update_matches_the_textbook_rule():
    alpha, k = 0.1, 4
    policy = GradientBandit(alpha)
    state = policy.init(1, k, None)
    h = np.zeros(k)
    mean = 0.0
    for t, (a, r) in enumerate([(2, 5.0), (0, 3.0), (2, 4.0)], 1):
        pi = softmax(h)
        mean += (r - mean) / t
        h = h + alpha * (r - mean) * ((np.arange(k) == a) - pi)
        policy.update(state, np.array([a]), np.array([r]), t)
        np.testing.assert_allclose(state.h[0], h)
    no_baseline = GradientBandit(alpha, baseline=False)
    state = no_baseline.init(1, k, None)
    no_baseline.update(state, np.array([1]), np.array([2.0]), 1)
    np.testing.assert_allclose(state.h[0], alpha * 2.0 * (np.eye(k)[1] - 0.25))


@pytest.mark.parametrize(
    "make", [lambda: EpsilonGreedy(1.5), lambda: UCB(-1), lambda: SoftmaxPolicy(beta=-1.0),
             lambda: GradientBandit(0.0), lambda: EpsilonGreedy(0.1, alpha=0.0)]
)
def test_policies_reject_bad_parameters(make):
    with pytest.raises(ValueError):
        make()


# -- simulator ---------------------------------------------------------------------------


def test_simulate_shapes_and_reproducibility():
    a = simulate(SoftmaxPolicy(beta=2.0), Testbed(k=10, mean=0.0), runs=100, steps=60, seed=5)
    b = simulate(SoftmaxPolicy(beta=2.0), Testbed(k=10, mean=0.0), runs=100, steps=60, seed=5)
    c = simulate(SoftmaxPolicy(beta=2.0), Testbed(k=10, mean=0.0), runs=100, steps=60, seed=6)
    assert a.mean_reward.shape == a.optimal_fraction.shape == (60,)
    np.testing.assert_array_equal(a.mean_reward, b.mean_reward)
    np.testing.assert_array_equal(a.optimal_fraction, b.optimal_fraction)
    assert not np.array_equal(a.mean_reward, c.mean_reward)
    assert np.all((0 <= a.optimal_fraction) & (a.optimal_fraction <= 1))


def test_simulate_random_policy_baseline():
    # epsilon = 1 is uniformly random: 1/k optimal and mean reward near 0.
    r = simulate(EpsilonGreedy(1.0), Testbed(k=5), runs=2000, steps=50, seed=1)
    assert abs(r.optimal_fraction.mean() - 0.2) < 0.02
    assert abs(r.mean_reward.mean()) < 0.05


def test_simulate_nonstationary_constant_step_beats_sample_average():
    # Exercise 2.5: under drifting values a constant step size tracks better.
    testbed = Testbed.nonstationary(k=10, walk=0.01)
    averaged = simulate(EpsilonGreedy(0.1), testbed, runs=200, steps=1500, seed=0)
    tracking = simulate(EpsilonGreedy(0.1, alpha=0.1), testbed, runs=200, steps=1500, seed=0)
    assert tracking.final_optimal(300) > averaged.final_optimal(300) + 0.1


def test_simulate_checks_its_inputs():
    with pytest.raises(ValueError, match="runs"):
        simulate(UCB(), runs=0)

    class Broken(EpsilonGreedy):
        def select(self, state, t, rng):
            return np.full(state.q.shape[0], 99)

    with pytest.raises(ValueError, match="outside"):
        simulate(Broken(0.1), runs=3, steps=2)


# -- the textbook's numbers ----------------------------------------------------------------

# 300 runs instead of 2000: the standard error of % optimal over steps 951-1000
# is then about 2.5 points (reward: about 0.035), so the tolerances widen by ~4 SE.
SMALL_RUNS = 300
SMALL_REWARD_TOL, SMALL_OPTIMAL_TOL = 0.12, 0.12


@pytest.mark.parametrize("spec", [s for s in TEXTBOOK if method(s).checked])
def test_textbook_numbers_small_run(spec):
    m = method(spec)
    r = simulate(m.policy, m.testbed, runs=SMALL_RUNS, steps=1000, seed=0)
    if m.reward is not None:
        assert r.final_reward() == pytest.approx(m.reward, abs=SMALL_REWARD_TOL)
    assert r.final_optimal() == pytest.approx(m.optimal, abs=SMALL_OPTIMAL_TOL)


@functools.lru_cache(maxsize=None)  # the reward and the optimal tests share each run
def _full_run(spec):
    m = method(spec)
    return m, simulate(m.policy, m.testbed, runs=2000, steps=1000, seed=0)


# Figure 2.2 reads 1.29 for epsilon = 0.01 at step 1000; 2000 runs give 1.317 on
# average over 8 seeds (sd 0.013), and 1.326 with seed 0: the reading, not the method.
_REWARD_KNOWN_OFF = {"epsilon=0.01"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(s, marks=pytest.mark.xfail(reason="figure 2.2 reads low", strict=False))
        if s in _REWARD_KNOWN_OFF
        else s
        for s in TEXTBOOK
        if method(s).checked and method(s).reward is not None
    ],
)
def test_textbook_reward_full_run(spec):
    m, r = _full_run(spec)
    assert r.final_reward() == pytest.approx(m.reward, abs=REWARD_TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [s for s in TEXTBOOK if method(s).checked])
def test_textbook_optimal_full_run(spec):
    m, r = _full_run(spec)
    assert r.final_optimal() == pytest.approx(m.optimal, abs=OPTIMAL_TOLERANCE)


def test_method_specs():
    assert method(" UCB=2.0 ").spec == "ucb=2"
    assert method("gradient-nobaseline=0.4").testbed.mean == 4.0
    assert method("softmax=1").optimal is None  # no published number for beta = 1
    with pytest.raises(ValueError, match="unknown policy"):
        method("thompson")
    with pytest.raises(ValueError, match="no parameter"):
        method("greedy=1")
    with pytest.raises(ValueError, match="must be a number"):
        method("ucb=two")


# -- contextual policy ----------------------------------------------------------------------


def test_contextual_policy_learns_from_bandit_feedback():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((600, 2))
    best = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0)  # 4 actions, one per quadrant
    policy = ContextualSoftmaxPolicy(n_actions=4, beta=2.0, epsilon=0.1)
    np.testing.assert_allclose(policy.probabilities(X[:3]), 0.25)  # uniform until fitted
    for batch in np.split(np.arange(600), 3):
        actions, p = policy.select(X[batch], rng)
        np.testing.assert_allclose(p, policy.probabilities(X[batch])[np.arange(200), actions])
        policy.update(X[batch], actions, (actions == best[batch]).astype(float), p)
    probabilities = policy.probabilities(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities.min() >= 0.1 / 4 - 1e-12  # the epsilon floor
    assert np.mean(probabilities.argmax(axis=1) == best) > 0.9
    assert policy.n_logged_ == 600


def test_contextual_policy_rejects_bad_feedback():
    policy = ContextualSoftmaxPolicy(n_actions=2)
    X = np.zeros((2, 1))
    with pytest.raises(ValueError, match=">= 0"):
        policy.update(X, [0, 1], [1.0, -1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="propensities"):
        policy.update(X, [0, 1], [1.0, 1.0], [0.5, 0.0])
    with pytest.raises(ValueError, match="actions"):
        policy.update(X, [0, 2], [1.0, 1.0], [0.5, 0.5])


# -- command line ---------------------------------------------------------------------------


def test_cli_bandit_table_and_plot(tmp_path):
    out = tmp_path / "curves.png"
    result = CliRunner().invoke(
        app,
        ["bandit", "-p", "greedy,ucb=2", "-p", "gradient", "--runs", "40", "--steps", "60",
         "--plot", str(out)],
    )
    assert result.exit_code == 0, result.output
    # Rich wraps long cells at the runner's 80 columns: look for single words.
    for word in ("greedy", "UCB", "gradient", "curves saved to"):
        assert word in result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, message",
    [(["-p", "thompson"], "unknown policy"), (["--plot", "no/such/dir/x.png"], "does not exist")],
)
def test_cli_bandit_errors(args, message):
    result = CliRunner().invoke(app, ["bandit", "--runs", "5", "--steps", "5", *args])
    assert result.exit_code == 2
    assert "error:" in result.output and message in result.output
