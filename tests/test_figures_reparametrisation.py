"""Notebook 05's reparametrisation figure draws the steps of examples.reparametrisation.toy_picture."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from trpo_lite.examples import natural_gradient as ng
from trpo_lite.examples.reparametrisation import toy_picture
from trpo_lite.figures.reparametrisation import reparametrisation_figure


@pytest.fixture(scope="module")
def picture():
    return toy_picture(ng.make_toy_policy(grid_size=21), 0.05, n=60)


def test_every_step_is_drawn_where_computed_with_its_kl(picture):
    fig = reparametrisation_figure(picture)
    try:
        (ax,) = fig.axes
        labels = {line.get_label(): line for line in ax.lines}
        assert np.array_equal(labels["½ dᵀHd = δ  (E9)"].get_xydata(), picture["ellipse"])
        for name, row in picture["steps"].items():
            plain = labels[f"{name}: plain, KL {row['plain_kl']:.3f}"]
            natural = labels[f"{name}: natural, KL {row['natural_kl']:.3f}"]
            assert np.allclose(plain.get_xydata(), [row["plain"]])
            assert np.allclose(natural.get_xydata(), [row["natural"]])
            assert plain.get_markerfacecolor() == "white" and natural.get_markerfacecolor() != "white"
        # every point inside the axes
        xlim, ylim = ax.get_xlim(), ax.get_ylim()
        for row in picture["steps"].values():
            for point in (row["plain"], row["natural"]):
                assert xlim[0] < point[0] < xlim[1] and ylim[0] < point[1] < ylim[1]
        assert "0.05" in ax.get_title()
    finally:
        plt.close(fig)
