"""Notebook 00's numbers for E1: J by Monte Carlo in the real FrozenLake against an exact reference.

The exact reference solves the Bellman equation on FrozenLake's 16 cells with
plain loops over gymnasium's table (an episode that ends simply leaves the
system), independent of ``FiniteMDP.from_toy_text`` and ``tabular``. The
sampler and the tabular policy tested here are ``examples.frozen_lake``'s, the
ones this example plays its episodes with.
"""

import gymnasium as gym
import numpy as np
import pytest

from trpo_lite.examples import frozen_lake
from trpo_lite.examples import objective as ex

N_CELLS = 16
EPISODE_SLIDER = [2, 10, 100, 500, 2000]  # a sample of the notebook's episode slider (10 .. 2000)


def reference_objective(gamma, pi):
    """J = V(0) on FrozenLake (it always starts in cell 0), from gymnasium's table by plain loops."""
    table = gym.make("FrozenLake-v1").unwrapped.P
    P_pi, r_pi = np.zeros((N_CELLS, N_CELLS)), np.zeros(N_CELLS)
    for s in range(N_CELLS):
        for a in range(4):
            for prob, s_next, reward, terminated in table[s][a]:
                r_pi[s] += pi[s, a] * prob * reward
                if not terminated:
                    P_pi[s, s_next] += pi[s, a] * prob
    return np.linalg.solve(np.eye(N_CELLS) - gamma * P_pi, r_pi)[0]


def loop_return(rewards, gamma):
    return sum(gamma**t * r for t, r in enumerate(rewards))


def test_episode_returns_match_a_plain_loop_for_ragged_episodes():
    rng = np.random.default_rng(0)
    episodes = [rng.normal(size=n) for n in (1, 7, 3, 12)]
    for gamma in (0.0, 0.5, 0.99):
        want = [loop_return(e, gamma) for e in episodes]
        np.testing.assert_allclose(ex.episode_returns(episodes, gamma), want, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="episodes must hold at least one episode"):
        ex.episode_returns([], 0.9)
    with pytest.raises(ValueError, match=r"gamma must lie in \[0, 1\]"):
        ex.episode_returns(episodes, 1.5)


def test_tabular_policy_draws_actions_with_the_policy_s_probabilities():
    pi = np.array([[0.1, 0.2, 0.7, 0.0], [0.0, 0.0, 0.0, 1.0]])
    policy, rng, n = frozen_lake.tabular_policy(pi), np.random.default_rng(0), 20_000
    for s in range(2):
        counts = np.bincount([policy(s, rng) for _ in range(n)], minlength=4)
        # 5 standard deviations of a binomial count: a wrong sampler misses by far more
        np.testing.assert_array_less(np.abs(counts - n * pi[s]), 5 * np.sqrt(n * pi[s] * (1 - pi[s])) + 1e-9)
        assert counts[pi[s] == 0].sum() == 0  # an action of probability 0 is never drawn


def test_sample_episodes_one_seed_fixes_everything():
    env = gym.make("CartPole-v1")

    def policy(obs, rng):
        return int(rng.integers(2))

    first = frozen_lake.sample_episodes(env, policy, 20, seed=3)
    again = frozen_lake.sample_episodes(env, policy, 20, seed=3)
    other = frozen_lake.sample_episodes(env, policy, 20, seed=4)
    assert all(np.array_equal(a.rewards, b.rewards) and np.array_equal(a.actions, b.actions)
               for a, b in zip(first, again, strict=True))
    assert [len(e.rewards) for e in first] != [len(e.rewards) for e in other]
    # CartPole pays 1 per step, so G_0 = (1 - gamma^L) / (1 - gamma) for an episode of L steps
    lengths = np.array([len(e.rewards) for e in first])
    returns = ex.episode_returns([e.rewards for e in first], 0.99)
    np.testing.assert_allclose(returns, (1 - 0.99**lengths) / 0.01, rtol=1e-12)
    with pytest.raises(ValueError, match="n_episodes must be a positive integer; got 0"):
        frozen_lake.sample_episodes(env, policy, 0, seed=0)


