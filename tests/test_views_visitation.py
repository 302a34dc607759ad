"""Notebook 02's views over their slider ranges, against independent numbers: explicit numpy
solves, power series, autograd slopes, Monte Carlo in the real environment."""

import functools

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from redraw import assert_redraws_in_place

from trpo_lite import tabular
from trpo_lite.views import visitation as views


@pytest.fixture(scope="module")
def env():
    return gym.make("FrozenLake-v1")


@pytest.fixture(scope="module")
def data(env):
    return views.precompute(env)


def lake(env, gamma):
    return tabular.FiniteMDP.from_toy_text(env, float(gamma))


def path_policies(mdp, p):
    old = mdp.uniform_policy()
    return old, (views.greedy_step, views.flawed_step)[p](mdp, old)


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


def test_grids_are_the_slider_values(data):
    np.testing.assert_allclose(np.diff(data.gammas), 0.01, atol=1e-12)
    assert data.gammas[0] == 0.5 and data.gammas[-1] == 0.99
    np.testing.assert_allclose(np.diff(data.alphas), 0.02, atol=1e-12)
    assert data.alphas[0] == 0.0 and data.alphas[-1] == 1.0


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
            pi = views.mixture(torch.as_tensor(old), torch.as_tensor(new), alpha)
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
    greedy, flawed = views.greedy_step(mdp, old), views.flawed_step(mdp, old)
    changed = np.flatnonzero(np.abs(greedy - flawed).sum(1))
    assert changed.tolist() == [views.BESIDE_GOAL] and flawed[views.BESIDE_GOAL, views.LEFT] == 1
    assert tabular.objective(mdp, flawed) == 0.0 < tabular.objective(mdp, greedy)
    big_lake = tabular.FiniteMDP.from_toy_text(gym.make("FrozenLake-v1", map_name="8x8"), 0.9)
    with pytest.raises(ValueError, match="written for FrozenLake-v1 4x4 .* got an MDP with 65 states"):
        views.flawed_step(big_lake, big_lake.uniform_policy())


def test_visitation_view_draws_the_exact_visitation_for_every_gamma(data):
    for g, gamma in enumerate(data.gammas):
        fig = views.visitation_view(data, float(gamma))
        grid, lines = fig.axes
        np.testing.assert_allclose(grid.images[0].get_array(), data.nu_old[g][:16].reshape(4, 4))
        assert f"{data.nu_old[g][-1]:.3f}" in grid.get_title()  # the absorbing state's mass
        markers = [line.get_ydata()[0] for line in lines.lines if len(line.get_ydata()) == 1]
        assert sum(markers) == pytest.approx(1.0)  # start cell + rest of grid + absorbing
        plt.close(fig)


def test_surrogate_view_marks_j_and_l_at_alpha(env, data):
    cases = [(g % 2, float(gamma), float(data.alphas[(7 * g) % len(data.alphas)])) for g, gamma in
             enumerate(data.gammas)]
    cases += [(k % 2, 0.9, float(alpha)) for k, alpha in enumerate(data.alphas)]
    for p, gamma, alpha in cases:
        mdp = lake(env, gamma)
        old, new = path_policies(mdp, p)
        pi = views.mixture(old, new, alpha)
        J, L = tabular.objective(mdp, pi), tabular.surrogate(mdp, old, pi)
        fig = views.surrogate_view(data, views.PATHS[p], gamma, alpha)
        curves, grid = fig.axes
        gap_segment, j_marker, l_marker = curves.lines[-3:]
        assert j_marker.get_ydata()[0] == pytest.approx(J, abs=1e-12)
        assert l_marker.get_ydata()[0] == pytest.approx(L, abs=1e-12)
        np.testing.assert_allclose(gap_segment.get_ydata(), [J, L], atol=1e-12)
        shift = tabular.visitation(mdp, pi) - tabular.visitation(mdp, old)
        share = shift * (pi * tabular.advantages(mdp, old)).sum(1) / (1 - gamma)
        np.testing.assert_allclose(grid.images[0].get_array(), share[:16].reshape(4, 4), atol=1e-12)
        low, high = grid.images[0].get_clim()
        assert low == -high and high >= np.abs(share[:16]).max() - 1e-12  # white means no share
        shown = float(grid.get_title().split("add up to ")[1].rstrip(")"))
        assert shown == pytest.approx(J - L, abs=5e-5)  # printed with 4 decimals
        plt.close(fig)


GREEDY, FLAWED = views.PATHS
REDRAWS = [  # (view, a, b): pairs of slider settings (positional arguments after data) across the ranges
    ("visitation_view", (0.5,), (0.99,)),
    ("visitation_view", (0.9,), (0.6,)),
    ("visitation_view", (0.73,), (0.74,)),
    ("surrogate_view", (GREEDY, 0.5, 0.0), (FLAWED, 0.99, 1.0)),
    ("surrogate_view", (FLAWED, 0.9, 0.5), (FLAWED, 0.9, 0.52)),
    ("surrogate_view", (GREEDY, 0.7, 0.3), (GREEDY, 0.8, 0.3)),
    ("surrogate_view", (FLAWED, 0.6, 0.9), (GREEDY, 0.6, 0.9)),
]


@pytest.mark.parametrize(("name", "a", "b"), REDRAWS)
def test_a_redraw_depends_only_on_the_arguments(data, name, a, b):
    assert_redraws_in_place(functools.partial(getattr(views, name), data), a, b)


def test_views_reject_values_off_the_sliders(data):
    expected = "gamma must be a slider value, 0.5 to 0.99 in steps of 0.01; got 0.505"
    with pytest.raises(ValueError, match=expected):
        views.visitation_view(data, 0.505)
    with pytest.raises(ValueError, match="alpha must be a slider value"):
        views.surrogate_view(data, views.PATHS[0], 0.9, 1.5)
    with pytest.raises(ValueError, match="path must be one of"):
        views.surrogate_view(data, "best", 0.9, 0.5)


def test_sample_visitation_agrees_with_the_exact_visitation(env):
    gamma = 0.9
    mdp = lake(env, gamma)
    pi = mdp.random_policy(np.random.default_rng(1))
    long_env = gym.make("FrozenLake-v1", max_episode_steps=400)  # gamma^400: no tail is lost
    nu_hat, stderr = views.sample_visitation(long_env, pi, gamma, episodes=3000, seed=3)
    nu = tabular.visitation(mdp, pi)
    assert nu_hat.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.abs(nu_hat - nu) <= 4.5 * stderr + 1e-12), (nu_hat - nu) / np.maximum(stderr, 1e-12)
    again, _ = views.sample_visitation(long_env, pi, gamma, episodes=3000, seed=3)
    np.testing.assert_array_equal(again, nu_hat)  # one seed fixes the env and the actions
    with pytest.raises(ValueError, match="episodes must be an integer >= 2"):
        views.sample_visitation(long_env, pi, gamma, episodes=1, seed=0)


def test_comparison_view_reports_the_largest_gap_in_standard_errors(env):
    desc = env.unwrapped.desc
    nu = np.full(17, 1 / 17)
    nu_hat, stderr = nu + 0.01 * np.eye(17)[3], np.full(17, 0.004)
    fig = views.comparison_view(desc, nu, nu_hat, stderr)
    assert "largest gap: 2.5 standard errors" in fig.get_suptitle()
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), nu_hat[:16].reshape(4, 4))
    plt.close(fig)
