"""Notebook 04's figures: the bound (E7) along a path, and the trust region (E8) over the policy square.

The numbers come from ``trpo_lite.examples.trust_region`` (tables computed once
for every slider value); this module only draws them. Each view builds its
figure once and afterwards moves its artists.

Shapes: K points along a path (or slider values), H grid points per axis.
"""

from functools import lru_cache

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from trpo_lite.examples.trust_region import (
    DELTAS,
    GAMMA,
    OLD,
    bound_numbers,
    trust_region_numbers,
    trust_region_table,
)
from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure
from trpo_lite.language import language, tr


def _fit(ax, x, ys, below: float = 0.05) -> None:
    """Axis limits around x [K] and the finite values of ys (arrays), with margins (below: share of the
    span under the lowest value, 0.08 over the highest)."""
    y = np.concatenate([np.ravel(v) for v in ys])
    y = y[np.isfinite(y)]
    span = (y.max() - y.min()) or 1.0
    ax.set_xlim(padded_limits(x, 0.03))
    ax.set_ylim(y.min() - below * span, y.max() + 0.08 * span)


@lru_cache(maxsize=2)
def _bound_figure(lang: str) -> dict:
    """The figure of ``bound_view`` (one per language) and the artists it moves."""
    fig = static_figure((14, 4.8))
    whole, near = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.82, wspace=0.22)
    art = {"fig": fig, "whole": whole, "near": near, "suptitle": fig.suptitle("")}
    for key, label in (("J", tr("J (true)")), ("L", tr("L (surrogate)")),
                       ("bound", tr("bound = L - penalty"))):
        (art["whole_" + key],) = whole.plot([], [], label=label)
    art["J_old"] = whole.axhline(0.0, color="gray", ls="--", lw=1.2, label=tr("J(old)"))
    whole.set(xlabel=tr("κ (0 = old, 1 = greedy)"), ylabel=tr("return"), title=tr("the whole path"))
    whole.legend(loc="upper left", fontsize=10)
    for key, label in (("J", tr("J - J(old)")), ("L", tr("L - J(old)")), ("bound", tr("bound - J(old)"))):
        (art["near_" + key],) = near.plot([], [], label=label)
    (art["penalty"],) = near.plot([], [], color="tab:red", ls="--", label=tr("penalty C max KL"))
    art["star"] = near.axvline(0.0, color="black", lw=1, ls=":")
    near.axhline(0.0, color="gray", lw=1)
    near.set(xlabel="κ", ylabel=tr("gain over J(old)"))
    near.ticklabel_format(style="sci", scilimits=(-2, 2))
    near.legend(loc="upper left", fontsize=10)
    for ax in (whole, near):
        plain_ticks(ax.xaxis)
        plain_ticks(ax.yaxis)
    return art


def bound_view(gamma: float = GAMMA) -> Figure:
    """J, L, the penalty and the bound (E7) along the path from pi_old to the greedy policy, for one gamma.

    Two panels, the whole path and a zoom on the tiny steps the bound certifies
    (``examples.trust_region.bound_numbers``; gamma one of BOUND_GAMMAS).
    Returns the same Figure on every call, redrawn for gamma.
    """
    numbers, art = bound_numbers(gamma), _bound_figure(language())
    full, zoom, star, J_old = numbers["full"], numbers["zoom"], numbers["kappa_star"], numbers["J_old"]
    for key in ("J", "L", "bound"):
        art["whole_" + key].set_data(full["kappa"], full[key])
        art["near_" + key].set_data(zoom["kappa"], zoom[key] - J_old)
    art["J_old"].set_ydata([J_old, J_old])
    _fit(art["whole"], full["kappa"], [full["J"], full["L"]], below=0.3)  # the bound plunges far below
    art["penalty"].set_data(zoom["kappa"], zoom["penalty"])
    art["star"].set_xdata([star, star])
    _fit(art["near"], zoom["kappa"], [zoom[k] - J_old for k in ("J", "L", "bound")] + [zoom["penalty"]])
    art["near"].set_title(tr("zoom: at κ* (dotted), penalty = {ratio:.0f} x |L - J|", ratio=numbers["ratio"]))
    gamma, C, certified, available = (numbers[k] for k in ("gamma", "C", "certified", "available"))
    art["suptitle"].set_text(tr("γ = {gamma}: C = {C:.3g}; the bound certifies +{certified:.1e} at "
                                "κ* = {star:.1e}; the path offers up to +{available:.2f}", gamma=gamma, C=C,
                                certified=certified, star=star, available=available))
    return art["fig"]


