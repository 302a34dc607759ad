"""Notebook 10's figures: the clipped objective against the ratio (the slider), PPO's KL on one batch as
the epochs go by, and the saved TRPO-against-PPO runs.

The numbers come from ``trpo_lite.examples.ppo`` and ``trpo_lite.examples.ppo_runs``. ``clip_view``
builds its figure once and redraws it; the other two are drawn once.

Shapes: K ratios, E epoch counts, R seeds, I iterations.
"""

from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from trpo_lite.config import REWARD_THRESHOLDS
from trpo_lite.examples.ppo import RATIOS, clip_curves
from trpo_lite.examples.ppo_runs import Comparison
from trpo_lite.figures.style import plain_ticks, static_figure
from trpo_lite.language import language, tr

COLORS = {"plus": "tab:blue", "minus": "tab:orange", "trpo": "tab:blue", "ppo": "tab:red"}


@lru_cache(maxsize=2)
def _clip_figure(lang: str) -> dict:
    """The figure of ``clip_view`` (one per language) and the artists it moves."""
    fig = static_figure((13, 4.6))
    value, slope = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.985, bottom=0.14, top=0.84, wspace=0.2)
    art = {"fig": fig, "suptitle": fig.suptitle("")}
    for name, sign, label in (("plus", 1.0, tr("A = +1")), ("minus", -1.0, tr("A = -1"))):
        value.plot(RATIOS, sign * RATIOS, color=COLORS[name], lw=1.2, ls="--", alpha=0.7,
                   label=tr("ρA (E6), {label}", label=label))
        term_label = tr("L^CLIP term, {label}", label=label)
        (art["value_" + name],) = value.plot([], [], color=COLORS[name], label=term_label)
        (art["slope_" + name],) = slope.plot([], [], color=COLORS[name], label=label)
    for ax in (value, slope):
        art["band_" + str(id(ax))] = ax.axvspan(0.8, 1.2, color="gray", alpha=0.15)
        ax.axvline(1.0, color="black", lw=1, ls=":")
        ax.set(xlim=(0, 2), xlabel=tr("ratio ρ = π_new / π_old"))
        plain_ticks(ax.xaxis, [0, 0.5, 1, 1.5, 2])
    art["bands"] = [art.pop(k) for k in [k for k in art if k.startswith("band_")]]
    value.set(ylim=(-2.1, 2.1), ylabel=tr("one sample's objective"),
              title=tr("objective (dashed: unclipped)"))
    slope.set(ylim=(-1.3, 1.3), ylabel=tr("d/dρ"), title=tr("slope: 0 where the clip holds"))
    plain_ticks(value.yaxis, [-2, -1, 0, 1, 2])
    plain_ticks(slope.yaxis, [-1, 0, 1])
    value.legend(loc="upper left", fontsize=10)
    slope.legend(loc="upper left", fontsize=10)
    return art


def clip_view(clip_range: float = 0.2) -> Figure:
    """One sample's term of L^CLIP and its slope against rho, for A = +1 and A = -1, the range
    [1 - epsilon, 1 + epsilon] shaded (``examples.ppo.clip_curves``; clip_range one of CLIP_RANGES).
    Returns the same Figure on every call, redrawn."""
    c, art = clip_curves(clip_range), _clip_figure(language())
    for name in ("plus", "minus"):
        art["value_" + name].set_data(c["ratio"], c[name])
        art["slope_" + name].set_data(c["ratio"], c["slope_" + name])
    eps = c["clip_range"]
    for band in art["bands"]:
        band.set_x(1 - eps)
        band.set_width(2 * eps)
    art["suptitle"].set_text(tr("ε = {eps:.2f}: a sample stops earning once ρ leaves [{low:.2f}, {high:.2f}] "
                                "the way its advantage favours", eps=eps, low=1 - eps, high=1 + eps))
    return art["fig"]


def epochs_figure(numbers: dict) -> Figure:
    """PPO on one batch with more and more epochs (``examples.ppo.epoch_numbers``): the mean KL it took
    against delta and TRPO's step, and how many ratios ended outside the clip range."""
    fig = static_figure((13, 4.4))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.15, top=0.88, wspace=0.22)
    epochs = numbers["epochs"]
    left.plot(epochs, numbers["kl"], "o-", color=COLORS["ppo"], label=tr("PPO, ε = {eps}",
                                                                          eps=numbers["clip_range"]))
    left.axhline(numbers["trpo_kl"], color=COLORS["trpo"], label=tr("TRPO's step"))
    left.axhline(numbers["max_kl"], color="black", ls="--", label=tr("δ = {delta}", delta=numbers["max_kl"]))
    left.set(xscale="log", xlabel=tr("PPO epochs over the batch"), ylabel=tr("mean KL of the update"),
             title=tr("KL taken (E8)"))
    right.plot(epochs, 100 * numbers["outside"], "o-", color=COLORS["ppo"],
               label=tr("samples with |ρ - 1| > ε (%)"))
    right.set(xscale="log", xlabel=tr("PPO epochs over the batch"), ylabel=tr("% of the batch"),
              title=tr("ratios outside the clip range"))
    for ax in (left, right):
        plain_ticks(ax.xaxis, list(epochs))
        ax.legend(loc="upper left", fontsize=10)
    return fig


def comparison_figure(results: Comparison) -> Figure:
    """TRPO against PPO, one row per env: the return (seed mean bold, min-max band, every seed thin)
    and the mean KL of every update (log scale; dashed: delta)."""
    envs = list(results.meta["budgets"])
    fig = static_figure((13, 4.2 * len(envs)))
    axes = fig.subplots(len(envs), 2, squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.07, top=0.95, hspace=0.35, wspace=0.2)
    for (ret, kl), env_id in zip(axes, envs, strict=True):
        x = results.steps[env_id] / 1000
        for update in results.meta["updates"]:
            returns, kls, color = results.returns[env_id, update], results.kls[env_id, update], COLORS[update]
            # NaN before a seed's first finished episode: the seed statistics start where every seed has one
            ret.fill_between(x, returns.min(0), returns.max(0), color=color, alpha=0.15)
            ret.plot(x, returns.mean(0), color=color, lw=2.6, label=update.upper())
            ret.plot(x, returns.T, color=color, lw=0.7, alpha=0.5)
            kl.plot(x, kls.T, color=color, lw=0.8, alpha=0.6)
            kl.plot(x, np.median(kls, 0), color=color, lw=2.6, label=tr("{update}, median over seeds",
                                                                        update=update.upper()))
        delta = results.meta["configs"][env_id]["trpo"]["max_kl"]
        ret.axhline(REWARD_THRESHOLDS[env_id], color="black", lw=1, ls="--")
        kl.axhline(delta, color="black", ls="--", label=tr("δ = {delta}", delta=delta))
        ret.set(xlabel=tr("env steps (thousands)"), ylabel=tr("return (last 10 episodes)"),
                title=tr("{env}: return", env=env_id))
        kl.set(yscale="log", xlabel=tr("env steps (thousands)"), ylabel=tr("mean KL of the update"),
               title=tr("{env}: KL per update", env=env_id))
        ret.legend(loc="lower right", fontsize=10)
        kl.legend(loc="lower right", fontsize=10)
    return fig
