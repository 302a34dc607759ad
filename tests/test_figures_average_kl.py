"""Notebook-04 figure of the average KL's blind spot: it draws the numbers of examples.average_kl."""

import matplotlib.pyplot as plt
import numpy as np
from translated import marked_language, untranslated

from trpo_lite.examples.average_kl import rare_state_path
from trpo_lite.figures.average_kl import rare_state_figure


def test_rare_state_figure_draws_the_path_and_the_radius():
    path = rare_state_path()
    fig = rare_state_figure(max_kl=0.01)
    ax_J, ax_kl = fig.axes
    (J, L) = ax_J.get_lines()
    np.testing.assert_array_equal(J.get_xdata(), path["kappa"])
    np.testing.assert_allclose(J.get_ydata(), path["J"] / path["J_old"], rtol=1e-15)
    np.testing.assert_allclose(L.get_ydata(), path["L"] / path["J_old"], rtol=1e-15)
    max_kl, mean_kl, radius = ax_kl.get_lines()
    np.testing.assert_array_equal(max_kl.get_ydata(), path["max_kl"][1:])
    np.testing.assert_array_equal(mean_kl.get_ydata(), path["mean_kl"][1:])
    assert radius.get_ydata()[0] == 0.01
    plt.close(fig)


def test_every_text_goes_through_tr(monkeypatch):
    with marked_language(monkeypatch):
        fig = rare_state_figure()
        assert untranslated(fig) == []
        plt.close(fig)
