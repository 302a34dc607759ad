"""Grid views (FrozenLake heat maps and policy arrows) drawn once and updated in place."""

import gymnasium as gym
import numpy as np
import pytest

from trpo_lite.figures.grid import ARROWS, GridHeatmap, PolicyArrows, grid_heatmap, policy_arrows
from trpo_lite.figures.style import static_figure

DESC = gym.make("FrozenLake-v1").unwrapped.desc


def pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_arrows_follow_frozen_lake_moves():
    """ARROWS[a] is the (column, row) step FrozenLake itself takes for action a, without slipping."""
    lake = gym.make("FrozenLake-v1", is_slippery=False).unwrapped
    cols = DESC.shape[1]
    s = 9  # row 2, column 1: ice with ice or a hole on all four sides
    for a, (dc, dr) in ARROWS.items():
        ((_, s_next, _, _),) = lake.P[s][a]
        assert divmod(s_next, cols) == (2 + dr, 1 + dc), f"action {a}"


def test_policy_arrows_point_the_right_way_on_screen():
    fig = static_figure((4, 4))
    ax = fig.subplots()
    grid_heatmap(ax, np.zeros(16), DESC)
    arrows = PolicyArrows(ax, DESC)
    for a, (dc, dr) in ARROWS.items():
        pi = np.zeros((17, 4))  # an absorbing state's row is ignored
        pi[:, a] = 1.0
        arrows.update(pi)
        u, v = arrows.quiver.U[a], arrows.quiver.V[a]  # cell 0's arrow for action a
        start, end = ax.transData.transform([(0.0, 0.0), (u, v)])
        # display y grows upwards, grid rows downwards
        assert np.sign(end - start) == pytest.approx([dc, -dr]), f"action {a}"


def test_short_arrows_are_hidden():
    fig = static_figure((4, 4))
    ax = fig.subplots()
    arrows = PolicyArrows(ax, DESC)
    pi = np.tile([0.97, 0.01, 0.01, 0.01], (16, 1))
    arrows.update(pi)
    shown = ~arrows.quiver.Umask
    np.testing.assert_array_equal(shown, np.tile([True, False, False, False], 16))
    np.testing.assert_allclose(arrows.quiver.U[shown], -PolicyArrows.LENGTH * 0.97)


def test_heatmap_numbers_colours_and_limits():
    fig = static_figure((4, 4))
    heat = GridHeatmap(fig.subplots(), DESC, fmt="{:.1f}")
    image = heat.update(np.arange(17.0))  # the 17th (absorbing) entry is ignored
    np.testing.assert_array_equal(image.get_array(), np.arange(16.0).reshape(4, 4))
    assert image.get_clim() == (0.0, 15.0)
    assert [t.get_text() for t in heat.numbers[:3]] == ["0.0", "1.0", "2.0"]
    assert [t.get_text() for t in heat.letters[:2]] == ["S", "F"]
    # viridis: dark purple at the bottom of the scale, yellow at the top
    assert heat.numbers[0].get_color() == "white" and heat.numbers[15].get_color() == "black"
    heat.update(np.arange(16.0), vmin=-15.0, vmax=15.0)
    assert image.get_clim() == (-15.0, 15.0)


def test_updated_grid_draws_exactly_like_a_fresh_one():
    rng = np.random.default_rng(0)
    values, pi = rng.random(16), rng.dirichlet(np.ones(4), size=16)

    def fresh():
        fig = static_figure((4, 4))
        ax = fig.subplots()
        grid_heatmap(ax, values, DESC, cmap="coolwarm", fmt="{:+.3f}")
        policy_arrows(ax, pi, DESC, color="orangered")
        return fig

    fig = static_figure((4, 4))
    ax = fig.subplots()
    heat, arrows = GridHeatmap(ax, DESC, cmap="coolwarm", fmt="{:+.3f}"), PolicyArrows(ax, DESC, "orangered")
    for _ in range(2):  # drawn once with other numbers, then updated
        heat.update(-values)
        arrows.update(pi[::-1])
        pixels(fig)
    heat.update(values)
    arrows.update(pi)
    np.testing.assert_array_equal(pixels(fig), pixels(fresh()))


def test_heatmap_takes_another_map_of_the_same_shape_only():
    fig = static_figure((4, 4))
    heat = GridHeatmap(fig.subplots(), DESC)
    other = np.full((4, 4), b"F")
    heat.update(np.zeros(16), desc=other)
    assert {t.get_text() for t in heat.letters} == {"F"}
    with pytest.raises(ValueError, match=r"desc must have the grid's shape \(4, 4\); got \(8, 8\)"):
        heat.update(np.zeros(64), desc=np.full((8, 8), b"F"))
