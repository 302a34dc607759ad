"""Notebook 01's numbers over their slider ranges, against a reference built straight from gymnasium's
table (``lake_reference``) and against Monte Carlo in the real environment."""

import gymnasium as gym
import numpy as np
import pytest
from lake_reference import N_CELLS, reference_gain, reference_q_v

from trpo_lite import tabular
from trpo_lite.examples import advantage as ex

GAMMAS = np.round(np.arange(0.80, 0.99 + 1e-9, 0.01), 2)  # the notebook's gamma slider
ALPHAS = np.round(np.arange(0.0, 1.0 + 1e-9, 0.05), 2)  # the notebook's alpha slider


@pytest.mark.parametrize("gamma", [0.8, 0.95, 0.99])
def test_running_example_policies(gamma):
    mdp, pi_old, pi_target = ex.running_example(gamma)
    assert mdp.n_states == N_CELLS + 1 and mdp.gamma == gamma
    np.testing.assert_allclose(pi_old, 0.25)
    q, v = reference_q_v(gamma, pi_old)
    np.testing.assert_array_equal(pi_target.sum(1), 1.0)
    # Greedy on the ice (S and F cells): one-hot on an action with the largest advantage, ties go to the
    # first action.
    ice = np.flatnonzero(np.isin(gym.make("FrozenLake-v1").unwrapped.desc.ravel(), [b"S", b"F"]))
    chosen = pi_target[ice].argmax(1)
    np.testing.assert_array_equal(pi_target[ice].max(1), 1.0)
    np.testing.assert_allclose(q[ice, chosen], q[ice].max(1), atol=1e-12)
    assert chosen[ice.tolist().index(6)] == 0  # cell 6: left and right tie exactly by the map's symmetry
    # Holes, the goal and the absorbing state, where every action ties, keep the uniform row.
    ends = np.setdiff1d(np.arange(N_CELLS + 1), ice)
    np.testing.assert_array_equal(pi_target[ends], pi_old[ends])


