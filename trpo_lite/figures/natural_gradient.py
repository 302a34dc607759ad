"""Notebook 05's figure: the trust region of the two-parameter toy policy, true and quadratic (E8, E9).

``trust_region_view`` is a slider view: it builds its figure once and afterwards
moves its artists to the numbers of ``examples.natural_gradient.trust_region_picture``.
The exact surrogate behind them is drawn once per toy policy.
"""

from functools import cache

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from trpo_lite.examples.natural_gradient import ToyPolicy, trust_region_picture
from trpo_lite.figures.style import plain_ticks, static_figure
from trpo_lite.language import tr

# The steps drawn (keys of trust_region_picture) and their names in the legend.
STEPS = {"natural": "natural", "plain": "plain (ball)", "plain_cut": "plain (ellipse)", "best": "E8 optimum"}


@cache
def _trust_region_figure() -> dict:
    """The figure of ``trust_region_view`` and the artists a call moves (their data set by the call)."""
    fig = static_figure((9, 5.6))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.09, right=0.6, bottom=0.12, top=0.92)
    art = {"fig": fig, "ax": ax, "title": ax.set_title(""), "toy": None, "background": None,
           "kl_contour": None}
    (art["ellipse"],) = ax.plot([], [], color="black")
    (art["kl_key"],) = ax.plot([], [], color="black", linestyle=":", lw=2.5)  # a legend key for the contour
    (art["damped_ellipse"],) = ax.plot([], [], color="tab:red", lw=1.5, ls="--")
    (art["ball"],) = ax.plot([], [], color="tab:blue", ls="--")
    for name, color in (("natural", "tab:red"), ("plain", "tab:blue")):
        art[name] = ax.annotate("", xy=(0, 0), xytext=(0, 0), arrowprops={
            "arrowstyle": "-|>", "color": color, "lw": 3, "mutation_scale": 22})
        (art[f"{name}_key"],) = ax.plot([], [], color=color, lw=3)
    (art["plain_cut"],) = ax.plot([], [], marker="o", ms=11, mfc="white", mec="tab:blue", mew=2.5, ls="")
    (art["best"],) = ax.plot([], [], marker="*", color="gold", mec="black", ms=18, ls="")
    for axis in (ax.xaxis, ax.yaxis):  # few tick labels: every text costs milliseconds to draw
        plain_ticks(axis, [-2, 0, 2], ["−2", "0", "2"])
    ax.set(aspect="equal", xlabel=tr("d₁ = θ′₁ − θ₁"), ylabel=tr("d₂ = θ′₂ − θ₂"))
    ax.grid(False)
    ax.set_anchor("W")  # the square plot on the left, the legend beside it
    return art


def _draw_surrogate(art: dict, toy: ToyPolicy) -> None:
    """The exact surrogate gain [G, G] as filled bands, once per toy policy: no slider changes it."""
    ax = art["ax"]
    if art["background"] is not None:
        art["background"].remove()
    low, high = toy.surrogate_grid.min(), toy.surrogate_grid.max()
    # 0 is a band edge, so red bands are exactly where the surrogate improves on theta_old.
    levels = np.concatenate([np.linspace(low, 0, 8), np.linspace(0, high, 6)[1:]])
    art["background"] = ax.contourf(toy.axis, toy.axis, toy.surrogate_grid, levels=levels, cmap="RdBu_r",
                                    norm=TwoSlopeNorm(0.0, low, high), alpha=0.7)
    ax.set(xlim=toy.axis[[0, -1]], ylim=toy.axis[[0, -1]])
    art["toy"] = toy


def trust_region_view(toy: ToyPolicy, max_kl: float = 0.05, damping: float = 0.0) -> Figure:
    """The KL ellipse of E9, the exact KL contour and the equal-area Euclidean ball, over the exact
    surrogate, with the natural step, the plain steps and the exact E8 optimum (see
    ``examples.natural_gradient.trust_region_steps``).

    Drawn without a colorbar or tight layout: a slider redraw must stay under 100 ms. Returns the same
    Figure on every call, redrawn for these values.
    """
    s = trust_region_picture(toy, max_kl, damping)  # checks the arguments before anything is drawn
    art = _trust_region_figure()
    ax = art["ax"]
    if art["toy"] is not toy:
        _draw_surrogate(art, toy)
    if art["kl_contour"] is not None:
        art["kl_contour"].remove()  # a contour's lines cannot be moved, only drawn again
    # zorder 1.5: above the surrogate's bands, below the lines drawn over them
    art["kl_contour"] = ax.contour(toy.axis, toy.axis, toy.kl_grid, levels=[max_kl], colors="black",
                                   linestyles=":", linewidths=2.5, zorder=1.5)
    art["ellipse"].set_data(*s["ellipse"].T)
    art["damped_ellipse"].set_data(*(s["damped_ellipse"].T if damping > 0 else ([], [])))
    art["ball"].set_data(*s["ball"].T)
    for name in ("natural", "plain"):
        art[name].xy = tuple(s[name])
    for name in ("plain_cut", "best"):
        art[name].set_data([s[name][0]], [s[name][1]])
    entries = [(art["ellipse"], tr("½ dᵀHd = δ  (E9)")), (art["kl_key"], tr("exact KL = δ"))]
    if damping > 0:
        entries.append((art["damped_ellipse"], tr("½ dᵀ(H+ξI)d = δ")))
    entries.append((art["ball"], tr("ball, same area")))
    for name, legend_name in STEPS.items():
        handle = art[f"{name}_key"] if name in ("natural", "plain") else art[name]  # arrows: their line keys
        label = tr("{step}: KL {kl:.3f}, gain {gain:.3f}", step=tr(legend_name), kl=s[f"{name}_kl"],
                   gain=s[f"{name}_gain"])
        entries.append((handle, label))
    ax.legend(*zip(*entries, strict=True), loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=11)
    art["title"].set_text(tr("δ = {max_kl:.3f}, ξ = {damping:.2f}: natural step {angle:.0f}° away from g",
                             max_kl=max_kl, damping=damping, angle=s["angle"]))
    return art["fig"]
