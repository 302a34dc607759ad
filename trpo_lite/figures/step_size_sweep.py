"""Notebook 00, part 2: the figures of the saved step-size sweep, plain policy gradient against TRPO.

The runs and their summaries come from ``trpo_lite.examples.step_size_sweep``;
``step_size_view`` (the slider) redraws one figure built once, ``sweep_summary``
is drawn once. A KL of 0 (the policy did not change) or inf (it dropped an
action) is drawn at the ends of the KL axis.

Shapes: K step sizes, R seeds, I iterations.
"""

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples.step_size_sweep import (
    FINAL_WINDOW,
    SMALL_STEP,
    final_returns,
    first_kl,
    kl_scale,
    load_sweep,
    runs_of,
)
from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure

KL_RANGE = (1e-8, 1e2)  # the KL panel's axis; values outside (0 and inf included) are drawn at its ends


def _kl_axis(ax) -> None:
    ax.set(yscale="log", ylim=KL_RANGE)
    plain_ticks(ax.yaxis, [1e-8, 1e-6, 1e-4, 1e-2, 1, 100], ["≤1e-8", "1e-6", "1e-4", "0.01", "1", "≥100"])


def _seed_lines(ax_ret, ax_kl, n_seeds: int, color, label: str) -> tuple[list, list]:
    """n_seeds empty return lines and KL lines (one of each labelled, for the legend)."""
    names = [label] + [None] * (n_seeds - 1)
    return ([ax_ret.plot([], [], color=color, lw=1.6, label=name)[0] for name in names],
            [ax_kl.plot([], [], ".-", color=color, lw=1, ms=5, label=name)[0] for name in names])


def _draw_runs(lines: tuple[list, list], runs: list[dict]) -> None:
    """Put runs (one per seed) in ``_seed_lines``' lines: return_last10 and KL per iteration [I]."""
    for ret, kl, run in zip(*lines, runs, strict=True):
        steps = np.array(run["env_steps"]) / 1000
        ret.set_data(steps, run["return_last10"])
        kl.set_data(steps, np.clip(run["kl"], *KL_RANGE))


@cache
def _step_size_figure() -> dict:
    """The figure of ``step_size_view``: TRPO's runs, drawn once, and the artists a step size moves.

    "vpg" holds (return lines, KL lines) for one step size's runs, one per seed:
    the sweep runs the same seeds for every step size.
    """
    sweep = load_sweep()
    trpo, max_kl = runs_of(sweep, "trpo"), sweep["meta"]["trpo_max_kl"]
    fig = static_figure((15, 5.6))
    ax_ret, ax_kl = fig.subplots(1, 2, gridspec_kw={
        "left": 0.06, "right": 0.99, "top": 0.87, "bottom": 0.22, "wspace": 0.2})
    _draw_runs(_seed_lines(ax_ret, ax_kl, len(trpo), "0.55", f"TRPO (δ = {max_kl}), {len(trpo)} seeds"), trpo)
    vpg = _seed_lines(ax_ret, ax_kl, len(sweep["meta"]["seeds"]), "C0", "plain gradient")
    ax_ret.set(ylabel="return (mean of last 10 episodes)", ylim=(0, 520), title="return while training")
    ax_kl.axhline(max_kl, color="C3", ls="--", label="TRPO's trust region δ")
    ax_kl.set(ylabel="mean KL(old ‖ new) per update", title="how far each update moves π")
    _kl_axis(ax_kl)
    steps = np.array(trpo[0]["env_steps"]) / 1000  # every run of the sweep has the same iterations
    for ax in (ax_ret, ax_kl):
        ax.set(xlabel="environment steps (thousands)", xlim=padded_limits(steps))
    legend = fig.legend(*ax_kl.get_legend_handles_labels(), loc="lower center", ncols=3, frameon=False)
    return {"fig": fig, "vpg": vpg, "vpg_label": legend.get_texts()[1], "suptitle": fig.suptitle("")}


def step_size_view(pg_lr: float = 1.0) -> Figure:
    """Plain policy gradient with step pg_lr on CartPole-v1: return and KL per update, all seeds, vs TRPO.

    One line per seed and run, over its iterations. Returns the same Figure on
    every call, redrawn for pg_lr.
    """
    runs = runs_of(load_sweep(), "vpg", pg_lr)
    art = _step_size_figure()
    _draw_runs(art["vpg"], runs)
    art["vpg_label"].set_text(f"plain gradient, step {pg_lr}, {len(runs)} seeds")
    art["suptitle"].set_text(f"CartPole-v1, plain policy gradient θ ← θ + {pg_lr}·g   (grey: TRPO)")
    return art["fig"]


def sweep_summary() -> plt.Figure:
    """Over all step sizes: the return at the end of training, and the KL of the very first update."""
    sweep = load_sweep()
    sizes, finals, trpo_finals = final_returns(sweep)
    _, kl = first_kl(sweep)
    seeds = finals.shape[1]
    fig, (ax_end, ax_kl) = plt.subplots(1, 2, figsize=(15, 5), gridspec_kw={
        "left": 0.06, "right": 0.99, "top": 0.85, "bottom": 0.14, "wspace": 0.2})
    ax_end.axhspan(min(trpo_finals), max(trpo_finals), color="0.55", alpha=0.3, label="TRPO, range of seeds")
    ax_end.plot(np.repeat(sizes, seeds), finals.ravel(), "o", color="C0", alpha=0.5, label="one seed")
    ax_end.plot(sizes, finals.mean(1), color="C0", label="mean of seeds")
    ax_end.axhline(trpo_finals.mean(), color="0.4", label="TRPO, mean of seeds")
    iterations = len(sweep["runs"][0]["env_steps"])
    ax_end.set(xscale="log", xlabel="step size of the plain gradient", ylabel="return at the end",
               ylim=(0, 520), title=f"mean return over the last {FINAL_WINDOW} of {iterations} iterations")
    ax_end.legend(loc="center right")
    ax_kl.plot(np.repeat(sizes, seeds), np.clip(kl, *KL_RANGE).ravel(), "o", color="C0", alpha=0.6,
               label="first update, one seed")
    ax_kl.plot(sizes, np.outer(sizes**2, kl_scale(sizes, kl)), color="0.3", lw=1, ls=":")
    ax_kl.plot([], [], color="0.3", lw=1, ls=":", label=f"c·step², fitted to steps ≤ {SMALL_STEP:g}")
    ax_kl.axhline(sweep["meta"]["trpo_max_kl"], color="C3", ls="--", label="trust region δ")
    ax_kl.set(xscale="log", xlabel="step size of the plain gradient", ylabel="mean KL(old ‖ new)",
              title="how far the first update moves π (same batch)")
    _kl_axis(ax_kl)
    ax_kl.legend(loc="upper left")
    for ax in (ax_end, ax_kl):
        plain_ticks(ax.xaxis, [0.01, 0.1, 1, 10, 100])
    fig.suptitle(f"CartPole-v1, plain policy gradient, {seeds} seeds per step size")
    return fig
