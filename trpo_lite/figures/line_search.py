"""Notebook 09, section 8: TRPO against the natural step without its line search (NPG) on Pendulum-v1.

The numbers come from ``trpo_lite.examples.line_search``; both figures are drawn once.

Shapes: R seeds, I iterations.
"""

import matplotlib.pyplot as plt
import numpy as np

from trpo_lite.examples.line_search import Runs, backtrack_counts, kl_ratios, seed_curves
from trpo_lite.figures.style import plain_ticks
from trpo_lite.language import tr

COLORS = {"trpo": "C0", "npg": "C3"}
NAMES = {"trpo": "TRPO (line search)", "npg": "NPG (no line search)"}  # English: shown through tr
KL_RATIO_RANGE = (1e-2, 1e2)  # the KL / delta axis; values outside are drawn at its ends


def curves_figure(runs: Runs) -> plt.Figure:
    """One column per delta. Top: return (last-10 mean) against env steps, each rule's seed median (bold),
    min-max band and every seed (thin). Bottom: every update's KL / delta, every seed, with the trust
    region's edge KL = delta dashed."""
    max_kls = runs.meta["max_kls"]
    fig, axes = plt.subplots(2, len(max_kls), figsize=(5.2 * len(max_kls), 8), sharex=True,
                             sharey="row", squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.08, top=0.86, hspace=0.12, wspace=0.08)
    x = runs.steps / 1000
    for column, max_kl in enumerate(max_kls):
        ax_ret, ax_kl = axes[:, column]
        for update in runs.meta["updates"]:
            color, stats = COLORS[update], seed_curves(runs, update, max_kl)
            for seed in stats["returns"]:
                ax_ret.plot(x, seed, color=color, lw=0.6, alpha=0.6)
            ax_ret.fill_between(x, stats["low"], stats["high"], color=color, alpha=0.15)
            ax_ret.plot(x, stats["median"], color=color, lw=2.5, label=tr(NAMES[update]))
            ratios = np.clip(kl_ratios(runs, update, max_kl), *KL_RATIO_RANGE)
            ax_kl.plot(np.broadcast_to(x, ratios.shape).ravel(), ratios.ravel(), ".", color=color, ms=3,
                       alpha=0.4, label=tr(NAMES[update]))
        ax_kl.axhline(1.0, color="black", ls="--", lw=1.2, label=tr("KL = δ"))
        ax_ret.set_title(tr("δ = {max_kl:g}", max_kl=max_kl))
        ax_kl.set(yscale="log", ylim=(KL_RATIO_RANGE[0] / 1.5, KL_RATIO_RANGE[1] * 1.5),
                  xlabel=tr("env steps (thousands)"))
        plain_ticks(ax_kl.yaxis, [0.01, 0.1, 1, 10, 100], ["≤0.01", "0.1", "1", "10", "≥100"])
    axes[0, 0].set_ylabel(tr("return (mean of last 10 episodes)"))
    axes[1, 0].set_ylabel(tr("KL of the update / δ"))
    fig.legend(*axes[1, 0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.955),
               ncols=3, frameon=False, markerscale=4)
    fig.suptitle(tr("Pendulum-v1, {n} seeds: bold median, band min-max, thin lines every seed",
                    n=len(runs.meta["seeds"])), y=0.995)
    return fig


def backtracks_figure(runs: Runs) -> plt.Figure:
    """For each delta, the fraction of TRPO's updates taken after i backtracks (step alpha^i of the full
    step, E12), and the fraction rejected (theta kept)."""
    max_kls, most = runs.meta["max_kls"], runs.config.max_backtracks
    fig, ax = plt.subplots(figsize=(11, 4.2))
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.2, top=0.88)
    width = 0.8 / len(max_kls)
    for k, max_kl in enumerate(max_kls):
        counts = backtrack_counts(runs, max_kl)
        ax.bar(np.arange(most + 2) + (k - (len(max_kls) - 1) / 2) * width, counts / counts.sum(), width,
               color=f"C{k}", label=tr("δ = {max_kl:g}", max_kl=max_kl))
    alpha = runs.config.backtrack_coef
    ax.set_xticks(range(most + 2), [f"{i}\n{alpha**i:.2f}" for i in range(most + 1)] + [tr("rejected")])
    ax.set(xlabel=tr("backtracks i (second line: the step's fraction α^i)"), ylabel=tr("fraction of updates"),
           title=tr("TRPO's line search on Pendulum-v1: backtracks per update, all seeds"))
    ax.legend()
    return fig
