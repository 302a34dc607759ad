"""Views for notebook 02: the discounted state visitation nu (E4) and the surrogate L against J (E5).

The MDP is FrozenLake-v1 4x4 through ``FiniteMDP.from_toy_text``: 16 cells plus the absorbing
state (index 16) that every episode ends in. Grid views drop that state; the titles report its
mass. ``precompute`` walks the slider grids once, so a slider move only indexes arrays and redraws:
each slider view builds its figure once and returns that same Figure, updated, on every call.

Shapes: S states (17 here), A actions (4), E episodes.
"""

from dataclasses import dataclass, replace
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trpo_lite import tabular
from trpo_lite.examples.frozen_lake import tabular_policy
from trpo_lite.figures.grid import GridHeatmap, grid_heatmap
from trpo_lite.figures.style import padded_limits, static_figure
from trpo_lite.tabular import mixture  # imported by name: the notebook shows it as views.mixture

GAMMAS = np.round(0.5 + 0.01 * np.arange(50), 2)  # the gamma slider: 0.50, 0.51, ..., 0.99
ALPHAS = np.round(np.linspace(0.0, 1.0, 51), 2)  # the alpha slider: 0.00, 0.02, ..., 1.00
BESIDE_GOAL, LEFT = 14, 0  # FrozenLake 4x4: the one cell the goal is reached from; action "left"
PATHS = ("greedy", "greedy, but steps left beside the goal")
GRID = (4, 4)  # the cells of FrozenLake-v1 4x4 that the slider views draw (rows, cols)
SHARES = ("start cell S", "rest of the grid", "episode over (absorbing state)")  # where nu's mass sits


def greedy_step(mdp: tabular.FiniteMDP, pi_old) -> np.ndarray:
    """[S, A] the policy-iteration step: in every state the action with the largest A^old(s, a) (E2)."""
    return np.eye(mdp.n_actions)[tabular.advantages(mdp, pi_old).argmax(1)]


def flawed_step(mdp: tabular.FiniteMDP, pi_old) -> np.ndarray:
    """[S, A] ``greedy_step``, except that beside the goal it steps left, so it never reaches the goal.

    Its J is 0, yet L promises a gain: the old policy seldom stands beside the goal
    (nu^old is small there), so L hardly charges for the bad action; the new policy walks
    there on purpose, so J pays in full.
    """
    if (mdp.n_states, mdp.n_actions) != (17, 4):
        raise ValueError(
            f"flawed_step is written for FrozenLake-v1 4x4 (17 states with the absorbing one, 4 actions); "
            f"got an MDP with {mdp.n_states} states and {mdp.n_actions} actions"
        )
    pi_new = greedy_step(mdp, pi_old)
    pi_new[BESIDE_GOAL] = np.eye(mdp.n_actions)[LEFT]
    return pi_new


@dataclass(frozen=True)
class VisitationData:
    """What the views draw, computed once over the slider grids for the uniform old policy.

    Index order [path, gamma, alpha, state]; paths as in ``PATHS``.
    """

    desc: np.ndarray  # [rows, cols] the map (env.unwrapped.desc)
    gammas: np.ndarray  # the gamma slider values
    alphas: np.ndarray  # the alpha slider values
    nu_old: np.ndarray  # [len(gammas), S] nu of pi_old (E4)
    J: np.ndarray  # [len(PATHS), len(gammas), len(alphas)] J(pi_alpha) (E1)
    L: np.ndarray  # same shape: L_old(pi_alpha) (E5)
    gap_by_state: np.ndarray  # [len(PATHS), len(gammas), len(alphas), S] each state's share of J - L


def precompute(env, gammas=GAMMAS, alphas=ALPHAS) -> VisitationData:
    """J, L and the gap's sources along both paths from the uniform policy, for every slider value.

    J and L differ only in the visitation (E4 against E5), so
    J - L = 1/(1 - gamma) sum_s (nu^alpha(s) - nu^old(s)) sum_a pi_alpha(a|s) A^old(s, a);
    ``gap_by_state`` holds the terms of that sum.
    """
    base = tabular.FiniteMDP.from_toy_text(env, float(gammas[0]))
    shape = (len(PATHS), len(gammas), len(alphas))
    J, L, gap_by_state = np.zeros(shape), np.zeros(shape), np.zeros(shape + (base.n_states,))
    nu_old = np.zeros((len(gammas), base.n_states))
    pi_old = base.uniform_policy()
    for g, gamma in enumerate(gammas):
        mdp = replace(base, gamma=float(gamma))
        nu_old[g] = tabular.visitation(mdp, pi_old)
        A_old = tabular.advantages(mdp, pi_old)
        for p, step in enumerate((greedy_step, flawed_step)):
            pi_new = step(mdp, pi_old)
            for k, alpha in enumerate(alphas):
                pi_alpha = mixture(pi_old, pi_new, alpha)
                J[p, g, k] = tabular.objective(mdp, pi_alpha)
                L[p, g, k] = tabular.surrogate(mdp, pi_old, pi_alpha)
                shift = tabular.visitation(mdp, pi_alpha) - nu_old[g]
                gap_by_state[p, g, k] = shift * (pi_alpha * A_old).sum(1) / (1 - gamma)
    desc = np.asarray(env.unwrapped.desc)
    return VisitationData(desc, np.asarray(gammas), np.asarray(alphas), nu_old, J, L, gap_by_state)


