"""Notebook 10's figures draw what the examples computed: the slider's figure is built once and redrawn for
every clip range, the comparison has one row per env."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from trpo_lite.examples import ppo as ex
from trpo_lite.examples import ppo_runs as pr
from trpo_lite.figures import ppo as fig


@pytest.mark.parametrize("eps", ex.CLIP_RANGES)
def test_clip_view_redraws_one_figure(eps):
    first = fig.clip_view(0.2)
    view = fig.clip_view(eps)
    assert view is first and isinstance(view, Figure)
    value, slope = view.axes
    c = ex.clip_curves(eps)
    drawn = {tuple(np.round(line.get_ydata()[:3], 12)) for line in value.lines
             if len(line.get_xdata()) == 201}
    assert tuple(np.round(c["plus"][:3], 12)) in drawn and tuple(np.round(c["minus"][:3], 12)) in drawn
    for band in fig._clip_figure("en")["bands"]:
        assert band.get_x() == pytest.approx(1 - eps) and band.get_width() == pytest.approx(2 * eps)
    assert f"{eps:.2f}" in view._suptitle.get_text()
    view.canvas.draw()


def test_comparison_figure_has_a_row_per_env():
    figure = fig.comparison_figure(pr.load_comparison())
    assert len(figure.axes) == 2 * len(pr.BUDGETS)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == [t.format(env) for env in pr.BUDGETS for t in ("{}: return", "{}: KL per update")]
    figure.canvas.draw()


def test_epochs_figure_draws_the_numbers():
    numbers = {"epochs": np.array([1, 2, 5]), "kl": np.array([0.001, 0.004, 0.02]), "trpo_kl": 0.009,
               "max_kl": 0.01, "outside": np.array([0.0, 0.05, 0.2]), "clip_range": 0.2}
    figure = fig.epochs_figure(numbers)
    left, right = figure.axes
    np.testing.assert_array_equal(left.lines[0].get_ydata(), numbers["kl"])
    np.testing.assert_array_equal(right.lines[0].get_ydata(), 100 * numbers["outside"])
    figure.canvas.draw()