@lru_cache(maxsize=2)
def _trust_region_figure(lang: str) -> dict:
    """The figure of ``trust_region_view`` (one per language): the static picture, and the artists a delta
    moves."""
    t = trust_region_table()
    fig = static_figure((14, 5.6))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.22)
    # No colorbar (an extra axes to draw): the title gives J's range, the legend J at two policies.
    left.imshow(t["heat_J"].T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", aspect="auto",
                interpolation="bilinear")
    art = {"fig": fig, "left": left, "right": right}
    art["region"] = left.add_collection(PolyCollection([], facecolors="white", alpha=0.3))
    art["mean"] = left.add_collection(LineCollection([], colors="white", linewidths=2.5,
                                                     label=tr("mean KL ≤ δ (E8)")))
    art["max"] = left.add_collection(LineCollection([], colors="white", linewidths=1.5, linestyles=":",
                                                    label=tr("max KL ≤ δ (E7)")))
    left.plot(*t["best_p"].T, color="tab:red", lw=1.2, alpha=0.7)
    old = left.plot(*OLD, "o", color="black", ms=9, label=tr("π_old, J = {J:.2f}", J=t["J_old"]))[0]
    (art["star"],) = left.plot([], [], "*", color="tab:red", ms=18, mec="white", label=tr("best admitted"))
    left.set(xlabel=tr("P(forward | home)"), ylabel=tr("P(forward | bridge)"), xlim=(0, 1), ylim=(0, 1))
    left.grid(False)
    legend = left.legend([old, art["star"], art["mean"], art["max"]],
                         [h.get_label() for h in (old, art["star"], art["mean"], art["max"])],
                         loc="upper right", fontsize=10, facecolor="lightgray")
    art["star_label"] = legend.get_texts()[1]
    # log10 delta on a linear axis: a log axis would double the drawing time of this panel.
    log_deltas = np.log10(DELTAS)
    right.plot(log_deltas, t["best_L"] - t["J_old"], label=tr("L(best) - J(old): promised"))
    right.plot(log_deltas, t["best_J"] - t["J_old"], label=tr("J(best) - J(old): achieved"))
    art["now"] = right.axvline(log_deltas[0], color="gray", ls=":")
    (art["pair"],) = right.plot([], [], "o", color="black")
    right.set(xlabel=tr("δ, the bound on the mean KL (log scale)"), ylabel=tr("gain over J(old)"))
    right.legend(loc="upper left", fontsize=11)
    for axis in (left.xaxis, left.yaxis, right.yaxis):
        plain_ticks(axis)
    plain_ticks(right.xaxis, range(-3, 1), ["1e-3", "1e-2", "1e-1", "1"])
    art["heat_range"] = t["heat_J"].min(), t["heat_J"].max()
    return art


def trust_region_view(max_kl: float = 0.01) -> Figure:
    """The policies with mean KL <= delta (E8), the one maximising L among them, and the J it reaches.

    max_kl (delta) is one of DELTAS, its slider's values
    (``examples.trust_region.trust_region_numbers``). Returns the same Figure on
    every call, redrawn for delta.
    """
    numbers, art = trust_region_numbers(max_kl), _trust_region_figure(language())
    delta, promised, achieved = numbers["delta"], numbers["promised"], numbers["achieved"]
    art["region"].set_verts(numbers["mean_lines"])
    art["mean"].set_segments(numbers["mean_lines"])
    art["max"].set_segments(numbers["max_lines"])
    art["star"].set_data([numbers["best_p"][0]], [numbers["best_p"][1]])
    art["star_label"].set_text(tr("best admitted (max L), J = {J:.2f}", J=numbers["best_J"]))
    lo, hi = art["heat_range"]
    art["left"].set_title(tr("δ = {delta:.3g}   (colour: J, {lo:.1f} dark to {hi:.1f} yellow)",
                             delta=delta, lo=lo, hi=hi))
    art["now"].set_xdata([np.log10(delta)] * 2)
    art["pair"].set_data([np.log10(delta)] * 2, [promised, achieved])
    art["right"].set_title(tr("L promises +{promised:.2f}, J gains +{achieved:.2f}", promised=promised,
                              achieved=achieved))
    return art["fig"]