def test_greedy_policy_is_optimal_by_value_iteration():
    _, policies = ex.lake_policies()
    table = gym.make("FrozenLake-v1").unwrapped.P
    v = np.zeros(N_CELLS)
    for _ in range(3000):  # value iteration, plain loops: 0.99^3000 leaves nothing to converge
        v = np.array([max(sum(p * (r + 0.99 * v[s2] * (not done)) for p, s2, r, done in table[s][a])
                          for a in range(4)) for s in range(N_CELLS)])
    greedy = policies["greedy"]
    assert reference_objective(0.99, greedy) == pytest.approx(v[0], abs=1e-9)
    # Deterministic in every cell where the action matters; in holes and the goal every action ties and
    # tabular.greedy_policy keeps the row it started from (uniform), as in the absorbing state.
    ends = np.isin(gym.make("FrozenLake-v1").unwrapped.desc.ravel(), [b"H", b"G"])
    np.testing.assert_array_equal(greedy[:N_CELLS][~ends].max(1), 1.0)
    np.testing.assert_allclose(greedy[:N_CELLS][ends], 0.25)
    np.testing.assert_allclose(greedy[N_CELLS:], 0.25)
    np.testing.assert_allclose(policies["uniform"], 0.25)


def test_lake_table_exact_j_matches_the_reference_for_every_gamma():
    _, policies = ex.lake_policies()
    table = ex.lake_objective_table()
    for name, pi in policies.items():
        want = [reference_objective(g, pi) for g in ex.GAMMAS]
        np.testing.assert_allclose(table[name]["exact"], want, rtol=1e-10, atol=1e-14)
    assert (table["greedy"]["exact"] > table["uniform"]["exact"]).all()
    with pytest.raises(ValueError, match="read-only"):
        table["greedy"]["exact"][0] = 1.0


def test_lake_returns_are_discounted_goal_rewards_and_estimate_j():
    table = ex.lake_objective_table()
    for name in ("uniform", "greedy"):
        returns, exact = table[name]["returns"], table[name]["exact"]
        assert returns.shape == (len(ex.GAMMAS), ex.MAX_EPISODES)
        # The lake pays 1 only on reaching the goal, at the last step: G_0 = gamma^(L-1) or 0, and
        # the exponent L - 1 is the same integer for every gamma (same episodes, reweighted).
        reached = returns[0] > 0
        assert reached.any() and not reached.all()
        exponents = np.log(returns[:, reached]) / np.log(ex.GAMMAS)[:, None]
        steps = np.broadcast_to(np.round(exponents[0]), exponents.shape)
        np.testing.assert_allclose(exponents, steps, atol=1e-6)
        np.testing.assert_array_equal(returns[:, ~reached], 0.0)
        # E1 both ways: the Monte Carlo mean lies within 4 standard errors of the exact J, at every gamma.
        means, ses = np.array([ex.mc_estimate(r) for r in returns]).T
        np.testing.assert_array_less(np.abs(means - exact), 4 * ses)


@pytest.mark.parametrize("policy", ["uniform", "greedy"])
@pytest.mark.parametrize("gamma", ex.GAMMAS[::3])
@pytest.mark.parametrize("n_episodes", EPISODE_SLIDER)
def test_objective_numbers_are_the_estimate_and_the_exact_value(policy, gamma, n_episodes):
    table = ex.lake_objective_table()
    numbers = ex.objective_numbers(policy, gamma, n_episodes)
    k = numbers["k"]
    assert ex.GAMMAS[k] == gamma
    returns = table[policy]["returns"][:, :n_episodes]  # [K, B]
    b = np.arange(1, n_episodes + 1)
    np.testing.assert_array_equal(numbers["exact"], table[policy]["exact"])
    np.testing.assert_allclose(numbers["running"], np.cumsum(returns[k]) / b)
    np.testing.assert_allclose(numbers["means"], returns.mean(1))
    np.testing.assert_allclose(numbers["ses"], returns.std(1, ddof=1) / n_episodes**0.5)
    np.testing.assert_allclose(numbers["band"], 3 * returns[k].std(ddof=1) / np.sqrt(b))
    mean, se = ex.mc_estimate(returns[k])
    assert mean == pytest.approx(returns[k].mean())
    assert se == pytest.approx(returns[k].std(ddof=1) / n_episodes**0.5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"gamma": 0.955}, r"gamma must be one of the precomputed values \(0.8, 0.81, .*, 0.99\); got 0.955"),
    ({"policy": "optimal"}, r"policy must be one of \['greedy', 'uniform'\]; got 'optimal'"),
    ({"n_episodes": 1}, r"n_episodes must be an integer in \[2, 2000\]; got 1"),
    ({"n_episodes": 5000}, r"n_episodes must be an integer in \[2, 2000\]; got 5000"),
])
def test_objective_numbers_reject_values_off_the_sliders(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ex.objective_numbers(**kwargs)
