"""Notebook 07's figures: a [T, N] batch's timeline of GAE advantages, the truncation error, the
bias-variance slider view and the policy gradient's error against lambda.

The numbers come from ``trpo_lite.examples.gae`` (episode pieces, truncation),
``trpo_lite.examples.gae_study`` (the precomputed study) and
``trpo_lite.examples.gae_gradient``; this module only draws them.

Shapes: T time steps, N environments, L lambdas, T_e steps of the example episode.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trpo_lite._validate import check_shape
from trpo_lite.examples.gae import episode_segments
from trpo_lite.examples.gae_study import BiasVarianceStudy, bias_variance_numbers
from trpo_lite.figures.style import static_figure
from trpo_lite.language import tr


def draw_timeline(advantages, terminated, truncated, title: str | None = None):
    """Draw advantages [T, N]: one row of steps per env, coloured by episode, A_t above, ends marked."""
    title = tr("a [T, N] batch and its GAE advantages") if title is None else title
    advantages = np.asarray(advantages, dtype=float)
    check_shape("terminated", np.asarray(terminated), advantages.shape, like="advantages")
    n_steps, n_envs = advantages.shape
    fig, ax = plt.subplots(figsize=(1.1 * n_steps + 2, 1.1 * n_envs + 1.2))
    ends = {"terminated": ("X", "tab:red", tr("terminated: V(next) = 0")),
            "truncated": ("|", "tab:orange", tr("truncated: bootstrap V(last obs)")),
            "batch end": (">", "tab:gray", tr("batch end: bootstrap"))}
    for i, (n, start, stop, how) in enumerate(episode_segments(terminated, truncated)):
        steps = np.arange(start, stop + 1)
        ax.plot(steps, np.full(steps.shape, n), "o-", color=f"C{i % 10}", markersize=10)
        marker, color, label = ends[how]
        ax.plot(stop + 0.5, n, marker, color=color, markersize=16, mew=3, label=label)
        for t in steps:
            ax.text(t, n - 0.22, f"{advantages[t, n]:+.2f}", ha="center", fontsize=10)  # y axis points down
    handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    ax.legend(handles.values(), handles.keys(), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set(xlabel=tr("step t"), ylabel=tr("env n"), title=title, xticks=range(n_steps), yticks=range(n_envs),
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
        "bias2": left.plot(lams, lams, "o-", color="C0", label=tr("bias² (sampled)"))[0],
        "exact_bias2": left.plot(lams, lams, "--", color="black", lw=1.5, label=tr("bias² (exact)"))[0],
        "variance": left.plot(lams, lams, "s-", color="C1", label=tr("variance"))[0],
        "mse": left.plot(lams, lams, ":", color="C2", label=tr("MSE = bias² + variance"))[0],
    }
    chosen = left.plot([0, 0], [0, 0], "o", ms=14, mfc="none", mec="red", mew=2, gid="chosen")[0]
    left.set(xlabel=tr("λ"), ylabel=tr("mean over visited (s, a)"))
    left.legend(loc="upper center")
    target = right.plot(steps, steps, "o--", ms=4, color="black", label=tr("target Q(s, a) − V̂(s)"))[0]
    estimate = right.plot(steps, steps, "o-", ms=4, color="red", label=tr("GAE"))[0]
    right.set(xlabel=tr("step t"), ylabel=tr("advantage"), title=tr("one episode (it reaches the goal)"))
    legend = right.legend(loc="upper left")

    def view(gamma: float, lam: float) -> Figure:
        numbers = bias_variance_numbers(study, gamma, lam)
        for name, curve in curves.items():
            curve.set_ydata(numbers[name])
        l, bias2, variance = numbers["lam_index"], numbers["bias2"], numbers["variance"]
        chosen.set_data([lam, lam], [bias2[l], variance[l]])
        left.set_title(tr("γ = {gamma}, λ = {lam}: bias² {bias2:.1e}, variance {variance:.1e}", gamma=gamma,
                          lam=lam, bias2=bias2[l], variance=variance[l]))
        target.set_ydata(numbers["episode_targets"])
        estimate.set_ydata(numbers["episode_estimates"])
        legend.get_texts()[1].set_text(tr("GAE, λ = {lam}", lam=lam))
        for ax in (left, right):
            ax.relim()
            ax.autoscale_view()
        return fig

    return view


def truncation_figure(bias: dict, gamma: float, lam: float, limit: int):
    """The mean error of A_t per step under a time limit (``examples.gae.truncation_bias``), ± 2 s.e.:
    the truncation bootstrapped from V against treated as a termination."""
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    for name, label, color in (("bootstrap", tr("truncation bootstraps V(last obs)"), "C0"),
                               ("as_terminal", tr("truncation treated as termination"), "C3")):
        ax.errorbar(bias["steps"], bias[name], yerr=2 * bias[f"{name}_se"], fmt="o-", color=color, capsize=3,
                    label=label)
    ax.axhline(0, color="black", lw=1)
    ax.set(xlabel=tr("step t (time limit after step {last})", last=limit - 1),
           ylabel=tr("mean of Â_t − A^π(s_t, a_t)"),
           title=tr("FrozenLake-v1, exact V, γ = {gamma}, λ = {lam}", gamma=gamma, lam=lam))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower left")
    return fig


def gradient_error_figure(gradients: dict, errors, episodes, agent_lam: float = 0.95):
    """Left: per-sample MSE and the policy gradient's direction error (degrees) against lambda; right:
    the expected squared error of a batch gradient, relative to |g*|², for batches of B episodes
    (``examples.gae_gradient``), each curve's minimum marked."""
    lams = gradients["lams"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 4.4), layout="constrained")
    left.plot(lams, gradients["mse"], "o-", color="C2", label=tr("per-sample MSE (section 3)"))
    left.set(xlabel=tr("λ"), ylabel=tr("per-sample MSE"))
    twin = left.twinx()
    twin.plot(lams, gradients["angle"], "s-", color="C0", label=tr("angle between E[ĝ] and g* (degrees)"))
    twin.set_ylabel(tr("direction error of E[ĝ] (degrees)"))
    handles = left.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="upper center")
    left.set_title(tr("one sample against the gradient's expectation"))
    for i, (b, row) in enumerate(zip(episodes, errors, strict=True)):
        right.plot(lams, row, "o-", ms=4, color=f"C{i}", label=tr("B = {b} episodes", b=b))
        best = int(np.argmin(row))
        right.plot(lams[best], row[best], "*", ms=16, color=f"C{i}", mec="black")
    right.axvline(agent_lam, color="gray", ls="--", label=tr("the agent's λ = {lam}", lam=agent_lam))
    right.set(xlabel=tr("λ"), ylabel=tr("E|ĝ − g*|² / |g*|²"), yscale="log",
              title=tr("a batch's gradient: bias² + variance / B (★ = best λ)"))
    right.legend(loc="upper left", fontsize=9)
    return fig
