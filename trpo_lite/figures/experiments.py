"""Notebook 09's figures: learning curves and KL per update of every sweep, and the sweeps' summary.

The numbers come from ``trpo_lite.examples.sweep_results``; ``curves_view`` (the slider) redraws one
figure built once, ``summary_figure`` is drawn once.

Shapes: R seeds, I iterations, C configurations of one sweep.
"""

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples.experiments import LABELS, SWEEPS, THRESHOLD, value_label
from trpo_lite.examples.sweep_results import Results, per_configuration, sweep_curves
from trpo_lite.figures.style import plain_ticks, static_figure
from trpo_lite.language import language, tr

STYLES = ("-", "--", ":", "-.")  # line style of a sweep's i-th value when it is not the chosen one


class _Pool:
    """Lines of one role, made by make() and reused from call to call: ``take(n)`` shows the first n
    (making more when there are fewer) and hides the others."""

    def __init__(self, make, n: int = 0):
        self.make, self.lines = make, []
        self.take(n)

    def take(self, n: int) -> list:
        while len(self.lines) < n:
            self.lines.append(self.make())
        for i, line in enumerate(self.lines):
            line.set_visible(i < n)
        return self.lines[:n]


@cache
def _curves_figure(lang: str) -> dict:
    """The figure of ``curves_view`` (one per language) and the artists it moves. Per panel ("returns",
    "kls"): the chosen configuration's bold seed mean and min-max band, and a pool for the other
    configurations' faint means; pools for the chosen one's seeds (returns) and the delta lines (KL). The
    pools of configurations and deltas are made as large as the largest sweep here, so every call draws
    them in the same order."""
    fig = static_figure((11.5, 4.3))
    ax_ret, ax_kl = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.14, top=0.92, wspace=0.22)
    # A fixed title height: otherwise every draw measures the tick labels to see if the title must move up.
    for ax in (ax_ret, ax_kl):
        ax.set_title("", y=1.0)
    others = max(len(values) for values in SWEEPS.values()) - 1  # faint lines of the largest sweep
    art = {"fig": fig, "ret": ax_ret, "kl": ax_kl}
    for name, ax in (("returns", ax_ret), ("kls", ax_kl)):
        art[name] = {"band": ax.fill_between([], [], [], alpha=0.2),
                     "faint": _Pool(lambda ax=ax: ax.plot([], [], lw=1.5, alpha=0.4)[0], others),
                     "bold": ax.plot([], [], lw=3, zorder=3)[0]}
    art["deltas"] = _Pool(lambda: ax_kl.axhline(1.0, color="black", ls="--"), len(SWEEPS["max_kl"]))
    art["seeds"] = _Pool(lambda: ax_ret.plot([], [], lw=0.8)[0])  # on the KL panel the band says enough
    ax_ret.axhline(THRESHOLD, color="black", lw=1, ls="--")
    ax_ret.set(xlabel=tr("env steps (thousands)"), ylabel=tr("return (mean of last 10 episodes)"),
               ylim=(0, 510))
    # Few, fixed ticks with plain-text labels: ticks are most of a redraw's cost.
    plain_ticks(ax_ret.yaxis, [0, 100, 200, 300, 400, 500])
    ax_kl.set_yscale("log")
    ax_kl.set(xlabel=tr("env steps (thousands)"), ylabel=tr("mean KL of the update"), ylim=(1e-4, 1),
              title=tr("KL per update (dashed: δ)"))
    plain_ticks(ax_kl.yaxis, [1e-4, 1e-3, 1e-2, 1e-1, 1], ["1e-4", "1e-3", "0.01", "0.1", "1"])
    return art


def _show_sweep(panel: dict, x, stats: dict, name: str, value) -> list:
    """One panel of ``curves_view``: each configuration's seed mean of name ("returns" or "kls") against
    x [I], the chosen value bold with its min-max band, the others faint.

    Args:
        panel: the panel's artists from ``_curves_figure``.
        stats: value -> ``curve_stats`` of that configuration, in sweep order.
    Returns:
        the mean lines in sweep order (handles for a legend).
    """
    faint, lines = iter(panel["faint"].take(len(stats) - 1)), []
    for i, (other, other_stats) in enumerate(stats.items()):
        line = panel["bold"] if other == value else next(faint)
        line.set_data(x, other_stats[f"{name}_mean"])
        # The others dashed, dotted, ...: two configurations with identical curves both stay visible.
        line.set(color=f"C{i}", linestyle="-" if other == value else STYLES[i])
        lines.append(line)
    panel["band"].set_data(x, stats[value][f"{name}_low"], stats[value][f"{name}_high"])
    panel["band"].set_color(f"C{list(stats).index(value)}")
    return lines


