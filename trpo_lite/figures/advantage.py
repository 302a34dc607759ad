"""Notebook 01's figures: V, Q, A on the FrozenLake grid (E2) and both sides of the performance
difference (E3, E4), with numbers from ``trpo_lite.examples.advantage``.

The two slider views build their figure once (``static_figure``) and afterwards only
move its artists: a slider has 100 ms to compute, redraw and encode the PNG, and
building a figure costs about as much as drawing it.

Shapes: S states (16 cells + 1 absorbing), A = 4 actions.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples import advantage as ex
from trpo_lite.examples.frozen_lake import N_CELLS, lake_map
from trpo_lite.figures.grid import GridHeatmap, PolicyArrows
from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure

ARROW_COLOR = "orangered"  # apart from the cells' white and black numbers


def _ice_only(pi: np.ndarray, desc) -> np.ndarray:
    # Arrows on holes and the goal would be noise: the episode has ended there.
    pi = np.array(pi[: desc.size], dtype=float)
    pi[np.isin(desc.ravel(), [b"H", b"G"])] = 0.0
    return pi


@dataclass(frozen=True)
class _Grid:
    """One grid panel of a view: per-cell values as colours and numbers, a policy's arrows on top."""

    heat: GridHeatmap
    arrows: PolicyArrows

    @classmethod
    def on(cls, ax, title: str, fmt: str) -> "_Grid":
        """Draw the panel's fixed parts (title, map letters) on ax, once."""
        ax.set_title(title, y=1.0)  # a fixed position: no search for tick labels above the axes
        desc = lake_map()
        return cls(GridHeatmap(ax, desc, fmt=fmt), PolicyArrows(ax, desc, color=ARROW_COLOR))

    def update(self, values, pi, vmin: float | None = None, vmax: float | None = None) -> None:
        """Show values [S] and pi [S, A] on the 16 cells (pi's arrows on ice cells only)."""
        self.heat.update(values, vmin, vmax)
        self.arrows.update(_ice_only(pi, lake_map()))


VALUES_TITLES = ("V(s): average over actions", "Q(s, a*): take a*, then follow π",
                 "A(s, a*) = Q(s, a*) − V(s)  (E2)")


@cache
def _values_figure() -> dict:
    """The figure of ``values_view``: a grid per title of VALUES_TITLES, and the suptitle."""
    fig = static_figure((15, 5.2))
    # Fixed margins, not tight_layout: measuring every label would cost the slider its 100 ms.
    axes = fig.subplots(1, 3, gridspec_kw={"left": 0.01, "right": 0.99, "top": 0.84, "bottom": 0.02,
                                           "wspace": 0.05})
    grids = [_Grid.on(ax, title, fmt="{:.3f}") for ax, title in zip(axes, VALUES_TITLES, strict=True)]
    return {"fig": fig, "grids": grids, "suptitle": fig.suptitle("")}


def values_view(gamma: float = 0.95) -> Figure:
    """E2 on the grid for the uniform policy: V(s), Q(s, a*) and A(s, a*) = Q - V at the best action a*
    (``examples.advantage.values_at``).

    Returns the same Figure on every call, redrawn for gamma.
    """
    numbers = ex.values_at(gamma)
    panels = (numbers["v"], numbers["q_best"], numbers["a_best"])  # in the order of VALUES_TITLES
    # V and Q share a colour scale so that the cells can be compared by eye.
    top = max(numbers["q_best"][:N_CELLS].max(), 1e-12)
    art = _values_figure()
    for grid, values, vmax in zip(art["grids"], panels, (top, top, None), strict=True):
        grid.update(values, numbers["pi_target"], vmin=0.0 if vmax else None, vmax=vmax)
    art["suptitle"].set_text(f"Uniform policy on FrozenLake-v1, γ = {gamma:.2f}; "
                             "arrows: a* = argmax_a A(s, a)")
    return art["fig"]


SHARE_TITLE = "each state's share of the right side (E4):\nν_new(s) Σ_a π_new(a|s) A_old(s, a) / (1 − γ)"


@cache
def _performance_difference_figure() -> dict:
    """The figure of ``performance_difference_view``: the grid of E4's terms, and the curves along alpha."""
    fig = static_figure((15, 5.6))
    ax_grid, ax_curve = fig.subplots(1, 2, gridspec_kw={
        "width_ratios": [1, 1.5], "left": 0.01, "right": 0.98, "top": 0.86, "bottom": 0.13, "wspace": 0.12})
    art = {"fig": fig, "grid": _Grid.on(ax_grid, SHARE_TITLE, fmt="{:.4f}"), "curve": ax_curve}
    (art["lhs"],) = ax_curve.plot([], [], color="C0", label="left (E3): J(new) − J(old)")
    (art["rhs"],) = ax_curve.plot([], [], "o", color="C1", ms=6,
                                  label="right (E4): 1/(1 − γ) E[A_old], s ~ ν_new, a ~ π_new")
    (art["old_nu"],) = ax_curve.plot([], [], "--", color="gray",
                                     label="same sum with ν_old: not E3 (notebook 02)")
    (art["star"],) = ax_curve.plot([], [], "*", color="C3", ms=18, label="α")
    ax_curve.set(xlabel="α  in  π_new = (1 − α) π_old + α π_greedy", ylabel="change in J", xlim=(-0.05, 1.05))
    # Few ticks, plain-text labels: tick labels are a large part of the drawing time.
    plain_ticks(ax_curve.xaxis, np.linspace(0.0, 1.0, 6))
    plain_ticks(ax_curve.yaxis, most=5)
    art["star_label"] = ax_curve.legend(loc="upper left").get_texts()[3]
    art["title"] = ax_curve.set_title("", y=1.0)
    return art


def performance_difference_view(gamma: float = 0.95, alpha: float = 0.5) -> Figure:
    """Both sides of E3 for pi_new = (1 - alpha) uniform + alpha greedy: per state, and along alpha
    (``examples.advantage.performance_difference_at``).

    Returns the same Figure on every call, redrawn for gamma and alpha.
    """
    numbers = ex.performance_difference_at(gamma, alpha)
    gains, right, curve = numbers["gains"], numbers["rhs"], numbers["curve"]
    art = _performance_difference_figure()
    # Every term is >= 0 (pi_target is greedy for A_old): a scale from 0, so that at alpha = 0, where
    # all are 0 up to rounding, the cells share one colour instead of spreading 1e-18 over the colour map.
    art["grid"].update(gains, numbers["pi_new"], vmin=0.0, vmax=max(gains.max(), 1e-12))
    for key in ("lhs", "rhs", "old_nu"):
        art[key].set_data(curve["alpha"], curve[key])
    art["star"].set_data([alpha], [right])
    art["star_label"].set_text(f"α = {alpha:.2f}")
    art["title"].set_text(f"γ = {gamma:.2f}, α = {alpha:.2f}:  left {numbers['lhs']:.5f},  right {right:.5f}")
    curves = [curve["lhs"], curve["rhs"], curve["old_nu"], [right]]
    art["curve"].set_ylim(padded_limits(np.concatenate(curves)))
    return art["fig"]
