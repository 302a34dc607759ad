"""Notebook 03's figures: histograms of the E6 estimates L-hat, and their variance against the ratio's spread.

The numbers come from ``trpo_lite.examples.importance``; this module only draws
them. Each slider view builds its figure once and afterwards moves its artists.

Shapes: [R] one entry per repeated estimate (R = ``N_REPEATS``), K policies along a sweep.
"""

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite.examples.importance import N_REPEATS, estimator_numbers, rare_action_numbers, variance_sweep
from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure
from trpo_lite.language import language, tr

BINS = 40  # histogram bins over the x-range


@cache
def _estimator_artists(view: str, lang: str) -> dict:
    """The figure of one estimator view (``view`` names it), built once per language, and the artists a
    call moves."""
    fig = static_figure((10, 4.8))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.86)
    art = {
        "fig": fig, "ax": ax,
        "hist": ax.stairs([0.0], [0.0, 1.0], fill=True, alpha=0.45),
        "band": ax.axvspan(0.0, 1.0, color="C2", alpha=0.15),
        "exact": ax.axvline(0.0, color="k"),
        "mean": ax.axvline(0.0, color="C1", ls="--"),
        "median": ax.axvline(0.0, color="C3", ls=":"),
        "title": ax.set_title("", y=1.0),  # a fixed position: no search for what is above the axes
    }
    ax.set(xlabel=tr("estimate of L from B old-policy pairs"), ylabel=tr("density"))
    plain_ticks(ax.xaxis, most=6)
    plain_ticks(ax.yaxis, most=4)
    return art


def _estimator_figure(view: str, numbers: dict, n_samples: int, setting: str) -> Figure:
    """Histogram of the N_REPEATS estimates L-hat against the exact L, its sd, and the ratio's values;
    setting (the slider's value, as the title shows it) opens the title.

    One axes, fixed margins, few ticks, built once per view and redrawn: a slider has 100 ms.
    """
    est, exact, xlim = numbers["estimates"], numbers["exact"], padded_limits(numbers["span"])
    spread = ", ".join(tr("{value:.3g} (prob {prob:.3g})", value=v, prob=p)
                       for v, p in zip(numbers["ratio_values"], numbers["ratio_probs"], strict=True))
    art = _estimator_artists(view, language())
    counts, edges = np.histogram(est, bins=BINS, range=xlim)
    density = counts / (N_REPEATS * np.diff(edges))
    art["hist"].set_data(density, edges)
    art["hist"].set_label(tr("{repeats} estimates, sample sd {sd:.4f} ({off} off the axis)",
                             repeats=N_REPEATS, sd=numbers["sd"], off=N_REPEATS - counts.sum()))
    art["band"].set_bounds(exact["surrogate"] - exact["sd"], 0.0, 2 * exact["sd"], 1.0)
    art["band"].set_label(tr("exact L ± exact sd {sd:.4f}", sd=exact["sd"]))
    for key, x, label in (("exact", exact["surrogate"], tr("exact L = {L:.4f}", L=exact["surrogate"])),
                          ("mean", numbers["mean"], tr("mean of estimates {mean:.4f} (se {se:.4f})",
                                                       mean=numbers["mean"], se=numbers["se"])),
                          ("median", numbers["median"], tr("median {median:.4f}", median=numbers["median"]))):
        art[key].set_xdata([x, x])
        art[key].set_label(label)
    art["ax"].set(xlim=xlim, ylim=(0.0, 1.05 * density.max()))
    art["ax"].legend(loc="upper right", fontsize=10)  # rebuilt: its labels carry this call's numbers
    art["title"].set_text(tr("{setting}, B = {n_samples}: mean KL {kl:.3f}, χ² = E_old[ρ²] - 1 = {chi2:.2f}\n"
                             "ρ under π_old: {spread}", setting=setting, n_samples=n_samples, kl=exact["kl"],
                             chi2=exact["chi2"], spread=spread))
    return art["fig"]


def estimator_view(kappa: float = 0.5, n_samples: int = 100) -> Figure:
    """Slider view: pi_old uniform, pi_new = new_policy(kappa); histogram of L-hat over N_REPEATS batches
    (``examples.importance.estimator_numbers``). Returns the same Figure on every call."""
    return _estimator_figure("estimator_view", estimator_numbers(kappa, n_samples), n_samples,
                             f"κ = {kappa:.2f}")


def rare_action_view(p: float = 0.01, n_samples: int = 100) -> Figure:
    """Slider view: pi_new = new_policy(0.5) fixed, pi_old(a*|s) = p; heavy tails appear as p -> 0
    (``examples.importance.rare_action_numbers``). Returns the same Figure on every call."""
    return _estimator_figure("rare_action_view", rare_action_numbers(p, n_samples), n_samples,
                             f"p = π_old(a*|s) = {p}")


def variance_figure(n_samples: int = 100) -> Figure:
    """Per-sample variance of L-hat against 1 + chi^2 (log-log) and against the mean KL, for both policy
    families of ``examples.importance.variance_sweep`` [K each]; drawn once."""
    sweep = variance_sweep(n_samples)
    labels = {"kappa": tr("mixing path: π_old uniform, κ 0 to 0.95"),
              "p": tr("rare action: π_new fixed, p = π_old(a*|s) 0.25 to 0.001")}
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), layout="constrained")
    for (name, rows), color in zip(sweep.items(), ("C0", "C3"), strict=True):
        for ax, x in zip(axes, (1 + rows["chi2"], rows["kl"]), strict=True):
            ax.plot(x, rows["var"], color=color, label=labels[name])
            ax.plot(x, rows["var_emp"], "o", color=color, ms=5)
    axes[0].set(xscale="log", yscale="log", xlabel=tr("E_old[ρ²] = 1 + χ²"),
                ylabel=tr("B · Var(estimate)"), title=tr("variance grows with the ratio's spread"))
    axes[1].set(yscale="log", xlabel=tr("mean KL(π_old || π_new)"), ylabel=tr("B · Var(estimate)"),
                title=tr("KL(old || new) does not see rare actions"))
    note = tr("lines: exact; dots: {repeats} batches of B = {n_samples}", repeats=N_REPEATS,
              n_samples=n_samples)
    axes[0].legend(fontsize=9, loc="upper left", title=note, title_fontsize=9)
    return fig
