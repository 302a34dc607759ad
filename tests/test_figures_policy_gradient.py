"""Notebook 02's policy-gradient figure draws the numbers it is given, one point per visited parameter."""

import matplotlib.pyplot as plt
import numpy as np
from translated import marked_language, untranslated

from trpo_lite.figures import policy_gradient as draw


def numbers():
    rng = np.random.default_rng(0)
    exact = rng.normal(size=(17, 4)) * 1e-3
    stderr = np.full((17, 4), 2e-4)
    stderr[16] = 0.0  # the absorbing state: no episode moves its parameters
    return exact, exact + rng.normal(size=(17, 4)) * 2e-4, stderr


def test_gradient_view_plots_each_visited_entry_at_exact_and_estimate():
    exact, estimate, stderr = numbers()
    fig = draw.gradient_view(exact, estimate, stderr, 500)
    try:
        (ax,) = fig.axes
        diagonal, points = ax.lines[0], ax.lines[1]
        np.testing.assert_array_equal(points.get_xdata(), exact[:16].ravel())
        np.testing.assert_array_equal(points.get_ydata(), estimate[:16].ravel())
        np.testing.assert_array_equal(diagonal.get_xdata(), diagonal.get_ydata())
        assert "500" in ax.get_ylabel()
    finally:
        plt.close(fig)


def test_every_text_a_reader_sees_goes_through_tr(monkeypatch):
    with marked_language(monkeypatch):
        fig = draw.gradient_view(*numbers(), 500)
        assert untranslated(fig) == []
    plt.close(fig)
