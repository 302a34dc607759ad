"""Grid views drawn in place, figures that slider views redraw, and the redraw timer."""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest

from trpo_lite.plots import (
    ARROWS,
    GridHeatmap,
    PolicyArrows,
    grid_heatmap,
    padded_limits,
    policy_arrows,
    static_figure,
)
from trpo_lite.widgets import redraw_ms, show, to_png

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


def test_static_figure_is_outside_pyplot_and_survives_show():
    fig = static_figure((3, 2))
    fig.subplots().plot([0, 1], [1, 0])
    assert all(plt.figure(n) is not fig for n in plt.get_fignums())
    first = to_png(fig)  # closes it, as show does
    assert first.startswith(b"\x89PNG") and to_png(fig) == first


def test_redraw_ms_times_the_call_and_the_png(monkeypatch):
    shown = []
    monkeypatch.setattr("trpo_lite.widgets.display", shown.append)
    fig = static_figure((3, 2))
    (line,) = fig.subplots().plot([], [])

    def view(x):
        line.set_data([0, 1], [0, x])
        return fig

    times = redraw_ms(view, [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}])
    assert times.shape == (3, 2)
    assert np.all(times[:, 0] > 0) and np.all(times[:, 1] > times[:, 0])
    assert redraw_ms(view, []).shape == (0, 2)
    show(view(1.0))
    assert shown[0].data == to_png(view(1.0))


def test_heatmap_takes_another_map_of_the_same_shape_only():
    fig = static_figure((4, 4))
    heat = GridHeatmap(fig.subplots(), DESC)
    other = np.full((4, 4), b"F")
    heat.update(np.zeros(16), desc=other)
    assert {t.get_text() for t in heat.letters} == {"F"}
    with pytest.raises(ValueError, match=r"desc must have the grid's shape \(4, 4\); got \(8, 8\)"):
        heat.update(np.zeros(64), desc=np.full((8, 8), b"F"))


def test_padded_limits_match_matplotlib_autoscaling():
    fig = static_figure((3, 2))
    ax = fig.subplots()
    values = np.array([0.3, -1.2, 4.0, 2.5])
    ax.plot(np.arange(4), values)
    assert ax.get_ylim() == pytest.approx(padded_limits(values), rel=1e-12)  # default margins: 5%
    assert padded_limits(values, 0.1) == pytest.approx((-1.72, 4.52), rel=1e-12)
    assert padded_limits([2.0, 2.0]) == pytest.approx((1.95, 2.05))  # constant values: a range of 1