def test_mix_moves_from_old_to_target_and_rejects_bad_alpha():
    _, pi_old, pi_target = ex.running_example(0.9)
    np.testing.assert_array_equal(ex.mix(pi_old, pi_target, 0.0), pi_old)
    np.testing.assert_array_equal(ex.mix(pi_old, pi_target, 1.0), pi_target)
    np.testing.assert_allclose(ex.mix(pi_old, pi_target, 0.3), 0.7 * pi_old + 0.3 * pi_target)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]; got 1.5"):
        ex.mix(pi_old, pi_target, 1.5)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_curve_both_sides_of_e3_agree_with_the_reference(gamma):
    curve = ex.performance_difference_curve(gamma)
    np.testing.assert_allclose(curve["alpha"], ALPHAS, atol=1e-12)
    lhs_ref = [reference_gain(gamma, alpha) for alpha in curve["alpha"]]
    np.testing.assert_allclose(curve["lhs"], lhs_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(curve["rhs"], curve["lhs"], rtol=1e-10, atol=1e-13)  # E3 = E4
    assert curve["lhs"][0] == pytest.approx(0.0, abs=1e-15)
    # Greedy w.r.t. A^old makes every summand of E4 non-negative: no mixture is worse than old.
    assert (curve["lhs"][1:] > 0).all()
    # nu^old in place of nu^new: linear in alpha, and it matches the truth only to first order.
    np.testing.assert_allclose(np.diff(curve["old_nu"], 2), 0.0, atol=1e-12)
    gap = curve["lhs"] - curve["old_nu"]
    assert 0 < abs(gap[1]) < abs(gap[2]) / 3


def test_curve_is_cached_and_read_only():
    assert ex.performance_difference_curve(0.9) is ex.performance_difference_curve(0.9)
    with pytest.raises(ValueError, match="read-only"):
        ex.performance_difference_curve(0.9)["lhs"][0] = 1.0


@pytest.mark.parametrize("gamma", GAMMAS)
def test_values_at_gives_e2_at_the_best_action(gamma):
    numbers = ex.values_at(gamma)
    q, v = reference_q_v(gamma, np.full((N_CELLS, 4), 0.25))
    np.testing.assert_allclose(numbers["v"][:N_CELLS], v, atol=1e-12)
    np.testing.assert_allclose(numbers["q_best"][:N_CELLS], q.max(1), atol=1e-12)
    np.testing.assert_allclose(numbers["a_best"][:N_CELLS], q.max(1) - v, atol=1e-12)  # E2
    assert numbers["v"][N_CELLS] == numbers["q_best"][N_CELLS] == 0.0  # the absorbing state earns nothing
    np.testing.assert_array_equal(numbers["pi_target"], ex.running_example(gamma)[2])


@pytest.mark.parametrize("gamma", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("alpha", [0.0, 0.35, 1.0])
def test_performance_difference_at_gives_both_sides_of_e3(gamma, alpha):
    numbers = ex.performance_difference_at(gamma, alpha)
    want = reference_gain(gamma, alpha)
    assert numbers["lhs"] == pytest.approx(want, rel=1e-10, abs=1e-13)
    assert numbers["rhs"] == pytest.approx(want, rel=1e-10, abs=1e-13)
    assert numbers["rhs"] == numbers["gains"].sum()
    _, pi_old, pi_target = ex.running_example(gamma)
    np.testing.assert_allclose(numbers["pi_new"], (1 - alpha) * pi_old + alpha * pi_target, atol=1e-15)
    assert numbers["curve"] is ex.performance_difference_curve(gamma)


def test_discounted_sum_weights_step_t_by_gamma_to_the_t():
    x = np.array([1.0, -2.0, 0.5, 3.0])
    assert ex.discounted_sum(x, 0.9) == pytest.approx(1.0 - 0.9 * 2.0 + 0.81 * 0.5 + 0.729 * 3.0, rel=1e-15)
    assert ex.discounted_sum(x, 0.0) == 1.0
    assert ex.discounted_sum(np.zeros(0), 0.9) == 0.0


def test_advantage_sums_telescope_exactly_on_a_deterministic_lake():
    # No slipping and a deterministic new policy: every episode is the same path, so the sum of
    # discounted old advantages equals J(new) - J(old) exactly, episode by episode (E3 without E).
    gamma = 0.9
    env = gym.make("FrozenLake-v1", is_slippery=False)
    mdp = tabular.FiniteMDP.from_toy_text(env, gamma)
    pi_old = mdp.uniform_policy()
    pi_new = mdp.uniform_policy()
    for s, a in {0: 2, 1: 2, 2: 1, 6: 1, 10: 1, 14: 2}.items():  # right, right, down, down, down, right
        pi_new[s] = np.eye(4)[a]
    sums = ex.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n_episodes=5, seed=3)
    j_old = reference_q_v(gamma, pi_old, is_slippery=False)[1][0]
    np.testing.assert_allclose(sums, gamma**5 - j_old, rtol=1e-12)  # the goal is reached at t = 5


def test_advantage_sums_estimate_e3_in_the_real_environment():
    gamma, alpha, n = 0.9, 0.5, 2000
    mdp, pi_old, pi_target = ex.running_example(gamma)
    pi_new = ex.mix(pi_old, pi_target, alpha)
    env = gym.make("FrozenLake-v1", max_episode_steps=200)  # gamma^200 < 1e-9: the cut-off is invisible
    sums = ex.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n, seed=0)
    se = sums.std(ddof=1) / np.sqrt(n)
    assert abs(sums.mean() - reference_gain(gamma, alpha)) < 3 * se
    again = ex.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n, seed=0)
    np.testing.assert_array_equal(sums, again)  # one seed fixes the env and the actions
    other = ex.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n, seed=1)
    assert not np.array_equal(sums, other)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_episodes": 0}, "n_episodes must be a positive integer; got 0"),
        ({"gamma": 1.0}, r"gamma must lie in \[0, 1\)"),
        ({"pi_new": np.full((17, 3), 1 / 3)}, r"adv_old has shape \(17, 4\), expected \(17, 3\)"),
        ({"pi_new": np.full((17, 4), 0.3)}, "the rows of pi_new must each sum to 1"),
    ],
)
def test_advantage_sums_rejects_bad_input(change, message):
    mdp, pi_old, _ = ex.running_example(0.9)
    args = {"env": gym.make("FrozenLake-v1"), "pi_new": pi_old, "adv_old": tabular.advantages(mdp, pi_old),
            "gamma": 0.9, "n_episodes": 10, "seed": 0} | change
    with pytest.raises(ValueError, match=message):
        ex.advantage_sums(**args)


def test_advantage_sums_rejects_a_policy_for_another_env():
    pi = np.full((10, 4), 0.25)  # fewer states than FrozenLake's 16 cells
    with pytest.raises(ValueError, match=r"pi_new must have shape \[S, A\] with S >= 16"):
        ex.advantage_sums(gym.make("FrozenLake-v1"), pi, np.zeros((10, 4)), 0.9, 1, 0)
