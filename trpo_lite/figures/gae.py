"""Notebook 07's figures: a [T, N] batch's timeline of GAE advantages, and the bias-variance slider view.

The numbers come from ``trpo_lite.examples.gae`` (episode pieces) and
``trpo_lite.examples.gae_study`` (the precomputed study); this module only draws them.

Shapes: T time steps, N environments, L lambdas, T_e steps of the example episode.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite._validate import check_shape
from trpo_lite.examples.gae import episode_segments
from trpo_lite.examples.gae_study import BiasVarianceStudy, bias_variance_numbers
from trpo_lite.figures.style import static_figure


def draw_timeline(advantages, terminated, truncated, title: str = "a [T, N] batch and its GAE advantages"):
    """Draw advantages [T, N]: one row of steps per env, coloured by episode, A_t above, ends marked."""
    advantages = np.asarray(advantages, dtype=float)
    check_shape("terminated", np.asarray(terminated), advantages.shape, like="advantages")
    n_steps, n_envs = advantages.shape
    fig, ax = plt.subplots(figsize=(1.1 * n_steps + 2, 1.1 * n_envs + 1.2))
    ends = {"terminated": ("X", "tab:red", "terminated: V(next) = 0"),
            "truncated": ("|", "tab:orange", "truncated: bootstrap V(last obs)"),
            "batch end": (">", "tab:gray", "batch end: bootstrap")}
    for i, (n, start, stop, how) in enumerate(episode_segments(terminated, truncated)):
        steps = np.arange(start, stop + 1)
        ax.plot(steps, np.full(steps.shape, n), "o-", color=f"C{i % 10}", markersize=10)
        marker, color, label = ends[how]
        ax.plot(stop + 0.5, n, marker, color=color, markersize=16, mew=3, label=label)
        for t in steps:
            ax.text(t, n - 0.22, f"{advantages[t, n]:+.2f}", ha="center", fontsize=10)  # y axis points down
    handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    ax.legend(handles.values(), handles.keys(), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set(xlabel="step t", ylabel="env n", title=title, xticks=range(n_steps), yticks=range(n_envs),
           ylim=(n_envs - 0.4, -0.6))
    fig.tight_layout()
    return fig


def make_bias_variance_view(study: BiasVarianceStudy):
    """The slider view of a study: returns view(gamma, lam) -> Figure, for values on the study's grid.

    Left: bias², variance and MSE of GAE against lam at this gamma, the chosen
    lam circled; right: one episode's A_t against its target
    (``examples.gae_study.bias_variance_numbers``). The figure is built once and
    each call only swaps in precomputed numbers, so a slider move costs one
    redraw; every call returns the same Figure, updated.
    """
    lams = np.asarray(study.lams)
    steps = np.arange(study.episode_targets.shape[1])
    fig = static_figure((12.5, 4.4))
    left, right = fig.subplots(1, 2, gridspec_kw={"wspace": 0.25})
    fig.subplots_adjust(left=0.085, right=0.985, bottom=0.13, top=0.9)
    curves = {
        "bias2": left.plot(lams, lams, "o-", color="C0", label="bias² (sampled)")[0],
        "exact_bias2": left.plot(lams, lams, "--", color="black", lw=1.5, label="bias² (exact)")[0],
        "variance": left.plot(lams, lams, "s-", color="C1", label="variance")[0],
        "mse": left.plot(lams, lams, ":", color="C2", label="MSE = bias² + variance")[0],
    }
    chosen = left.plot([0, 0], [0, 0], "o", ms=14, mfc="none", mec="red", mew=2, gid="chosen")[0]
    left.set(xlabel="lambda", ylabel="mean over visited (s, a)")
    left.legend(loc="upper center")
    target = right.plot(steps, steps, "o--", ms=4, color="black", label="target Q(s,a) - V_hat(s)")[0]
    estimate = right.plot(steps, steps, "o-", ms=4, color="red", label="GAE")[0]
    right.set(xlabel="step t", ylabel="advantage", title="one episode (it reaches the goal)")
    legend = right.legend(loc="upper left")

    def view(gamma: float, lam: float) -> Figure:
        numbers = bias_variance_numbers(study, gamma, lam)
        for name, curve in curves.items():
            curve.set_ydata(numbers[name])
        l, bias2, variance = numbers["lam_index"], numbers["bias2"], numbers["variance"]
        chosen.set_data([lam, lam], [bias2[l], variance[l]])
        left.set_title(f"gamma = {gamma}, lambda = {lam}: bias² {bias2[l]:.1e}, var {variance[l]:.1e}")
        target.set_ydata(numbers["episode_targets"])
        estimate.set_ydata(numbers["episode_estimates"])
        legend.get_texts()[1].set_text(f"GAE, lambda = {lam}")
        for ax in (left, right):
            ax.relim()
            ax.autoscale_view()
        return fig

    return view
