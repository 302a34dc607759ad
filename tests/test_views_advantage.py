"""Notebook 01's views over their slider ranges, against a reference built straight from gymnasium's table.

The reference solves the Bellman equations on the 16 cells with plain loops over
``env.unwrapped.P`` (terminal transitions simply leave the system), independent
of ``FiniteMDP.from_toy_text`` and its absorbing state.
"""

import gymnasium as gym
import numpy as np
import pytest
from matplotlib.quiver import Quiver
from redraw import assert_redraws_in_place

from trpo_lite import tabular
from trpo_lite.views import advantage as views
from trpo_lite.widgets import to_png

GAMMAS = np.round(np.arange(0.80, 0.99 + 1e-9, 0.01), 2)  # the notebook's gamma slider
ALPHAS = np.round(np.arange(0.0, 1.0 + 1e-9, 0.05), 2)  # the notebook's alpha slider
N_CELLS = 16
ICE = 11  # S and the ten F cells of the 4x4 map: the cells that get arrows
LEFT, DOWN, RIGHT, UP = range(4)


def reference_tables(gamma, is_slippery=True):
    """P [16, A, 16] (sub-stochastic: ending the episode leaves), R [16, A], from plain loops."""
    table = gym.make("FrozenLake-v1", is_slippery=is_slippery).unwrapped.P
    P, R = np.zeros((N_CELLS, 4, N_CELLS)), np.zeros((N_CELLS, 4))
    for s in range(N_CELLS):
        for a in range(4):
            for prob, s_next, reward, terminated in table[s][a]:
                R[s, a] += prob * reward
                if not terminated:
                    P[s, a, s_next] += prob
    return P, R


def reference_q_v(gamma, pi, is_slippery=True):
    P, R = reference_tables(gamma, is_slippery)
    pi = pi[:N_CELLS]
    P_pi = np.einsum("sa,sat->st", pi, P)
    v = np.linalg.solve(np.eye(N_CELLS) - gamma * P_pi, (pi * R).sum(1))
    return R + gamma * P @ v, v


def reference_gain(gamma, alpha):
    """J(new) - J(old) for the running example; FrozenLake always starts in cell 0."""
    pi_old = np.full((N_CELLS, 4), 0.25)
    q_old, v_old = reference_q_v(gamma, pi_old)
    adv_old = q_old - v_old[:, None]
    first_best = [next(a for a in range(4) if row[a] >= row.max() - 1e-12) for row in adv_old]
    pi_new = (1 - alpha) * pi_old + alpha * np.eye(4)[first_best]
    return reference_q_v(gamma, pi_new)[1][0] - v_old[0]


@pytest.mark.parametrize("gamma", [0.8, 0.95, 0.99])
def test_running_example_policies(gamma):
    mdp, pi_old, pi_target = views.frozen_lake(gamma)
    assert mdp.n_states == N_CELLS + 1 and mdp.gamma == gamma
    np.testing.assert_allclose(pi_old, 0.25)
    q, v = reference_q_v(gamma, pi_old)
    chosen = pi_target[:N_CELLS].argmax(1)
    np.testing.assert_array_equal(pi_target.sum(1), 1.0)
    np.testing.assert_array_equal(pi_target.max(1), 1.0)
    # Greedy: the chosen action's advantage is the largest; ties go to the first action.
    np.testing.assert_allclose(q[np.arange(N_CELLS), chosen], q.max(1), atol=1e-12)
    assert chosen[6] == 0  # cell 6: left and right tie exactly by the map's symmetry