def curves_view(results: Results, sweep: str, value) -> Figure:
    """Left: return (last-10 mean) against env steps; right: KL per update. Every configuration of the
    sweep as its seed mean, faint; the chosen one bold, with its min-max band and every seed thin
    (``examples.sweep_results.sweep_curves``).

    Returns the same Figure on every call, redrawn for results, sweep and value.
    """
    numbers = sweep_curves(results, sweep, value)
    row, stats = numbers["row"], numbers["stats"]
    art, x, values = _curves_figure(language()), results.steps / 1000, SWEEPS[sweep]
    _show_sweep(art["returns"], x, stats, "returns", value)
    means = _show_sweep(art["kls"], x, stats, "kls", value)
    seeds = stats[value]["returns"]  # [R, I]
    for line, seed in zip(art["seeds"].take(len(seeds)), seeds, strict=True):
        line.set_data(x, seed)
        line.set_color(f"C{values.index(value)}")
    ticks = np.arange(0, x[-1] + 1e-9, 10)
    for ax in (art["ret"], art["kl"]):
        plain_ticks(ax.xaxis, ticks)
        ax.set_xlim(0, 1.02 * x[-1])
    art["ret"].title.set_text(tr("{sweep} = {value}: {reached} of {seeds} seeds reach {threshold:g}",
                                 sweep=tr(LABELS[sweep]), value=value_label(sweep, value),
                                 reached=row["reached"], seeds=row["seeds"], threshold=THRESHOLD))
    # The KL panel's bottom is empty (every update moves the policy by more than 1e-4): room for a legend.
    # A new legend each call (a few ms): the sweep sets its entries.
    art["kl"].legend(means, [value_label(sweep, v) for v in values], loc="lower right", fontsize=10, ncol=2,
                     title=tr("{sweep}; bold: mean, band: min-max", sweep=tr(LABELS[sweep])),
                     title_fontsize=10)
    deltas = numbers["deltas"]
    for line, delta in zip(art["deltas"].take(len(deltas)), deltas, strict=True):
        line.set_ydata([delta, delta])
        line.set_linewidth(1.5 if delta == numbers["delta"] else 0.6)
    return art["fig"]


def summary_figure(results: Results) -> plt.Figure:
    """Left: each TRPO seed's mean KL per update against delta, with KL = delta. Middle: the fraction of
    TRPO updates whose line search backtracked. Right: the final return of every configuration
    (``examples.sweep_results.per_configuration``)."""
    numbers = per_configuration(results)
    fig, (ax_kl, ax_bt, ax_ret) = plt.subplots(1, 3, figsize=(16, 4.8), width_ratios=(1, 1.4, 1.6))
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.2, top=0.9, wspace=0.3)
    deltas = np.array(list(numbers["kl_by_delta"]))
    for i, (delta, kls) in enumerate(numbers["kl_by_delta"].items()):
        ax_kl.plot([delta] * len(kls), kls, "o", color="C1", alpha=0.7,
                   label=tr("one seed") if i == 0 else None)
    ax_kl.plot(deltas, deltas, color="black", lw=1, ls="--", label=tr("KL = δ"))
    ax_kl.set(xscale="log", yscale="log", xlabel=tr("δ (max_kl)"), ylabel=tr("mean KL per update"),
              title=tr("TRPO: KL per update against δ"))
    ax_kl.legend(fontsize=10)
    for ax, chosen in ((ax_bt, numbers["backtracked"]), (ax_ret, numbers["final"])):
        for i, (_, sweep, _, values) in enumerate(chosen):
            ax.bar(i, np.median(values), color=f"C{list(SWEEPS).index(sweep)}", alpha=0.5)
            ax.plot([i] * len(values), values, "o", color="black", ms=4)
        ax.set_xticks(range(len(chosen)), [c[0] for c in chosen], rotation=60, fontsize=10)
    ax_bt.set(ylabel=tr("fraction of updates"), title=tr("TRPO: updates that backtracked (bar: median)"))
    ax_ret.axhline(THRESHOLD, color="black", lw=1, ls="--")
    ax_ret.set(ylim=(0, 510), ylabel=tr("return (last 10 episodes)"),
               title=tr("final return (bar: median; dots: seeds)"))
    return fig
