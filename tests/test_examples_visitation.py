"""Notebook 02's numbers over their slider ranges, against independent numbers: explicit numpy
solves, power series, autograd slopes, Monte Carlo in the real environment."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from lake_reference import path_policies

from trpo_lite import tabular
from trpo_lite.examples import visitation as ex


@pytest.fixture(scope="module")
def env():
    return gym.make("FrozenLake-v1")


@pytest.fixture(scope="module")
def data():
    return ex.precompute()


def lake(env, gamma):
    return tabular.FiniteMDP.from_toy_text(env, float(gamma))


def numpy_j_and_l(mdp, old, pi):
    """J(pi) and L_old(pi) from explicit numpy linear solves (E1, E4, E5)."""
    P, R, start, gamma = mdp.P.numpy(), mdp.R.numpy(), mdp.start.numpy(), mdp.gamma
    eye = np.eye(mdp.n_states)

    def values(p):
        return np.linalg.solve(eye - gamma * np.einsum("sa,sat->st", p, P), (p * R).sum(1))

    v_old = values(old)
    A_old = R + gamma * P @ v_old - v_old[:, None]
    nu_old = np.linalg.solve((eye - gamma * np.einsum("sa,sat->st", old, P)).T, (1 - gamma) * start)
    return start @ values(pi), start @ v_old + nu_old @ (pi * A_old).sum(1) / (1 - gamma)


def test_grids_are_the_slider_values(data, env):
    np.testing.assert_allclose(np.diff(data.gammas), 0.01, atol=1e-12)
    assert data.gammas[0] == 0.5 and data.gammas[-1] == 0.99
    np.testing.assert_allclose(np.diff(data.alphas), 0.02, atol=1e-12)
    assert data.alphas[0] == 0.0 and data.alphas[-1] == 1.0
    np.testing.assert_array_equal(data.desc, env.unwrapped.desc)


def test_precomputed_curves_match_explicit_solves(env, data):
    rng = np.random.default_rng(0)
    for _ in range(12):
        p, g, k = rng.integers(2), rng.integers(len(data.gammas)), rng.integers(len(data.alphas))
        mdp = lake(env, data.gammas[g])
        old, new = path_policies(mdp, p)
        pi = (1 - data.alphas[k]) * old + data.alphas[k] * new
        J, L = numpy_j_and_l(mdp, old, pi)
        assert data.J[p, g, k] == pytest.approx(J, abs=1e-12)
        assert data.L[p, g, k] == pytest.approx(L, abs=1e-12)


def test_old_visitation_matches_power_series_for_every_gamma(env, data):
    P = lake(env, 0.5).P.numpy()
    P_pi = P.mean(1)  # the uniform policy
    for g, gamma in enumerate(data.gammas):
        d, nu = lake(env, gamma).start.numpy(), np.zeros(P.shape[0])
        for t in range(4000):
            nu += (1 - gamma) * gamma**t * d
            d = d @ P_pi
        np.testing.assert_allclose(data.nu_old[g], nu, atol=1e-12)


def test_gap_by_state_adds_up_to_j_minus_l_everywhere(data):
    """E4 against E5: J - L = 1/(1 - gamma) sum_s (nu^alpha - nu^old)(s) sum_a pi_alpha A^old."""
    np.testing.assert_allclose(data.gap_by_state.sum(-1), data.J - data.L, atol=1e-13)
    assert np.abs(data.gap_by_state[:, :, 0]).max() == 0  # alpha = 0 is the old policy


def test_surrogate_matches_j_in_value_and_slope_at_the_start_of_every_path(env, data):
    """E5: L(pi_0) = J(pi_0) and dJ/dalpha = dL/dalpha at alpha = 0 (autograd through J)."""
    for g, gamma in enumerate(data.gammas):
        mdp = lake(env, gamma)
        for p in range(2):
            old, new = path_policies(mdp, p)
            alpha = torch.zeros((), dtype=torch.float64, requires_grad=True)
            pi = tabular.mixture(torch.as_tensor(old), torch.as_tensor(new), alpha)
            (dJ,) = torch.autograd.grad(tabular.objective(mdp, pi), alpha)
            L = data.L[p, g]
            assert data.J[p, g, 0] == pytest.approx(L[0], abs=1e-15)
            # L is linear in alpha (pi_alpha enters it linearly), so its slope is one difference.
            np.testing.assert_allclose(np.diff(L, 2), 0, atol=1e-13)
            assert dJ.item() == pytest.approx((L[-1] - L[0]) / (data.alphas[-1] - data.alphas[0]), rel=1e-9)


def test_paths_tell_the_story_in_the_notebook(data):
    """Greedy: J ends above J(old) (policy improvement) and L is too pessimistic.
    Flawed: L promises a gain while J ends at 0 (the goal is never reached)."""
    J, L = data.J, data.L
    assert (J[0, :, -1] > J[0, :, 0]).all() and (J[0, :, -1] > L[0, :, -1]).all()
    assert (L[1, :, -1] > J[1, :, 0]).all() and np.abs(J[1, :, -1]).max() < 1e-15
    # Near the start the gap grows like alpha^2: on the greedy path gap / alpha^2 barely changes from
    # alpha = 0.02 to 0.04. (On the flawed path its alpha^2 coefficient changes sign near gamma = 0.78.)
    gap = J[0, :, 1:3] - L[0, :, 1:3]
    ratio = (gap[:, 1] / 0.04**2) / (gap[:, 0] / 0.02**2)
    assert np.all(np.abs(ratio - 1) < 0.05)


def test_flawed_step_changes_only_the_cell_beside_the_goal(env):
    mdp = lake(env, 0.9)
    old = mdp.uniform_policy()
    greedy, flawed = tabular.greedy_policy(mdp, old), ex.flawed_step(mdp, old)
    changed = np.flatnonzero(np.abs(greedy - flawed).sum(1))
    assert changed.tolist() == [ex.BESIDE_GOAL] and flawed[ex.BESIDE_GOAL, ex.LEFT] == 1
    assert tabular.objective(mdp, flawed) == 0.0 < tabular.objective(mdp, greedy)
    big_lake = tabular.FiniteMDP.from_toy_text(gym.make("FrozenLake-v1", map_name="8x8"), 0.9)
    with pytest.raises(ValueError, match="written for FrozenLake-v1 4x4 .* got an MDP with 65 states"):
        ex.flawed_step(big_lake, big_lake.uniform_policy())


def test_visitation_at_picks_nu_and_its_shares_at_gamma(env, data):
    for g, gamma in enumerate(data.gammas):
        numbers = ex.visitation_at(data, float(gamma))
        nu = tabular.visitation(lake(env, gamma), lake(env, gamma).uniform_policy())
        assert numbers["gamma"] == gamma
        np.testing.assert_allclose(numbers["nu"], nu, atol=1e-12)
        # start cell S (cell 0), the other 15 cells, the absorbing state: all of nu, in the order of SHARES
        np.testing.assert_allclose(numbers["shares_now"], [nu[0], nu[1:16].sum(), nu[16]], atol=1e-12)
        np.testing.assert_array_equal(numbers["shares"][:, g], numbers["shares_now"])
    assert len(ex.SHARES) == len(numbers["shares"])


def test_surrogate_at_picks_the_path_and_the_slider_values(env, data):
    for p, gamma, alpha in [(0, 0.5, 0.0), (1, 0.73, 0.36), (0, 0.9, 1.0), (1, 0.99, 0.5)]:
        numbers = ex.surrogate_at(data, ex.PATHS[p], gamma, alpha)
        assert numbers["gamma"] == gamma and numbers["alpha"] == alpha
        assert data.alphas[numbers["k"]] == alpha
        mdp = lake(env, gamma)
        old, new = path_policies(mdp, p)
        curve = [numpy_j_and_l(mdp, old, tabular.mixture(old, new, a)) for a in data.alphas]
        np.testing.assert_allclose(numbers["J"], [j for j, _ in curve], atol=1e-12)
        np.testing.assert_allclose(numbers["L"], [l for _, l in curve], atol=1e-12)
        pi = tabular.mixture(old, new, alpha)
        shift = tabular.visitation(mdp, pi) - tabular.visitation(mdp, old)
        share = shift * (pi * tabular.advantages(mdp, old)).sum(1) / (1 - gamma)
        np.testing.assert_allclose(numbers["gap_by_state"], share, atol=1e-12)


def test_slider_lookups_reject_values_off_the_sliders(data):
    off_gamma = r"gamma must be one of the precomputed values \(0\.5, 0\.51, .*, 0\.99\); got 0\.505"
    with pytest.raises(ValueError, match=off_gamma):
        ex.visitation_at(data, 0.505)
    off_alpha = r"alpha must be one of the precomputed values \(0\.0, 0\.02, .*, 1\.0\); got 1\.5"
    with pytest.raises(ValueError, match=off_alpha):
        ex.surrogate_at(data, ex.PATHS[0], 0.9, 1.5)
    with pytest.raises(ValueError, match=r"path must be one of \('greedy', .*\); got 'best'"):
        ex.surrogate_at(data, "best", 0.9, 0.5)


def test_sample_visitation_agrees_with_the_exact_visitation(env):
    gamma = 0.9
    mdp = lake(env, gamma)
    pi = mdp.random_policy(np.random.default_rng(1))
    long_env = gym.make("FrozenLake-v1", max_episode_steps=400)  # gamma^400: no tail is lost
    nu_hat, stderr = ex.sample_visitation(long_env, pi, gamma, episodes=3000, seed=3)
    nu = tabular.visitation(mdp, pi)
    assert nu_hat.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.abs(nu_hat - nu) <= 4.5 * stderr + 1e-12), (nu_hat - nu) / np.maximum(stderr, 1e-12)
    again, _ = ex.sample_visitation(long_env, pi, gamma, episodes=3000, seed=3)
    np.testing.assert_array_equal(again, nu_hat)  # one seed fixes the env and the actions
    with pytest.raises(ValueError, match="episodes must be an integer >= 2"):
        ex.sample_visitation(long_env, pi, gamma, episodes=1, seed=0)


def test_sample_visitation_adds_each_step_and_the_tail_of_an_episode():
    """No slipping and a deterministic policy: every episode walks 0 -> 1 -> 2 -> 6 -> 10 -> 14 -> goal, so
    nu_hat is exactly (1 - gamma) gamma^t on the t-th cell and gamma^6 on the absorbing state."""
    gamma = 0.8
    env = gym.make("FrozenLake-v1", is_slippery=False)
    pi = np.full((17, 4), 0.25)
    for s, a in {0: 2, 1: 2, 2: 1, 6: 1, 10: 1, 14: 2}.items():  # right, right, down, down, down, right
        pi[s] = np.eye(4)[a]
    nu_hat, stderr = ex.sample_visitation(env, pi, gamma, episodes=3, seed=0)
    want = np.zeros(17)
    want[[0, 1, 2, 6, 10, 14]] = (1 - gamma) * gamma ** np.arange(6)
    want[16] = gamma**6
    np.testing.assert_allclose(nu_hat, want, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(stderr, 0.0)
