"""Notebook 05's KL figures draw the numbers of examples.kl_geometry."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from trpo_lite.examples import kl_geometry as kg
from trpo_lite.figures.kl_geometry import ZERO, fisher_spectrum_figure, kl_line_figure


@pytest.fixture(scope="module")
def lines():
    small = kg.make_small_policy(seed=0)
    d = torch.randn(len(small.theta_old), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    line = kg.kl_along_line(small, d, np.linspace(-1, 1, 21))
    return line, kg.kl_along_line(small, d, np.geomspace(1e-3, 1, 7))


def by_label(ax, label):
    return next(line for line in ax.lines if line.get_label() == label)


def test_spectrum_is_drawn_largest_first_with_zeros_clipped():
    eigenvalues = np.array([1e-3, -1e-17, 0.5, 0.0, 2e-11])
    fig = fisher_spectrum_figure(eigenvalues)
    try:
        (ax,) = fig.axes
        points = ax.lines[0]
        assert np.array_equal(points.get_xdata(), np.arange(1, 6))
        assert np.array_equal(points.get_ydata(), [0.5, 1e-3, 2e-11, 1e-17, 1e-18])
        assert np.allclose(by_label(ax, "1e-10: below, zero up to rounding").get_ydata(), ZERO)
    finally:
        plt.close(fig)


def test_kl_line_figure_draws_both_directions_and_the_model(lines):
    line, near = lines
    fig = kl_line_figure(line, near)
    try:
        ax_line, ax_near = fig.axes
        assert np.array_equal(by_label(ax_line, "D_KL(π_old ‖ π_θ), TRPO's").get_ydata(), line["kl"])
        assert np.array_equal(by_label(ax_line, "D_KL(π_θ ‖ π_old), reverse").get_ydata(), line["reverse_kl"])
        assert np.array_equal(by_label(ax_line, "½ t² dᵀHd (E9)").get_ydata(), line["model"])
        gap = by_label(ax_near, "|TRPO's − reverse| / model")
        assert np.allclose(gap.get_ydata(), np.abs(near["kl"] - near["reverse_kl"]) / near["model"])
        assert np.allclose(by_label(ax_near, "|KL / model − 1|, TRPO's").get_ydata(),
                           np.abs(near["kl"] / near["model"] - 1))
        assert ax_near.get_xscale() == ax_near.get_yscale() == "log"
    finally:
        plt.close(fig)
