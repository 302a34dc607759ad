"""Notebook 04's figure for the blind spot of the average KL: a change in a rarely visited state.

The numbers come from ``trpo_lite.examples.average_kl.rare_state_path``; this module only draws them.

Shapes: K points along the path.
"""

import matplotlib.pyplot as plt

from trpo_lite.examples.average_kl import rare_state_path
from trpo_lite.figures.style import plain_ticks
from trpo_lite.language import tr


def rare_state_figure(max_kl: float = 0.01) -> plt.Figure:
    """Left: J and L (relative to J(old)) as the policy beside the goal moves toward stepping left;
    right: the mean KL (E8) and the max KL (E7) of the same policies, with the trust-region radius
    delta = max_kl. The shaded steps are those the trust region admits."""
    path = rare_state_path()
    kappa, J_old = path["kappa"], path["J_old"]
    admitted = kappa[path["mean_kl"] <= max_kl].max()
    fig, (ax_J, ax_kl) = plt.subplots(1, 2, figsize=(13, 4.6), layout="constrained")
    ax_J.plot(kappa, path["J"] / J_old, label=tr("J / J(π_old), the true return"))
    ax_J.plot(kappa, path["L"] / J_old, ls="--", label=tr("L / J(π_old), the surrogate (E5)"))
    ax_J.set(xlabel=tr("κ: how far the policy beside the goal moves toward stepping left"),
             ylabel=tr("return relative to π_old"), ylim=(0, 1.05),
             title=tr("ν_old beside the goal = {nu:.4f}", nu=path["nu_beside_goal"]))
    moved = kappa > 0  # the KLs are 0 at kappa = 0, off a log axis
    ax_kl.semilogy(kappa[moved], path["max_kl"][moved], color="C3", label=tr("max KL, E7's distance"))
    ax_kl.semilogy(kappa[moved], path["mean_kl"][moved], color="C2", label=tr("mean KL under ν_old, E8's"))
    ax_kl.axhline(max_kl, color="black", lw=1.2, ls=":", label=tr("δ = {delta:g}", delta=max_kl))
    ax_kl.set(xlabel=tr("κ"), ylabel=tr("KL(π_old || π_κ)"),
              title=tr("max KL / mean KL = 1 / ν_old(beside the goal) = {ratio:.0f}",
                       ratio=1 / path["nu_beside_goal"]))
    exponents = range(-6, 2, 2)
    plain_ticks(ax_kl.yaxis, [10.0**e for e in exponents], [f"1e{e}" for e in exponents])
    ax_J.axvspan(0, admitted, color="C2", alpha=0.1)
    ax_kl.axvspan(0, admitted, color="C2", alpha=0.1, label=tr("admitted: mean KL ≤ δ"))
    ax_J.legend(loc="lower left", fontsize=10)
    ax_kl.legend(loc="lower right", fontsize=10)
    ax_kl.set_ylim(1e-7, 10)
    return fig