def test_mix_moves_from_old_to_target_and_rejects_bad_alpha():
    _, pi_old, pi_target = views.frozen_lake(0.9)
    np.testing.assert_array_equal(views.mix(pi_old, pi_target, 0.0), pi_old)
    np.testing.assert_array_equal(views.mix(pi_old, pi_target, 1.0), pi_target)
    np.testing.assert_allclose(views.mix(pi_old, pi_target, 0.3), 0.7 * pi_old + 0.3 * pi_target)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]; got 1.5"):
        views.mix(pi_old, pi_target, 1.5)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_curve_both_sides_of_e3_agree_with_the_reference(gamma):
    curve = views.performance_difference_curve(gamma)
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
    assert views.performance_difference_curve(0.9) is views.performance_difference_curve(0.9)
    with pytest.raises(ValueError, match="read-only"):
        views.performance_difference_curve(0.9)["lhs"][0] = 1.0


def arrows_of(ax) -> Quiver:
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    return quiver


def cell_xy(s) -> tuple[int, int]:
    """Data coordinates (column, row) of cell s on a grid panel."""
    row, col = divmod(s, 4)
    return col, row


@pytest.mark.parametrize("gamma", GAMMAS)
def test_values_view_draws_v_q_and_a(gamma):
    fig = views.values_view(gamma)
    v_panel, q_panel, a_panel = (np.asarray(ax.images[0].get_array()).ravel() for ax in fig.axes)
    q, v = reference_q_v(gamma, views.frozen_lake(gamma)[1])
    np.testing.assert_allclose(v_panel, v, atol=1e-12)
    np.testing.assert_allclose(q_panel, q.max(1), atol=1e-12)
    np.testing.assert_allclose(a_panel, q_panel - v_panel, atol=1e-12)  # E2
    assert (a_panel >= -1e-15).all()
    assert [(~arrows_of(ax).Umask).sum() for ax in fig.axes] == [ICE] * 3  # one arrow per ice cell


@pytest.mark.parametrize("gamma", [0.8, 0.95, 0.99])
def test_values_view_arrows_point_where_the_best_action_moves(gamma):
    """On screen, each ice cell's arrow points from the cell to where a* leads without slipping."""
    fig = views.values_view(gamma)
    to_png(fig)  # lays the figure out as the page shows it
    best = views.frozen_lake(gamma)[2][:N_CELLS].argmax(1)
    lake = gym.make("FrozenLake-v1", is_slippery=False).unwrapped
    ice = np.flatnonzero(np.isin(lake.desc.ravel(), [b"S", b"F"]))
    for ax in fig.axes:
        arrows = arrows_of(ax)
        shown = np.flatnonzero(~arrows.Umask)  # arrow i belongs to cell i // 4 and action i % 4
        np.testing.assert_array_equal(shown, 4 * ice + best[ice])
        checked = set()
        for i in shown:
            s, a = divmod(i, 4)
            ((_, s_next, _, _),) = lake.P[s][a]
            if s_next == s:  # into the lake's edge: the move goes nowhere
                continue
            tail = np.array([arrows.X[i], arrows.Y[i]])
            arrow = ax.transData.transform([tail, tail + [arrows.U[i], arrows.V[i]]])
            move = ax.transData.transform([cell_xy(s), cell_xy(s_next)])
            np.testing.assert_array_equal(np.sign(np.diff(arrow, axis=0)), np.sign(np.diff(move, axis=0)))
            checked.add(a)
        assert {DOWN, UP} <= checked  # the directions a flipped row axis would get wrong


