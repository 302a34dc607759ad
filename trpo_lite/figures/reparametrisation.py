"""Notebook 05's figure: the toy policy's plain and natural steps taken in four coordinate systems, drawn in
theta's (the numbers of ``examples.reparametrisation.toy_picture``)."""

import matplotlib.pyplot as plt
import numpy as np

from trpo_lite.figures.style import padded_limits
from trpo_lite.language import tr

MARKERS = ("o", "s", "D", "^")


def reparametrisation_figure(picture: dict) -> plt.Figure:
    """The E9 ellipse 1/2 d^T H d = delta in theta's coordinates, and for each reparametrisation its plain
    step (open marker, dotted line from theta_old) and its natural step (filled marker), with their true KL
    from pi_old in the legend."""
    fig, ax = plt.subplots(figsize=(12, 5.2))
    fig.subplots_adjust(left=0.07, right=0.52, bottom=0.13, top=0.9)
    ax.plot(*picture["ellipse"].T, color="black", label=tr("½ dᵀHd = δ  (E9)"))
    points = [picture["ellipse"]]
    for i, (name, row) in enumerate(picture["steps"].items()):
        color, marker = f"C{i}", MARKERS[i % len(MARKERS)]
        plain, natural = row["plain"], row["natural"]
        ax.plot([0, plain[0]], [0, plain[1]], color=color, lw=1, ls=":")
        ax.plot(*plain, marker=marker, ms=12, mfc="white", mec=color, mew=2.5, ls="",
                label=tr("{name}: plain, KL {kl:.3f}", name=tr(name), kl=row["plain_kl"]))
        ax.plot(*natural, marker=marker, ms=14 - 2 * i, color=color, mec="black", ls="",
                label=tr("{name}: natural, KL {kl:.3f}", name=tr(name), kl=row["natural_kl"]))
        points += [plain[None], natural[None]]
    points = np.concatenate(points + [np.zeros((1, 2))])
    ax.plot(0, 0, "+", color="black", ms=14, mew=2)
    ax.set(xlim=padded_limits(points[:, 0]), ylim=padded_limits(points[:, 1]), aspect="equal",
           xlabel=tr("d₁ = θ′₁ − θ₁"), ylabel=tr("d₂ = θ′₂ − θ₂"),
           title=tr("δ = {max_kl:g}, the same η in every coordinate system", max_kl=picture["max_kl"]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=10)
    return fig