def _index(grid: np.ndarray, value: float, name: str) -> int:
    i = int(np.abs(grid - value).argmin())
    if abs(grid[i] - value) > 1e-6:
        raise ValueError(
            f"{name} must be a slider value, {grid[0]:g} to {grid[-1]:g} in steps of "
            f"{grid[1] - grid[0]:g}; got {value!r}"
        )
    return i


def _path_index(path: str) -> int:
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}; got {path!r}")
    return PATHS.index(path)


@cache
def _visitation_figure() -> dict:
    """The figure of ``visitation_view`` and the artists it moves: the grid, and per share of nu
    (``SHARES``) its curve against gamma and the dot at the chosen gamma."""
    fig = static_figure((12, 4.6))
    ax_grid, ax_gamma = fig.subplots(1, 2, width_ratios=[1, 1.25])
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.14, top=0.86, wspace=0.1)
    # A fixed title height: otherwise every draw measures the tick labels to see if the title must move up.
    for ax in (ax_grid, ax_gamma):
        ax.set_title("", y=1.0)
    art = {"fig": fig, "grid": ax_grid, "gamma": ax_gamma, "curves": [], "dots": [],
           "heat": GridHeatmap(ax_grid, np.full(GRID, ""), fmt="{:.3f}")}
    for i, label in enumerate(SHARES):
        art["curves"].append(ax_gamma.plot([], [], color=f"C{i}", label=label)[0])
        art["dots"].append(ax_gamma.plot([], [], "o", color=f"C{i}", markersize=9)[0])
    art["now"] = ax_gamma.axvline(0.0, color="grey", lw=1, ls=":")
    ax_gamma.set(xlabel="γ", ylabel="share of ν", ylim=(0, 1), title="where the mass of ν sits")
    # Few, fixed ticks with plain-text labels: tick labels are most of a redraw's cost (100 ms budget).
    ax_gamma.set_xticks([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], ["0.5", "0.6", "0.7", "0.8", "0.9", "1.0"])
    ax_gamma.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0", "0.25", "0.5", "0.75", "1"])
    ax_gamma.legend(loc="center left")
    return art


def visitation_view(data: VisitationData, gamma: float) -> Figure:
    """nu of the uniform policy (E4) on the grid, and how its mass moves as gamma grows.

    Returns the same Figure on every call, redrawn for data and gamma.
    """
    g = _index(data.gammas, gamma, "gamma")
    nu, art = data.nu_old[g], _visitation_figure()
    art["grid"].title.set_text(
        f"ν of the uniform policy, γ = {data.gammas[g]:.2f}\nepisode over (absorbing state): {nu[-1]:.3f}")
    art["heat"].update(nu, desc=data.desc)
    start = int(np.flatnonzero(data.desc.ravel() == b"S")[0])
    shares = [data.nu_old[:, start], 1 - data.nu_old[:, start] - data.nu_old[:, -1], data.nu_old[:, -1]]
    for curve, dot, share in zip(art["curves"], art["dots"], shares, strict=True):
        curve.set_data(data.gammas, share)
        dot.set_data([data.gammas[g]], [share[g]])
    art["now"].set_xdata([data.gammas[g]] * 2)
    art["gamma"].set_xlim(padded_limits(data.gammas))
    return art["fig"]


@cache
def _surrogate_figure() -> dict:
    """The figure of ``surrogate_view`` and the artists it moves: J and L along alpha, J(pi_old), the gap
    and the markers at alpha (the gap's legend entry prints it), and the grid of the gap's sources."""
    fig = static_figure((13, 4.8))
    ax, ax_grid = fig.subplots(1, 2, width_ratios=[1.45, 1])
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.14, top=0.86, wspace=0.08)
    # A fixed title height: otherwise every draw measures the tick labels to see if the title must move up.
    for axes in (ax, ax_grid):
        axes.set_title("", y=1.0)
    art = {"fig": fig, "curves": ax, "grid": ax_grid}
    (art["J"],) = ax.plot([], [], color="C0", label="J, the true return (E1)")
    (art["L"],) = ax.plot([], [], color="C1", ls="--", label="L, the surrogate (E5)")
    art["J_old"] = ax.axhline(0.0, color="grey", lw=1, ls=":", label="J(π_old)")
    (art["gap"],) = ax.plot([], [], color="C3", lw=4, label="gap J − L")
    (art["J_at"],) = ax.plot([], [], "o", color="C0", markersize=10)
    (art["L_at"],) = ax.plot([], [], "s", color="C1", markersize=10)
    ax.set(xlabel="α, in π_α = (1 − α) π_old + α π_new", ylabel="discounted return")
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", "0.25", "0.5", "0.75", "1"])
    ax.yaxis.set_major_locator(MaxNLocator(5))
    # Small returns as multiples of 1e-3 (say): labels like 0.0004 pushed the axis label off the figure.
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    art["gap_label"] = ax.legend(loc="upper left", fontsize=11).get_texts()[-1]
    art["heat"] = GridHeatmap(ax_grid, np.full(GRID, ""), cmap="coolwarm", fmt="{:+.4f}")
    return art