@pytest.mark.parametrize("gamma", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("alpha", ALPHAS[::2])
def test_performance_difference_view_shows_equal_sides(gamma, alpha):
    ax_grid, ax_curve = views.performance_difference_view(gamma, alpha).axes
    want = reference_gain(gamma, alpha)
    # The grid's cells are E4's summands: they add up to J(new) - J(old).
    assert np.asarray(ax_grid.images[0].get_array()).sum() == pytest.approx(want, rel=1e-10, abs=1e-13)
    lhs_line, rhs_points, old_nu_line, star = ax_curve.lines
    np.testing.assert_allclose(rhs_points.get_ydata(), lhs_line.get_ydata(), rtol=1e-10, atol=1e-13)
    assert star.get_xdata()[0] == alpha
    assert star.get_ydata()[0] == pytest.approx(want, rel=1e-10, abs=1e-13)
    low, high = ax_curve.get_ylim()
    assert low < min(lhs_line.get_ydata().min(), old_nu_line.get_ydata().min())
    assert high > lhs_line.get_ydata().max()
    # The colour scale starts at 0 (no term is negative) and ends at the largest term, but spans at least
    # 1e-12: at alpha = 0 the terms are rounding noise around 0, and every cell shows the same colour.
    cells = np.asarray(ax_grid.images[0].get_array())
    assert (cells >= -1e-15).all()
    vmin, vmax = ax_grid.images[0].get_clim()
    assert vmin == 0.0 and vmax == max(cells.max(), 1e-12)
    assert vmax <= max(want, 1e-12) * (1 + 1e-10)  # non-negative terms: none exceeds their sum
    if alpha == 0:
        colours = ax_grid.images[0].to_rgba(ax_grid.images[0].get_array())
        assert len(np.unique(colours.reshape(-1, 4), axis=0)) == 1


@pytest.mark.parametrize(
    ("view", "a", "b"),
    [
        (views.values_view, {"gamma": 0.8}, {"gamma": 0.99}),
        (views.values_view, {"gamma": 0.95}, {"gamma": 0.81}),
        (views.values_view, {"gamma": 0.9}, {"gamma": 0.91}),
        (views.performance_difference_view, {"gamma": 0.8, "alpha": 0.0}, {"gamma": 0.99, "alpha": 1.0}),
        (views.performance_difference_view, {"gamma": 0.95, "alpha": 0.5}, {"gamma": 0.95, "alpha": 0.55}),
        (views.performance_difference_view, {"gamma": 0.9, "alpha": 1.0}, {"gamma": 0.85, "alpha": 1.0}),
        (views.performance_difference_view, {"gamma": 0.99, "alpha": 0.25}, {"gamma": 0.8, "alpha": 0.75}),
    ],
)
def test_redraw_depends_only_on_the_arguments(view, a, b):
    assert_redraws_in_place(view, tuple(a.values()), tuple(b.values()))


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
    sums = views.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n_episodes=5, seed=3)
    j_old = reference_q_v(gamma, pi_old, is_slippery=False)[1][0]
    np.testing.assert_allclose(sums, gamma**5 - j_old, rtol=1e-12)  # the goal is reached at t = 5


def test_advantage_sums_estimate_e3_in_the_real_environment():
    gamma, alpha, n = 0.9, 0.5, 2000
    mdp, pi_old, pi_target = views.frozen_lake(gamma)
    pi_new = views.mix(pi_old, pi_target, alpha)
    env = gym.make("FrozenLake-v1", max_episode_steps=200)  # gamma^200 < 1e-9: the cut-off is invisible
    sums = views.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n, seed=0)
    se = sums.std(ddof=1) / np.sqrt(n)
    assert abs(sums.mean() - reference_gain(gamma, alpha)) < 3 * se
    again = views.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n, seed=0)
    np.testing.assert_array_equal(sums, again)  # one seed fixes the env and the actions
    other = views.advantage_sums(env, pi_new, tabular.advantages(mdp, pi_old), gamma, n, seed=1)
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
    mdp, pi_old, _ = views.frozen_lake(0.9)
    args = {"env": gym.make("FrozenLake-v1"), "pi_new": pi_old, "adv_old": tabular.advantages(mdp, pi_old),
            "gamma": 0.9, "n_episodes": 10, "seed": 0} | change
    with pytest.raises(ValueError, match=message):
        views.advantage_sums(**args)


def test_advantage_sums_rejects_a_policy_for_another_env():
    pi = np.full((10, 4), 0.25)  # fewer states than FrozenLake's 16 cells
    with pytest.raises(ValueError, match=r"pi_new must have shape \[S, A\] with S >= 16"):
        views.advantage_sums(gym.make("FrozenLake-v1"), pi, np.zeros((10, 4)), 0.9, 1, 0)
