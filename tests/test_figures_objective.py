"""Notebook 00's FrozenLake figure: it draws the numbers ``examples.objective`` gives, in one figure
redrawn in place."""

import numpy as np
import pytest
from redraw import assert_redraws_in_place

from trpo_lite.examples import objective as ex
from trpo_lite.figures import objective as fig_objective

EPISODE_SLIDER = [2, 10, 100, 500, 2000]  # a sample of the notebook's episode slider (10 .. 2000)


@pytest.mark.parametrize("policy", ["uniform", "greedy"])
@pytest.mark.parametrize("gamma", ex.GAMMAS[::3])
@pytest.mark.parametrize("n_episodes", EPISODE_SLIDER)
def test_objective_view_plots_the_estimate_and_the_exact_value(policy, gamma, n_episodes):
    table = ex.lake_objective_table()
    k = int(np.flatnonzero(ex.GAMMAS == gamma)[0])
    returns = table[policy]["returns"][k, :n_episodes]
    fig = fig_objective.objective_view(policy, gamma, n_episodes)
    ax_run, ax_gamma = fig.axes
    exact_line, running = ax_run.lines
    assert exact_line.get_ydata()[0] == pytest.approx(table[policy]["exact"][k], rel=1e-12)
    np.testing.assert_allclose(running.get_ydata(), np.cumsum(returns) / np.arange(1, n_episodes + 1))
    curve, star = ax_gamma.lines[0], ax_gamma.lines[-1]
    np.testing.assert_allclose(curve.get_ydata(), table[policy]["exact"])
    assert star.get_xdata()[0] == gamma
    points = ax_gamma.lines[1]  # the Monte Carlo means, one per gamma
    np.testing.assert_allclose(points.get_ydata(), table[policy]["returns"][:, :n_episodes].mean(1))
    assert f"{returns.mean():.4f}" in fig._suptitle.get_text()


@pytest.mark.parametrize(("a", "b"), [
    (("greedy", 0.95, 500), ("uniform", 0.95, 500)),
    (("greedy", 0.8, 10), ("greedy", 0.99, 10)),
    (("uniform", 0.99, 2000), ("greedy", 0.8, 2)),
    (("greedy", 0.9, 100), ("greedy", 0.9, 1000)),
])
def test_objective_view_redraw_depends_only_on_its_arguments(a, b):
    assert_redraws_in_place(fig_objective.objective_view, a, b)


def test_objective_view_rejects_values_off_the_sliders():
    # The checks are examples.objective.objective_numbers' (tested there for every argument).
    with pytest.raises(ValueError, match=r"gamma must be one of the precomputed values .*; got 0.955"):
        fig_objective.objective_view(gamma=0.955)