def surrogate_view(data: VisitationData, path: str, gamma: float, alpha: float) -> Figure:
    """J and L along pi_alpha (E5) with the gap at alpha, and the states that the gap comes from.

    Returns the same Figure on every call, redrawn for data, path, gamma and alpha.
    """
    p, g, k = _path_index(path), _index(data.gammas, gamma, "gamma"), _index(data.alphas, alpha, "alpha")
    J, L, alphas, art = data.J[p, g], data.L[p, g], data.alphas, _surrogate_figure()
    art["J"].set_data(alphas, J)
    art["L"].set_data(alphas, L)
    art["J_old"].set_ydata([J[0]] * 2)
    art["gap"].set_data([alphas[k]] * 2, [J[k], L[k]])
    art["J_at"].set_data([alphas[k]], [J[k]])
    art["L_at"].set_data([alphas[k]], [L[k]])
    art["gap_label"].set_text(f"gap J − L = {J[k] - L[k]:+.4f}")
    art["curves"].title.set_text(f"π_new: {path}; γ = {data.gammas[g]:.2f}")
    art["curves"].set_xlim(padded_limits(alphas))
    art["curves"].set_ylim(padded_limits(np.concatenate([J, L])))
    share = data.gap_by_state[p, g, k]  # the absorbing state adds nothing: A^old = 0 there
    art["grid"].title.set_text(
        f"where J − L comes from at α = {alphas[k]:.2f}\n(the cells add up to {share.sum():+.4f})")
    limit = max(np.abs(share[:-1]).max(), 1e-6)  # symmetric colours: the grey middle means no share
    art["heat"].update(share, -limit, limit, desc=data.desc)
    return art["fig"]


def sample_visitation(env, pi, gamma: float, episodes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo nu (E4) from episodes in the real env, and its standard error, both [S_env + 1].

    Each episode adds (1 - gamma) gamma^t to the cell it stands on at step t; when it ends
    at step T, the rest of its weight, sum_{t >= T} (1 - gamma) gamma^t = gamma^T, goes to
    the absorbing state (the last entry), as in ``FiniteMDP.from_toy_text``. An episode cut by
    the env's time limit loses that tail, so use a limit with gamma^limit below the noise.

    Args:
        env: a gymnasium toy-text env (FrozenLake-v1).
        pi: [S, A] policy; rows for the env's states come first (as from ``from_toy_text``).
        gamma: discount in [0, 1).
        episodes: number of episodes E.
        seed: seeds the env (first reset) and the action sampling.
    Returns:
        nu_hat [S_env + 1], the mean over episodes; stderr [S_env + 1], its standard error.
    """
    if not (isinstance(episodes, int) and episodes >= 2):
        raise ValueError(f"episodes must be an integer >= 2 (for a standard error); got {episodes!r}")
    n_env = env.observation_space.n
    policy, rng = tabular_policy(pi), np.random.default_rng(seed)
    weights = np.zeros((episodes, n_env + 1))  # [E, S]: each episode's discounted visits
    s, _ = env.reset(seed=seed)
    for e in range(episodes):
        if e:
            s, _ = env.reset()
        discount, done = 1.0, False
        while not done:
            weights[e, s] += (1 - gamma) * discount
            s, _, terminated, truncated, _ = env.step(policy(s, rng))
            discount *= gamma
            done = terminated or truncated
        if terminated:
            weights[e, -1] += discount
    return weights.mean(0), weights.std(0, ddof=1) / np.sqrt(episodes)


def comparison_view(desc, nu, nu_hat, stderr) -> plt.Figure:
    """Exact nu [S] beside its Monte Carlo estimate nu_hat [S], with the largest gap in standard errors."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 5))
    z = np.abs(nu_hat - nu) / np.maximum(stderr, 1e-12)
    for ax, values, name in zip(axes, (nu, nu_hat), ("exact (linear solve)", "Monte Carlo"), strict=True):
        grid_heatmap(ax, values, desc, title=f"ν, {name}\nepisode over: {values[-1]:.3f}", fmt="{:.3f}")
    fig.suptitle(f"largest gap: {z.max():.1f} standard errors")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.8, wspace=0.08)
    return fig
