"""Notebook 01's figures over their slider ranges: the drawn cells, arrows and curves carry the numbers of
the reference built straight from gymnasium's table (``lake_reference``), and each view redraws one figure."""

import gymnasium as gym
import numpy as np
import pytest
from lake_reference import N_CELLS, reference_gain, reference_q_v
from matplotlib.quiver import Quiver
from redraw import assert_redraws_in_place

from trpo_lite.examples import advantage as ex
from trpo_lite.figures import advantage as draw
from trpo_lite.widgets import to_png

GAMMAS = np.round(np.arange(0.80, 0.99 + 1e-9, 0.01), 2)  # the notebook's gamma slider
ALPHAS = np.round(np.arange(0.0, 1.0 + 1e-9, 0.05), 2)  # the notebook's alpha slider
ICE = 11  # S and the ten F cells of the 4x4 map: the cells that get arrows
LEFT, DOWN, RIGHT, UP = range(4)


def arrows_of(ax) -> Quiver:
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    return quiver


def cell_xy(s) -> tuple[int, int]:
    """Data coordinates (column, row) of cell s on a grid panel."""
    row, col = divmod(s, 4)
    return col, row


@pytest.mark.parametrize("gamma", GAMMAS)
def test_values_view_draws_v_q_and_a(gamma):
    fig = draw.values_view(gamma)
    v_panel, q_panel, a_panel = (np.asarray(ax.images[0].get_array()).ravel() for ax in fig.axes)
    q, v = reference_q_v(gamma, ex.running_example(gamma)[1])
    np.testing.assert_allclose(v_panel, v, atol=1e-12)
    np.testing.assert_allclose(q_panel, q.max(1), atol=1e-12)
    np.testing.assert_allclose(a_panel, q_panel - v_panel, atol=1e-12)  # E2
    assert (a_panel >= -1e-15).all()
    assert [(~arrows_of(ax).Umask).sum() for ax in fig.axes] == [ICE] * 3  # one arrow per ice cell


@pytest.mark.parametrize("gamma", [0.8, 0.95, 0.99])
def test_values_view_arrows_point_where_the_best_action_moves(gamma):
    """On screen, each ice cell's arrow points from the cell to where a* leads without slipping."""
    fig = draw.values_view(gamma)
    to_png(fig)  # lays the figure out as the page shows it
    best = ex.running_example(gamma)[2][:N_CELLS].argmax(1)
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
    ax_grid, ax_curve = draw.performance_difference_view(gamma, alpha).axes
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
        (draw.values_view, {"gamma": 0.8}, {"gamma": 0.99}),
        (draw.values_view, {"gamma": 0.95}, {"gamma": 0.81}),
        (draw.values_view, {"gamma": 0.9}, {"gamma": 0.91}),
        (draw.performance_difference_view, {"gamma": 0.8, "alpha": 0.0}, {"gamma": 0.99, "alpha": 1.0}),
        (draw.performance_difference_view, {"gamma": 0.95, "alpha": 0.5}, {"gamma": 0.95, "alpha": 0.55}),
        (draw.performance_difference_view, {"gamma": 0.9, "alpha": 1.0}, {"gamma": 0.85, "alpha": 1.0}),
        (draw.performance_difference_view, {"gamma": 0.99, "alpha": 0.25}, {"gamma": 0.8, "alpha": 0.75}),
    ],
)
def test_redraw_depends_only_on_the_arguments(view, a, b):
    assert_redraws_in_place(view, tuple(a.values()), tuple(b.values()))
