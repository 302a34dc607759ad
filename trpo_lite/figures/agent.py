"""Notebook 08's figures: learning curves, the diagnostics of a training history, an episode's
animation, and the settings view (the slider figure, built once and redrawn in place).

The numbers come from ``trpo_lite.examples.agent``; this module only draws them.

Shapes: I iterations, L lags, F frames, H x W x 3 pixels.
"""

import functools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

from trpo_lite.examples.agent import LAGS, RETURN, series, settings_numbers
from trpo_lite.figures.style import plain_ticks, static_figure
from trpo_lite.language import tr


def learning_curve_figure(runs: dict, key: str = RETURN, target: float | None = None, title: str = ""):
    """Every run's ``key`` against environment steps, one line per run (the last drawn boldest).

    Args:
        runs: label -> history; an empty history is skipped.
        key: the history key on the y axis.
        target: a horizontal line, e.g. the return that counts as solved.
    """
    fig, ax = plt.subplots(figsize=(7, 3.6))
    drawn = [(label, history) for label, history in runs.items() if len(history)]
    for i, (label, history) in enumerate(drawn):
        last = i == len(drawn) - 1
        ax.plot(series(history, "time/env_steps"), series(history, key), label=label,
                lw=2.6 if last else 1.6, alpha=1.0 if last else 0.6, color=f"C{i}")
    if target is not None:
        ax.axhline(target, color="gray", ls="--", lw=1.2, label=tr("solved ({target:g})", target=target))
    ax.set(xlabel=tr("environment steps"), ylabel=tr(key.split("/")[-1].replace("_", " ")), title=title)
    if drawn or target is not None:
        ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def diagnostics_figure(history, max_kl: float, title: str = ""):
    """Four panels per iteration: mean KL against delta (E8), line-search backtracks and rejections (E12),
    surrogate gain (E6) and the value function's explained variance (E13)."""
    it = np.arange(1, len(history) + 1)
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    (ax_kl, ax_bt), (ax_gain, ax_ev) = axes
    ax_kl.plot(it, series(history, "policy/kl"), ".-", lw=1, label=tr("mean KL after the update"))
    ax_kl.axhline(max_kl, color="C3", ls="--", label=tr("δ = {max_kl:g}", max_kl=max_kl))
    ax_kl.set(ylabel=tr("mean KL"), title=tr("trust region (E8)"), ylim=(0, 1.3 * max_kl))
    backtracks = series(history, "line_search/backtracks")
    rejected = ~series(history, "line_search/accepted").astype(bool)
    ax_bt.bar(it, backtracks, color="C1", label=tr("backtracks"))
    ax_bt.plot(it[rejected], backtracks[rejected], "x", color="C3", ms=10, mew=2,
               label=tr("rejected: θ kept"))
    ax_bt.set(ylabel=tr("backtracks"), title=tr("line search (E12)"),
              ylim=(0, max(1, backtracks.max()) + 0.5))
    ax_gain.plot(it, series(history, "policy/surrogate_gain"), ".-", lw=1, color="C2",
                 label=tr("L(θ′) − L(θ)"))
    ax_gain.axhline(0, color="gray", lw=1)
    ax_gain.set(xlabel=tr("iteration"), ylabel=tr("surrogate gain"), title=tr("surrogate gain (E6)"))
    ax_ev.plot(it, series(history, "value/explained_variance"), ".-", lw=1, color="C4",
               label=tr("1 − Var[target − V] / Var[target]"))
    ax_ev.set(xlabel=tr("iteration"), ylabel=tr("explained variance"), title=tr("value function (E13)"),
              ylim=(-1, 1.05))
    for ax in axes.flat:
        ax.legend(loc="best", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def episode_animation(frames, every: int = 10, scale: int = 3, fps: float = 50.0) -> str:
    """An HTML player (matplotlib ``to_jshtml``) of every ``every``-th frame, shrunk ``scale`` times.

    Args:
        frames: F RGB frames [H, W, 3], frames[t] after step t, e.g. from
            ``trpo_lite.persistence.render_episode`` (with its ``every`` a divisor of this one).
        every: keep frames 0, every, 2 every, ... (and the last one): few frames, a small page.
        scale: keep every ``scale``-th pixel row and column.
        fps: the environment's frame rate, so the animation plays in real time.
    """
    for name, value in (("every", every), ("scale", scale)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    if len(frames) == 0:
        raise ValueError("frames is empty: render an episode first")
    steps = sorted({*range(0, len(frames), every), len(frames) - 1})
    undrawn = [t for t in steps if frames[t] is None]
    if undrawn:
        raise ValueError(f"frames {undrawn[:3]} were not drawn: render_episode(..., every=k) draws every "
                         f"k-th step only; animate with every a multiple of k (got every={every})")
    small = [np.asarray(frames[t])[::scale, ::scale] for t in steps]
    height, width = small[0].shape[:2]
    fig = plt.figure(figsize=(width / 100, height / 100 + 0.3), dpi=100)
    ax = fig.add_axes((0, 0, 1, height / (height + 30)))
    ax.axis("off")
    image = ax.imshow(small[0])
    label = fig.text(0.02, 0.97, "", va="top", fontsize=10)

    def show_frame(i):
        image.set_data(small[i])
        label.set_text(tr("step {step} of {last}", step=steps[i], last=len(frames) - 1))
        return image, label

    player = animation.FuncAnimation(fig, show_frame, frames=len(small), interval=1000 * every / fps)
    page = player.to_jshtml(default_mode="loop")
    plt.close(fig)
    return page


@functools.cache
def _settings_figure() -> dict:
    """The figure of ``settings_view``, built once, and the artists a call moves (their data set by the call).

    Plain Unicode instead of mathtext and few, fixed ticks: text is most of a redraw's cost.
    """
    fig = static_figure((10, 3.4))
    ax_kl, ax_w = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.095, right=0.98, bottom=0.17, top=0.9, wspace=0.25)  # room for "0.005"
    art = {"fig": fig, "ax_kl": ax_kl, "kl_title": ax_kl.set_title("")}
    (art["reference_kl"],) = ax_kl.plot([], [], ".", color="gray", label=tr("reference run"))
    art["reference_delta"] = ax_kl.axhline(0, color="gray", ls="--")
    art["delta"] = ax_kl.axhline(0, color="C3", label=tr("δ"))
    ax_kl.set(xlabel=tr("iteration"), ylabel=tr("mean KL"))
    plain_ticks(ax_kl.xaxis, most=4)
    legend = ax_kl.legend(loc="lower right", fontsize=10)  # the KLs sit near delta_ref, above the bottom
    art["legend_texts"] = dict(zip(("reference_kl", "delta"), legend.get_texts(), strict=True))
    zeros = np.zeros(len(LAGS))
    (art["reference_weights"],) = ax_w.plot(LAGS, zeros, color="gray", ls="--", label=tr("reference λ"))
    (art["weights"],) = ax_w.plot(LAGS, zeros, color="C0", label=tr("λ"))
    ax_w.set(xlabel=tr("lag l"), ylabel=tr("weight (γλ)ˡ"), xlim=(-3, 62), ylim=(0, 1.05),
             title=tr("GAE weights on Δₜ₊ₗ (E13)"))
    plain_ticks(ax_w.xaxis, [0, 20, 40, 60])
    plain_ticks(ax_w.yaxis, [0, 0.5, 1])
    legend = ax_w.legend(loc="upper right", fontsize=10)
    art["legend_texts"] |= dict(zip(("reference_weights", "weights"), legend.get_texts(), strict=True))
    return art


def _relabel(art: dict, key: str, label: str) -> None:
    """Relabel the line art[key] and its legend entry."""
    art[key].set_label(label)
    art["legend_texts"][key].set_text(label)


def settings_view(history, max_kl: float, lam: float, gamma: float = 0.99, ref_max_kl: float = 0.01,
                  ref_lam: float = 0.95):
    """What the sliders change, before any training: the trust region against the reference run's KLs
    (E8, E9) and the GAE weights (gamma lam)^l on Delta_{t+l} (E13), for lags l = 0..59.

    history: the reference run's rows, its "policy/kl" [I] drawn; max_kl, lam: the sliders; gamma,
    ref_max_kl, ref_lam: the reference run's settings (the numbers: ``examples.agent.settings_numbers``).
    The figure is built once: every call returns the same Figure, redrawn from its arguments alone.
    """
    numbers = settings_numbers(history, max_kl, lam, gamma, ref_max_kl, ref_lam)
    art = _settings_figure()
    kl = numbers["kl"]
    art["reference_kl"].set_data(np.arange(1, len(kl) + 1), kl)
    art["reference_delta"].set_ydata([ref_max_kl, ref_max_kl])
    art["delta"].set_ydata([max_kl, max_kl])
    _relabel(art, "reference_kl", tr("reference run (δ = {ref_max_kl:g})", ref_max_kl=ref_max_kl))
    _relabel(art, "delta", tr("δ = {max_kl:g}", max_kl=max_kl))
    iterations = max(len(kl), 1)
    margin = max(0.05 * (iterations - 1), 0.5)
    top = max(max_kl, ref_max_kl)
    art["ax_kl"].set_xlim(1 - margin, iterations + margin)
    art["ax_kl"].set_ylim(0, 1.15 * top)
    plain_ticks(art["ax_kl"].yaxis, [0, top / 2, top])
    art["kl_title"].set_text(tr("full steps {ratio:.2f}x as long as the reference's",
                                ratio=numbers["step_ratio"]))
    for key, value, horizon in (("reference_weights", ref_lam, "reference_horizon"),
                                ("weights", lam, "horizon")):
        art[key].set_ydata(numbers[key])
        _relabel(art, key, tr("λ = {lam:.2f}: horizon {horizon:.1f} steps", lam=value,
                              horizon=numbers[horizon]))
    return art["fig"]
