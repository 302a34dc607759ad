"""Notebook 02's figures: the discounted state visitation nu (E4) and the surrogate L against J (E5),
with numbers from ``trpo_lite.examples.visitation``.

Grid views show FrozenLake's 16 cells and drop the absorbing state; the titles report its
mass. Each slider view builds its figure once and returns that same Figure, updated, on
every call: a slider move only indexes precomputed arrays and redraws.

Shapes: S states (17 here).
"""

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples import visitation as ex
from trpo_lite.figures.grid import GridHeatmap, grid_heatmap
from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure

GRID = (4, 4)  # the cells of FrozenLake-v1 4x4 that the slider views draw (rows, cols)


@cache
def _visitation_figure() -> dict:
    """The figure of ``visitation_view`` and the artists it moves: the grid, and per share of nu
    (``examples.visitation.SHARES``) its curve against gamma and the dot at the chosen gamma."""
    fig = static_figure((12, 4.6))
    ax_grid, ax_gamma = fig.subplots(1, 2, width_ratios=[1, 1.25])
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.14, top=0.86, wspace=0.1)
    # A fixed title height: otherwise every draw measures the tick labels to see if the title must move up.
    for ax in (ax_grid, ax_gamma):
        ax.set_title("", y=1.0)
    art = {"fig": fig, "grid": ax_grid, "gamma": ax_gamma, "curves": [], "dots": [],
           "heat": GridHeatmap(ax_grid, np.full(GRID, ""), fmt="{:.3f}")}
    for i, label in enumerate(ex.SHARES):
        art["curves"].append(ax_gamma.plot([], [], color=f"C{i}", label=label)[0])
        art["dots"].append(ax_gamma.plot([], [], "o", color=f"C{i}", markersize=9)[0])
    art["now"] = ax_gamma.axvline(0.0, color="grey", lw=1, ls=":")
    ax_gamma.set(xlabel="γ", ylabel="share of ν", ylim=(0, 1), title="where the mass of ν sits")
    # Few, fixed ticks with plain-text labels: tick labels are most of a redraw's cost (100 ms budget).
    plain_ticks(ax_gamma.xaxis, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    plain_ticks(ax_gamma.yaxis, [0, 0.25, 0.5, 0.75, 1])
    ax_gamma.legend(loc="center left")
    return art


def visitation_view(data: ex.VisitationData, gamma: float) -> Figure:
    """nu of the uniform policy (E4) on the grid, and how its mass moves as gamma grows
    (``examples.visitation.visitation_at``).

    Returns the same Figure on every call, redrawn for data and gamma.
    """
    numbers, art = ex.visitation_at(data, gamma), _visitation_figure()
    nu, now = numbers["nu"], numbers["gamma"]
    art["grid"].title.set_text(
        f"ν of the uniform policy, γ = {now:.2f}\nepisode over (absorbing state): {nu[-1]:.3f}")
    art["heat"].update(nu, desc=data.desc)
    shares = zip(numbers["shares"], numbers["shares_now"], strict=True)
    for curve, dot, (share, share_now) in zip(art["curves"], art["dots"], shares, strict=True):
        curve.set_data(data.gammas, share)
        dot.set_data([now], [share_now])
    art["now"].set_xdata([now] * 2)
    art["gamma"].set_xlim(padded_limits(data.gammas))
    return art["fig"]


@cache
def _surrogate_figure() -> dict:
    """The figure of ``surrogate_view`` and the artists it moves: J and L along alpha, J(pi_old), the gap
    and the markers at alpha (the gap's legend entry prints it), and the grid of the gap's sources."""
    fig = static_figure((13, 4.8))
    ax, ax_grid = fig.subplots(1, 2, width_ratios=[1.45, 1])
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.14, top=0.86, wspace=0.08)
    # A fixed title height: otherwise every draw measures the tick labels to see if the title must move up.
    for axes in (ax, ax_grid):
        axes.set_title("", y=1.0)
    art = {"fig": fig, "curves": ax, "grid": ax_grid}
    (art["J"],) = ax.plot([], [], color="C0", label="J, the true return (E1)")
    (art["L"],) = ax.plot([], [], color="C1", ls="--", label="L, the surrogate (E5)")
    art["J_old"] = ax.axhline(0.0, color="grey", lw=1, ls=":", label="J(π_old)")
    (art["gap"],) = ax.plot([], [], color="C3", lw=4, label="gap J − L")
    (art["J_at"],) = ax.plot([], [], "o", color="C0", markersize=10)
    (art["L_at"],) = ax.plot([], [], "s", color="C1", markersize=10)
    ax.set(xlabel="α, in π_α = (1 − α) π_old + α π_new", ylabel="discounted return")
    plain_ticks(ax.xaxis, [0, 0.25, 0.5, 0.75, 1])
    plain_ticks(ax.yaxis, most=5)
    # Small returns as multiples of 1e-3 (say): labels like 0.0004 pushed the axis label off the figure.
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    art["gap_label"] = ax.legend(loc="upper left", fontsize=11).get_texts()[-1]
    art["heat"] = GridHeatmap(ax_grid, np.full(GRID, ""), cmap="coolwarm", fmt="{:+.4f}")
    return art


def surrogate_view(data: ex.VisitationData, path: str, gamma: float, alpha: float) -> Figure:
    """J and L along pi_alpha (E5) with the gap at alpha, and the states that the gap comes from
    (``examples.visitation.surrogate_at``).

    Returns the same Figure on every call, redrawn for data, path, gamma and alpha.
    """
    numbers, art = ex.surrogate_at(data, path, gamma, alpha), _surrogate_figure()
    J, L, k, alphas = numbers["J"], numbers["L"], numbers["k"], data.alphas
    art["J"].set_data(alphas, J)
    art["L"].set_data(alphas, L)
    art["J_old"].set_ydata([J[0]] * 2)
    art["gap"].set_data([alphas[k]] * 2, [J[k], L[k]])
    art["J_at"].set_data([alphas[k]], [J[k]])
    art["L_at"].set_data([alphas[k]], [L[k]])
    art["gap_label"].set_text(f"gap J − L = {J[k] - L[k]:+.4f}")
    art["curves"].title.set_text(f"π_new: {path}; γ = {numbers['gamma']:.2f}")
    art["curves"].set_xlim(padded_limits(alphas))
    art["curves"].set_ylim(padded_limits(np.concatenate([J, L])))
    share = numbers["gap_by_state"]  # the absorbing state adds nothing: A^old = 0 there
    art["grid"].title.set_text(
        f"where J − L comes from at α = {alphas[k]:.2f}\n(the cells add up to {share.sum():+.4f})")
    limit = max(np.abs(share[:-1]).max(), 1e-6)  # symmetric colours: the grey middle means no share
    art["heat"].update(share, -limit, limit, desc=data.desc)
    return art["fig"]


def comparison_view(desc, nu, nu_hat, stderr) -> plt.Figure:
    """Exact nu [S] beside its Monte Carlo estimate nu_hat [S], with the largest gap in standard errors."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 5))
    z = np.abs(nu_hat - nu) / np.maximum(stderr, 1e-12)
    for ax, values, name in zip(axes, (nu, nu_hat), ("exact (linear solve)", "Monte Carlo"), strict=True):
        grid_heatmap(ax, values, desc, title=f"ν, {name}\nepisode over: {values[-1]:.3f}", fmt="{:.3f}")
    fig.suptitle(f"largest gap: {z.max():.1f} standard errors")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.8, wspace=0.08)
    return fig
