"""Notebook 08's views: the assembled agent (E14) trained live, its diagnostics, an animation, retraining.

A training history is the list of per-iteration dicts that ``trpo_lite.training.train``
returns (keys such as ``rollout/return_last10``, ``policy/kl``, ``line_search/backtracks``).
``LiveCurve`` is a ``train`` callback that redraws the learning curve while training runs;
``retrain`` is the plain function behind the notebook's button, ``train_button`` the wiring.

Shapes: I iterations, F frames, H x W x 3 pixels.
"""

import functools
import html
import math
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from matplotlib import animation
from matplotlib.ticker import MaxNLocator

from trpo_lite.figures.style import static_figure
from trpo_lite.training import train
from trpo_lite.widgets import to_png

RETURN = "rollout/return_last10"
CARTPOLE_SOLVED = 475.0  # gymnasium's reward_threshold for CartPole-v1
LAGS = np.arange(60)  # [L] the lags l that settings_view draws


def series(history, key: str) -> np.ndarray:
    """[I] the values of one key over the iterations of a history (NaN where an iteration lacks it)."""
    return np.array([float(row.get(key, math.nan)) for row in history])


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
        ax.axhline(target, color="gray", ls="--", lw=1.2, label=f"solved ({target:g})")
    ax.set(xlabel="environment steps", ylabel=key.split("/")[-1].replace("_", " "), title=title)
    if drawn or target is not None:
        ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


class LiveCurve:
    """A ``train`` callback: keeps the rows and redraws the learning curve at most every ``min_interval`` s.

    Without ``output`` it draws into a display handle (updated in place, so a headless
    run stores the last picture); with an ``ipywidgets.Output`` it redraws in there (a
    button's callback). Call ``draw()`` once after training for the final picture.

    Args:
        reference: label -> history drawn behind this run (e.g. earlier runs).
        label: this run's legend entry. target, title: as in ``learning_curve_figure``.
        output: an ipywidgets Output, or None for a display handle.
        min_interval: seconds between redraws; each redraw costs about 0.1 s of training time.
    """

    def __init__(self, reference: dict | None = None, label: str = "this run", target: float | None = None,
                 title: str = "", output=None, min_interval: float = 1.0):
        self.reference, self.label, self.target, self.title = dict(reference or {}), label, target, title
        self.output, self.min_interval = output, min_interval
        self.rows, self.draws, self._handle, self._last = [], 0, None, -math.inf

    def __call__(self, row: dict) -> None:
        self.rows.append(row)
        if time.perf_counter() - self._last >= self.min_interval:
            self.draw()

    def draw(self) -> None:
        """Redraw now, with every row received so far."""
        # this run last (drawn boldest), even if an earlier run had the same label
        runs = {k: v for k, v in self.reference.items() if k != self.label} | {self.label: self.rows}
        picture = Image(to_png(learning_curve_figure(runs, target=self.target, title=self.title)))
        if self.output is not None:
            self.output.clear_output(wait=True)  # replace the picture, no flicker
            with self.output:
                display(picture)
        elif self._handle is None:
            self._handle = display(picture, display_id=True)
        else:
            self._handle.update(picture)
        self.draws += 1
        self._last = time.perf_counter()


def diagnostics(history, max_kl: float) -> dict:
    """What the E14 loop promises, counted over a history: numbers for the assertions under the figure.

    kl_max (largest mean KL after an update), kl_within (fraction of iterations with KL <= max_kl, E8),
    rejected (line searches that kept theta, E12), backtracks (total shrinks), gain_positive (fraction
    of accepted updates with L(theta') > L(theta), E6), explained_variance_first / _last (median of the
    first / last 10 iterations' V, E13).
    """
    if len(history) == 0:
        raise ValueError("history is empty: train for at least one iteration first")
    kl, accepted = series(history, "policy/kl"), series(history, "line_search/accepted").astype(bool)
    gain, ev = series(history, "policy/surrogate_gain"), series(history, "value/explained_variance")
    return {
        "iterations": len(history),
        "kl_max": float(kl.max()),
        "kl_within": float(np.mean(kl <= max_kl)),
        "rejected": int((~accepted).sum()),
        "backtracks": int(series(history, "line_search/backtracks").sum()),
        "gain_positive": float(np.mean(gain[accepted] > 0)) if accepted.any() else math.nan,
        "explained_variance_first": float(np.nanmedian(ev[:10])),
        "explained_variance_last": float(np.nanmedian(ev[-10:])),
    }


def learning_summary(history, target: float | None = None, key: str = RETURN) -> dict:
    """How a learning curve went: final and best value of ``key``, the largest drop from an earlier best
    (how much learned return a run lost on the way), and the first environment step count at which it
    reached ``target`` (None if never). NaN entries (no finished episode yet) are skipped."""
    values, steps = series(history, key), series(history, "time/env_steps")
    seen = ~np.isnan(values)
    values, steps = values[seen], steps[seen]
    if len(values) == 0:
        return {"final": math.nan, "best": math.nan, "largest_drop": math.nan, "steps_to_target": None}
    reached = np.flatnonzero(values >= target) if target is not None else []
    return {
        "final": float(values[-1]),
        "best": float(values.max()),
        "largest_drop": float((np.maximum.accumulate(values) - values).max()),
        "steps_to_target": int(steps[reached[0]]) if len(reached) else None,
    }


