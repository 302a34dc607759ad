"""Notebook 00, part 1: the figure of E1 on FrozenLake-v1, the Monte Carlo mean against the exact J.

The numbers come from ``trpo_lite.examples.objective``; this module only draws
them, in one figure built once and redrawn in place.

Shapes: B episodes, K discounts (the gamma grid).
"""

from functools import cache

import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples.objective import GAMMAS, objective_numbers
from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure


@cache
def _objective_figure() -> dict:
    """The figure of ``objective_view`` and the artists it moves, built once with placeholder data."""
    fig = static_figure((15, 5))
    ax_run, ax_gamma = fig.subplots(1, 2, gridspec_kw={
        "left": 0.06, "right": 0.98, "top": 0.85, "bottom": 0.13, "wspace": 0.2})
    art = {"fig": fig, "run": ax_run, "gamma": ax_gamma, "suptitle": fig.suptitle("")}
    art["band"] = ax_run.fill_between([1, 2], 0, 0, color="C3", alpha=0.15, label="exact J ± 3 s.e.")
    art["exact"] = ax_run.axhline(0, color="C3", label="exact J = V(s0)")
    (art["running"],) = ax_run.plot([], [], color="C0", label="mean of the first b returns G_0")
    ax_run.set(xlabel="episodes b", ylabel="estimate of J", xscale="log")
    art["exact_label"] = ax_run.legend(loc="upper right").get_texts()[1]
    zeros = np.zeros(len(GAMMAS))
    (art["curve"],) = ax_gamma.plot(GAMMAS, zeros, color="C3", label="exact: E_s0[V(s0)] (linear solve)")
    art["mc"] = ax_gamma.errorbar(GAMMAS, zeros, zeros, fmt="o", color="C0", capsize=3, label="Monte Carlo")
    (art["star"],) = ax_gamma.plot([], [], "*", color="C3", ms=18)
    ax_gamma.set(xlabel="discount γ", ylabel="J", title="J over γ: same episodes, reweighted",
                 xlim=(GAMMAS[0] - 0.01, GAMMAS[-1] + 0.01))
    art["mc_label"] = ax_gamma.legend(loc="upper left").get_texts()[1]
    ticks = (0.8, 0.85, 0.9, 0.95, 0.99)
    plain_ticks(ax_gamma.xaxis, ticks, [f"{t:.2f}" for t in ticks])
    for axis in (ax_run.yaxis, ax_gamma.yaxis):
        plain_ticks(axis, most=6)
    return art


def _set_errorbar(bars, x, y, err) -> None:
    """Move the points and bars of an ``errorbar`` container (y errors, caps) to y ± err; [K] each."""
    points, (low_caps, high_caps), (segments,) = bars
    points.set_data(x, y)
    low_caps.set_data(x, y - err)
    high_caps.set_data(x, y + err)
    segments.set_segments(np.stack([np.stack([x, y - err], -1), np.stack([x, y + err], -1)], 1))


def objective_view(policy: str = "greedy", gamma: float = 0.95, n_episodes: int = 500) -> Figure:
    """E1 both ways on FrozenLake: the Monte Carlo mean of B returns against the exact E_s0[V(s0)].

    Left: the running mean of the first b returns [B] in its 3 s.e. band around
    the exact J; right: exact J and the estimate ± 3 s.e. over GAMMAS [K]
    (``examples.objective.objective_numbers``). Returns the same Figure on every
    call, redrawn for these values.
    """
    numbers = objective_numbers(policy, gamma, n_episodes)
    k, exact, means, ses, running = (numbers[key] for key in ("k", "exact", "means", "ses", "running"))
    b = np.arange(1, n_episodes + 1)
    art = _objective_figure()
    art["band"].set_data(b, exact[k] - numbers["band"], exact[k] + numbers["band"])
    art["exact"].set_ydata([exact[k]] * 2)
    art["exact_label"].set_text(f"exact J = V(s0) = {exact[k]:.4f}")
    art["running"].set_data(b, running)
    plain_ticks(art["run"].xaxis, [t for t in (1, 10, 100, 1000) if t <= n_episodes])
    art["run"].set(title=f"γ = {gamma:.2f}", xlim=(n_episodes**-0.05, n_episodes**1.05),
                   ylim=(0, max(2 * exact[k], running[min(9, n_episodes - 1):].max() * 1.1)))
    art["curve"].set_ydata(exact)
    _set_errorbar(art["mc"], GAMMAS, means, 3 * ses)
    art["mc_label"].set_text(f"Monte Carlo: mean of {n_episodes} G_0 ± 3 s.e.")
    art["star"].set_data([gamma], [exact[k]])
    art["gamma"].set_ylim(padded_limits(np.concatenate([exact, means - 3 * ses, means + 3 * ses])))
    art["suptitle"].set_text(f"FrozenLake-v1, {policy} policy, {n_episodes} episodes: Monte Carlo "
                             f"{means[k]:.4f} ± {ses[k]:.4f} (1 s.e.) vs exact {exact[k]:.4f}")
    return art["fig"]
