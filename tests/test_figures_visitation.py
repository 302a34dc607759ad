"""Notebook 02's figures over their slider ranges: the drawn grids, curves and markers carry the numbers
of ``examples.visitation`` (checked there against independent solves), and each slider view redraws one
figure."""

import functools

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest
from lake_reference import path_policies
from redraw import assert_redraws_in_place

from trpo_lite import tabular
from trpo_lite.examples import visitation as ex
from trpo_lite.examples.frozen_lake import lake_mdp
from trpo_lite.figures import visitation as draw


@pytest.fixture(scope="module")
def data():
    return ex.precompute()


def test_visitation_view_draws_the_exact_visitation_for_every_gamma(data):
    for g, gamma in enumerate(data.gammas):
        fig = draw.visitation_view(data, float(gamma))
        grid, lines = fig.axes
        np.testing.assert_allclose(grid.images[0].get_array(), data.nu_old[g][:16].reshape(4, 4))
        assert f"{data.nu_old[g][-1]:.3f}" in grid.get_title()  # the absorbing state's mass
        markers = [line.get_ydata()[0] for line in lines.lines if len(line.get_ydata()) == 1]
        assert sum(markers) == pytest.approx(1.0)  # start cell + rest of grid + absorbing
        plt.close(fig)


def test_surrogate_view_marks_j_and_l_at_alpha(data):
    cases = [(g % 2, float(gamma), float(data.alphas[(7 * g) % len(data.alphas)])) for g, gamma in
             enumerate(data.gammas)]
    cases += [(k % 2, 0.9, float(alpha)) for k, alpha in enumerate(data.alphas)]
    for p, gamma, alpha in cases:
        mdp = lake_mdp(gamma)
        old, new = path_policies(mdp, p)
        pi = tabular.mixture(old, new, alpha)
        J, L = tabular.objective(mdp, pi), tabular.surrogate(mdp, old, pi)
        fig = draw.surrogate_view(data, ex.PATHS[p], gamma, alpha)
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


GREEDY, FLAWED = ex.PATHS
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
    assert_redraws_in_place(functools.partial(getattr(draw, name), data), a, b)


def test_views_reject_values_off_the_sliders(data):
    with pytest.raises(ValueError, match=r"gamma must be one of the precomputed values .*; got 0\.505"):
        draw.visitation_view(data, 0.505)
    with pytest.raises(ValueError, match=r"alpha must be one of the precomputed values .*; got 1\.5"):
        draw.surrogate_view(data, ex.PATHS[0], 0.9, 1.5)
    with pytest.raises(ValueError, match="path must be one of"):
        draw.surrogate_view(data, "best", 0.9, 0.5)


def test_comparison_view_reports_the_largest_gap_in_standard_errors():
    desc = gym.make("FrozenLake-v1").unwrapped.desc
    nu = np.full(17, 1 / 17)
    nu_hat, stderr = nu + 0.01 * np.eye(17)[3], np.full(17, 0.004)
    fig = draw.comparison_view(desc, nu, nu_hat, stderr)
    assert "largest gap: 2.5 standard errors" in fig.get_suptitle()
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), nu_hat[:16].reshape(4, 4))
    plt.close(fig)