def diagnostics_figure(history, max_kl: float, title: str = ""):
    """Four panels per iteration: mean KL against delta (E8), line-search backtracks and rejections (E12),
    surrogate gain (E6) and the value function's explained variance (E13)."""
    it = np.arange(1, len(history) + 1)
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    (ax_kl, ax_bt), (ax_gain, ax_ev) = axes
    ax_kl.plot(it, series(history, "policy/kl"), ".-", lw=1, label="mean KL after the update")
    ax_kl.axhline(max_kl, color="C3", ls="--", label=rf"$\delta$ = {max_kl:g}")
    ax_kl.set(ylabel="mean KL", title="trust region (E8)", ylim=(0, 1.3 * max_kl))
    backtracks = series(history, "line_search/backtracks")
    rejected = ~series(history, "line_search/accepted").astype(bool)
    ax_bt.bar(it, backtracks, color="C1", label="backtracks")
    ax_bt.plot(it[rejected], backtracks[rejected], "x", color="C3", ms=10, mew=2,
               label=r"rejected: $\theta$ kept")
    ax_bt.set(ylabel="backtracks", title="line search (E12)", ylim=(0, max(1, backtracks.max()) + 0.5))
    ax_gain.plot(it, series(history, "policy/surrogate_gain"), ".-", lw=1, color="C2",
                 label=r"$L(\theta') - L(\theta)$")
    ax_gain.axhline(0, color="gray", lw=1)
    ax_gain.set(xlabel="iteration", ylabel="surrogate gain", title="surrogate gain (E6)")
    ax_ev.plot(it, series(history, "value/explained_variance"), ".-", lw=1, color="C4",
               label="1 - Var[target - V] / Var[target]")
    ax_ev.set(xlabel="iteration", ylabel="explained variance", title="value function (E13)", ylim=(-1, 1.05))
    for ax in axes.flat:
        ax.legend(loc="best", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def episode_animation(frames, every: int = 10, scale: int = 3, fps: float = 50.0) -> str:
    """An HTML player (matplotlib ``to_jshtml``) of every ``every``-th frame, shrunk ``scale`` times.

    Args:
        frames: F RGB frames [H, W, 3], e.g. from ``trpo_lite.persistence.render_episode``.
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
    small = [np.asarray(frames[t])[::scale, ::scale] for t in steps]
    height, width = small[0].shape[:2]
    fig = plt.figure(figsize=(width / 100, height / 100 + 0.3), dpi=100)
    ax = fig.add_axes((0, 0, 1, height / (height + 30)))
    ax.axis("off")
    image = ax.imshow(small[0])
    label = fig.text(0.02, 0.97, "", va="top", fontsize=10)

    def show_frame(i):
        image.set_data(small[i])
        label.set_text(f"step {steps[i]} of {len(frames) - 1}")
        return image, label

    player = animation.FuncAnimation(fig, show_frame, frames=len(small), interval=1000 * every / fps)
    page = player.to_jshtml(default_mode="loop")
    plt.close(fig)
    return page


def gae_horizon(gamma: float, lam: float) -> float:
    """1 / (1 - gamma lam): the total weight sum_l (gamma lam)^l of the TD residuals in A_t (E13)."""
    return math.inf if gamma * lam >= 1 else 1.0 / (1.0 - gamma * lam)


@functools.cache
def _settings_figure() -> dict:
    """The figure of ``settings_view``, built once, and the artists a call moves (their data set by the call).

    Plain Unicode instead of mathtext and few, fixed ticks: text is most of a redraw's cost.
    """
    fig = static_figure((10, 3.4))
    ax_kl, ax_w = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.095, right=0.98, bottom=0.17, top=0.9, wspace=0.25)  # room for "0.005"
    art = {"fig": fig, "ax_kl": ax_kl, "kl_title": ax_kl.set_title("")}
    (art["reference_kl"],) = ax_kl.plot([], [], ".", color="gray", label="reference run")
    art["reference_delta"] = ax_kl.axhline(0, color="gray", ls="--")
    art["delta"] = ax_kl.axhline(0, color="C3", label="δ")
    ax_kl.set(xlabel="iteration", ylabel="mean KL")
    ax_kl.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))
    legend = ax_kl.legend(loc="lower right", fontsize=10)  # the KLs sit near delta_ref, above the bottom
    art["legend_texts"] = dict(zip(("reference_kl", "delta"), legend.get_texts(), strict=True))
    zeros = np.zeros(len(LAGS))
    (art["reference_weights"],) = ax_w.plot(LAGS, zeros, color="gray", ls="--", label="reference λ")
    (art["weights"],) = ax_w.plot(LAGS, zeros, color="C0", label="λ")
    ax_w.set(xlabel="lag l", ylabel="weight (γλ)ˡ", xlim=(-3, 62), ylim=(0, 1.05),
             title="GAE weights on δₜ₊ₗ (E13)")
    ax_w.set_xticks([0, 20, 40, 60], ["0", "20", "40", "60"])
    ax_w.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
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
    (E8, E9) and the GAE weights (gamma lam)^l on delta_{t+l} (E13), for lags l = 0..59.

    The full step is sqrt(2 delta / x^T H x) x (E9), so its length grows like sqrt(delta). history: the
    reference run's rows, its "policy/kl" [I] drawn; max_kl, lam: the sliders; gamma, ref_max_kl, ref_lam:
    the reference run's settings. The figure is built once: every call returns the same Figure, redrawn
    from its arguments alone.
    """
    art = _settings_figure()
    kl = series(history, "policy/kl")  # [I]
    art["reference_kl"].set_data(np.arange(1, len(kl) + 1), kl)
    art["reference_delta"].set_ydata([ref_max_kl, ref_max_kl])
    art["delta"].set_ydata([max_kl, max_kl])
    _relabel(art, "reference_kl", f"reference run (δ = {ref_max_kl:g})")
    _relabel(art, "delta", f"δ = {max_kl:g}")
    iterations = max(len(kl), 1)
    margin = max(0.05 * (iterations - 1), 0.5)
    top = max(max_kl, ref_max_kl)
    art["ax_kl"].set_xlim(1 - margin, iterations + margin)
    art["ax_kl"].set_ylim(0, 1.15 * top)
    art["ax_kl"].set_yticks([0, top / 2, top], ["0", f"{top / 2:g}", f"{top:g}"])
    art["kl_title"].set_text(f"full steps {math.sqrt(max_kl / ref_max_kl):.2f}x as long as the reference's")
    for key, value in (("reference_weights", ref_lam), ("weights", lam)):
        art[key].set_ydata((gamma * value) ** LAGS)
        _relabel(art, key, f"λ = {value:.2f}: horizon {gae_horizon(gamma, value):.1f} steps")
    return art["fig"]


def retrain(max_kl: float, lam: float, seed: int = 0, total_steps: int = 30_000, callback=None,
            progress: bool = False, env_id: str = "CartPole-v1"):
    """Train env_id's preset with trust-region radius delta = max_kl and GAE lambda = lam (E14).

    The plain function behind the notebook's button. Returns the history (list of per-iteration
    dicts); bad settings raise ValueError from ``TRPOConfig`` naming the field.
    """
    _, history = train(env_id, seed=seed, callback=callback, progress=progress, max_kl=max_kl, lam=lam,
                       total_steps=total_steps)
    return history


def run_label(max_kl: float, lam: float, taken=()) -> str:
    """'delta 0.01, lambda 0.95', numbered '(2)', '(3)', ... when ``taken`` already holds that label."""
    label = base = f"delta {max_kl:g}, lambda {lam:.2f}"
    count = 1
    while label in taken:
        count += 1
        label = f"{base} ({count})"
    return label


def train_button(controls: dict, runs: dict, total_steps: int = 30_000, seed: int = 0) -> widgets.VBox:
    """A button that retrains CartPole-v1 with the controls' ``max_kl`` and ``lam`` values.

    While it trains the button is disabled, a line says so, and a tqdm bar and a live
    curve (this run against every run in ``runs``) show progress. Each finished run is
    added to ``runs`` (label -> history), so the next one is drawn against it.
    """
    button = widgets.Button(description="Train CartPole", button_style="primary", icon="play")
    status = widgets.HTML(value="Choose delta and lambda, then press the button.")
    progress, plot = widgets.Output(), widgets.Output()

    def on_click(_):
        max_kl, lam = controls["max_kl"].value, controls["lam"].value
        label = run_label(max_kl, lam, taken=runs)
        button.disabled = True
        status.value = f"<b>Training</b> CartPole-v1 with {label} for {total_steps:,} steps ..."
        progress.clear_output()
        live = LiveCurve(reference=runs, label=label, target=CARTPOLE_SOLVED, output=plot,
                         title=f"CartPole-v1, {label}")
        start = time.perf_counter()
        try:
            with progress:
                history = retrain(max_kl, lam, seed, total_steps, callback=live, progress=True)
            live.draw()
            runs[label] = history
            status.value = (f"Done in {time.perf_counter() - start:.0f} s: last-10 return "
                            f"{history[-1][RETURN]:.0f}. Change the sliders and train again to compare.")
        except Exception as exc:  # an exception in a widget callback would reach only the log
            status.value = f"<b>Training failed</b>: {html.escape(repr(exc))}"
        finally:
            button.disabled = False

    button.on_click(on_click)
    return widgets.VBox([widgets.HBox([button, status]), progress, plot])
