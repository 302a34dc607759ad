"""Views for the GAE notebook (E13): a batch's timeline and the bias-variance study on FrozenLake-v1.

The study samples whole episodes from FrozenLake-v1's own transition table
(``env.unwrapped.P``, the table the env steps with), thousands at once with
numpy, and scores GAE against exact values from ``trpo_lite.tabular``.

Shapes: T time steps, N environments (here: episodes, one per column),
S states, A actions, G gammas, L lambdas.
"""

from dataclasses import dataclass

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from trpo_lite import tabular
from trpo_lite._validate import check_shape
from trpo_lite.figures.style import static_figure
from trpo_lite.gae import gae

GAMMAS = (0.8, 0.9, 0.95, 0.98, 0.99)
LAMS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 1.0)


def episode_segments(terminated, truncated) -> list[tuple[int, int, int, str]]:
    """The episode pieces of a [T, N] batch: (env n, first step, last step, how it ends).

    How it ends is "terminated", "truncated" or "batch end" (the batch stops
    mid-episode: GAE bootstraps there just as at a truncation).
    """
    terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
    if terminated.ndim != 2:
        raise ValueError(f"terminated must be a [T, N] array; got shape {terminated.shape}")
    check_shape("truncated", truncated, terminated.shape, like="terminated")
    done = terminated | truncated
    n_steps, n_envs = done.shape
    segments = []
    for n in range(n_envs):
        start = 0
        for t in range(n_steps):
            if done[t, n] or t == n_steps - 1:
                how = "terminated" if terminated[t, n] else "truncated" if truncated[t, n] else "batch end"
                segments.append((n, start, t, how))
                start = t + 1
    return segments


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


def soft_greedy_policy(mdp: tabular.FiniteMDP, eps: float = 0.1, iters: int = 50) -> np.ndarray:
    """[S, A] the greedy policy found by policy iteration on mdp, mixed with eps uniform exploration."""
    greedy = mdp.uniform_policy()
    for _ in range(iters):
        greedy = np.eye(mdp.n_actions)[tabular.action_values(mdp, greedy).argmax(1)]
    return (1 - eps) * greedy + eps / mdp.n_actions


@dataclass(frozen=True)
class EpisodeBatch:
    """Whole episodes, one per column; rows after an episode's end are padding (valid False).

    All fields [T, N]: obs, actions, next_obs (int), rewards (float),
    terminated, truncated (truncated only if max_steps cut an episode), valid (bool).
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray


def sample_episodes(env, pi, n_episodes: int, rng: np.random.Generator, max_steps: int = 1000):
    """Run n_episodes of a toy-text env with policy pi [S, A] (env states) at once, from its table P.

    Each step draws a ~ pi(.|s) and one outcome (prob, s', r, terminated) of
    ``env.unwrapped.P[s][a]`` by inverse CDF: the env's own dynamics,
    vectorised over episodes, without the env's time limit.
    """
    table = env.unwrapped.P
    n_states, n_actions = len(table), len(table[0])
    if not (isinstance(n_episodes, int) and n_episodes >= 1):
        raise ValueError(f"n_episodes must be a positive int; got {n_episodes!r}")
    if np.ndim(pi) != 2 or np.shape(pi)[0] < n_states or np.shape(pi)[1] != n_actions:
        raise ValueError(f"pi must have shape [S, {n_actions}] with S >= {n_states} (the env's states); "
                         f"got {np.shape(pi)}")
    width = max(len(outcomes) for moves in table.values() for outcomes in moves.values())
    prob = np.zeros((n_states, n_actions, width))
    nxt, rew, end = np.zeros_like(prob, dtype=int), np.zeros_like(prob), np.zeros_like(prob, dtype=bool)
    for s, moves in table.items():
        for a, outcomes in moves.items():
            for k, (p, s_next, r, terminated) in enumerate(outcomes):
                prob[s, a, k], nxt[s, a, k], rew[s, a, k], end[s, a, k] = p, s_next, r, terminated
    outcome_cdf, action_cdf = prob.cumsum(-1), np.asarray(pi)[:n_states].cumsum(-1)
    start_cdf = np.cumsum(env.unwrapped.initial_state_distrib)
    s = (rng.random(n_episodes)[:, None] > start_cdf).sum(1)
    alive = np.ones(n_episodes, bool)
    rows = []
    while alive.any() and len(rows) < max_steps:
        # min(...) guards against a cdf that rounds to just under 1
        a = np.minimum((rng.random(n_episodes)[:, None] > action_cdf[s]).sum(1), n_actions - 1)
        k = np.minimum((rng.random(n_episodes)[:, None] > outcome_cdf[s, a]).sum(1), width - 1)
        terminated = end[s, a, k] & alive
        rows.append((s, a, rew[s, a, k] * alive, nxt[s, a, k], terminated, alive))
        alive = alive & ~terminated
        s = np.where(alive, nxt[s, a, k], s)
    obs, actions, rewards, next_obs, terminated, valid = map(np.array, zip(*rows, strict=True))
    truncated = np.zeros_like(terminated)
    truncated[-1] = alive  # still running after max_steps: cut by the limit
    return EpisodeBatch(obs, actions, rewards, next_obs, terminated, truncated, valid)


def exact_gae_bias(mdp: tabular.FiniteMDP, pi, values_hat, lam: float) -> np.ndarray:
    """[S, A] E[A_t | s_t = s, a_t = a] - (Q^pi(s, a) - V_hat(s)) for GAE with an imperfect V_hat [S] (E13).

    With e = V_hat - V^pi, E[delta_t | s, a] = Q - V_hat(s) + gamma P_sa e and,
    for l >= 1, E[delta_{t+l} | s, a] = P_sa P_pi^{l-1} (gamma P_pi - I) e, so
    the bias is gamma P e + gamma lam P (I - gamma lam P_pi)^-1 (gamma P_pi - I) e:
    zero at lam = 1 whatever V_hat is. V_hat of a terminal state must be 0.
    """
    P = mdp.P.numpy()
    e = np.asarray(values_hat, dtype=float) - tabular.state_values(mdp, pi)
    P_pi = np.einsum("sa,sat->st", pi, P)
    eye = np.eye(mdp.n_states)
    later = np.linalg.solve(eye - mdp.gamma * lam * P_pi, (mdp.gamma * P_pi - eye) @ e)
    return mdp.gamma * P @ e + mdp.gamma * lam * P @ later


def gae_on_batch(batch: EpisodeBatch, values_hat, gamma: float, lam: float, terminated=None, truncated=None):
    """[T, N] GAE advantages (E13) by ``trpo_lite.gae``, with V_hat [S] looked up at obs and next_obs."""
    terminated = batch.terminated if terminated is None else terminated
    truncated = batch.truncated if truncated is None else truncated
    v = torch.as_tensor(np.asarray(values_hat, dtype=float))
    args = (batch.rewards, v[batch.obs], v[batch.next_obs], terminated, truncated)
    return gae(*(torch.as_tensor(x) for x in args), gamma, lam).numpy()


def bias_and_variance(keys, estimates, targets, n_keys: int) -> tuple[float, float]:
    """Visit-weighted squared bias and variance of estimates [B] of targets [B], grouped by keys [B].

    bias^2 = mean over samples of (E[estimate | key] - target)^2, variance =
    mean of Var[estimate | key]; their sum is the mean squared error.
    """
    counts = np.bincount(keys, minlength=n_keys)
    seen = counts > 0
    mean = np.bincount(keys, estimates, n_keys)[seen] / counts[seen]
    mean_sq = np.bincount(keys, estimates**2, n_keys)[seen] / counts[seen]
    target = np.bincount(keys, targets, n_keys)[seen] / counts[seen]
    weights = counts[seen] / counts.sum()
    return float(weights @ (mean - target) ** 2), float(weights @ (mean_sq - mean**2))


def time_limited(batch: EpisodeBatch, limit: int) -> EpisodeBatch:
    """The batch's first `limit` steps, as if a time limit had cut every longer episode (truncated)."""
    if not (isinstance(limit, int) and 1 <= limit <= batch.obs.shape[0]):
        raise ValueError(f"limit must be an int in [1, {batch.obs.shape[0]}] (the batch's T); got {limit!r}")
    rows = {name: getattr(batch, name)[:limit].copy() for name in EpisodeBatch.__dataclass_fields__}
    rows["truncated"][-1] = rows["valid"][-1] & ~rows["terminated"][-1]
    return EpisodeBatch(**rows)


def truncation_bias(batch: EpisodeBatch, mdp: tabular.FiniteMDP, pi, lam: float, limit: int) -> dict:
    """Mean GAE error per step t < limit under a time limit: truncation bootstrapped vs taken as terminal.

    V is exact, so E[A_t] = A^pi(s_t, a_t) when truncation is handled right
    (E13) and any error comes from the handling alone.
    Returns: dict of [limit] arrays: steps, and the mean and standard error of
    A_t - A^pi(s_t, a_t) for "bootstrap" and "as_terminal".
    """
    cut = time_limited(batch, limit)
    values = tabular.state_values(mdp, pi)
    target = tabular.advantages(mdp, pi)[cut.obs, cut.actions]
    as_terminal = cut.terminated | cut.truncated
    runs = {"bootstrap": gae_on_batch(cut, values, mdp.gamma, lam),
            "as_terminal": gae_on_batch(cut, values, mdp.gamma, lam, terminated=as_terminal)}
    counts = cut.valid.sum(1)
    result = {"steps": np.arange(limit)}
    for name, estimates in runs.items():
        error = np.where(cut.valid, estimates - target, 0.0)
        mean = error.sum(1) / counts
        spread = np.where(cut.valid, (error - mean[:, None]) ** 2, 0.0).sum(1) / np.maximum(counts - 1, 1)
        result[name], result[f"{name}_se"] = mean, np.sqrt(spread / counts)
    return result


@dataclass(frozen=True)
class BiasVarianceStudy:
    """GAE statistics precomputed on the grid GAMMAS x LAMS (index [g, l]) for the sliders.

    bias2, exact_bias2, variance: [G, L] against the target Q^pi(s, a) - V_hat(s)
    (sampled, exact from ``exact_gae_bias``, sampled). episode_estimates [G, L, T_e]
    and episode_targets [G, T_e]: one example episode. values_hat [G, S]: the imperfect V.
    """

    gammas: tuple
    lams: tuple
    bias2: np.ndarray
    exact_bias2: np.ndarray
    variance: np.ndarray
    episode_estimates: np.ndarray
    episode_targets: np.ndarray
    values_hat: np.ndarray
    pi: np.ndarray
    batch: EpisodeBatch


def bias_variance_study(seed: int = 0, n_episodes: int = 3000, shrink: float = 0.5, noise: float = 0.05):
    """Sample FrozenLake-v1 episodes once, then score GAE at every (gamma, lam) of the grid.

    The policy is soft greedy (``soft_greedy_policy`` at gamma = 0.99); V_hat =
    shrink V^pi + noise z with z ~ N(0, 1) per state (one draw for all gammas),
    0 at the absorbing state. The example episode is the first that reaches the goal.
    """
    env = gym.make("FrozenLake-v1")
    pi = soft_greedy_policy(tabular.FiniteMDP.from_toy_text(env, 0.99))
    rng = np.random.default_rng(seed)
    batch = sample_episodes(env, pi, n_episodes, rng)
    z = rng.normal(size=pi.shape[0])
    reached = batch.rewards.sum(0) > 0
    if not reached.any():
        raise ValueError(f"n_episodes = {n_episodes} is too few: no episode reached the goal; use >= 100")
    ep = int(np.argmax(reached))
    ep_steps = batch.valid[:, ep]
    valid = batch.valid
    n_states, n_actions = pi.shape
    keys = (batch.obs * n_actions + batch.actions)[valid]
    shape = (len(GAMMAS), len(LAMS))
    bias2, exact_bias2, variance = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    estimates, targets, values_hat = np.zeros(shape + (ep_steps.sum(),)), [], []
    for g, gamma in enumerate(GAMMAS):
        mdp = tabular.FiniteMDP.from_toy_text(env, gamma)
        v_hat = shrink * tabular.state_values(mdp, pi) + noise * z
        v_hat[-1] = 0.0  # the absorbing state is terminal: V = 0 (E13)
        target = tabular.action_values(mdp, pi) - v_hat[:, None]
        sample_targets = target[batch.obs, batch.actions][valid]  # the same for every lam
        for l, lam in enumerate(LAMS):
            est = gae_on_batch(batch, v_hat, gamma, lam)
            bias2[g, l], variance[g, l] = bias_and_variance(keys, est[valid], sample_targets,
                                                            n_states * n_actions)
            exact = exact_gae_bias(mdp, pi, v_hat, lam)[batch.obs, batch.actions][valid]
            exact_bias2[g, l] = np.mean(exact**2)
            estimates[g, l] = est[ep_steps, ep]
        targets.append(target[batch.obs[ep_steps, ep], batch.actions[ep_steps, ep]])
        values_hat.append(v_hat)
    return BiasVarianceStudy(GAMMAS, LAMS, bias2, exact_bias2, variance, estimates, np.array(targets),
                             np.array(values_hat), pi, batch)


def grid_index(grid, value: float, name: str) -> int:
    """Position of value in the slider grid, or a ValueError listing the grid."""
    hits = np.flatnonzero(np.isclose(grid, value, atol=1e-9))
    if hits.size == 0:
        raise ValueError(f"{name} must be one of the precomputed values {tuple(grid)}; got {value!r}")
    return int(hits[0])


def make_bias_variance_view(study: BiasVarianceStudy):
    """The slider view of a study: returns view(gamma, lam) -> Figure, for values on the study's grid.

    Left: bias², variance and MSE of GAE against lam at this gamma, the chosen
    lam circled; right: one episode's A_t against its target. The figure is
    built once and each call only swaps in precomputed numbers, so a slider
    move costs one redraw; every call returns the same Figure, updated.
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
        g, l = grid_index(study.gammas, gamma, "gamma"), grid_index(study.lams, lam, "lam")
        bias2, variance = study.bias2[g], study.variance[g]
        for name, y in (("bias2", bias2), ("exact_bias2", study.exact_bias2[g]), ("variance", variance),
                        ("mse", bias2 + variance)):
            curves[name].set_ydata(y)
        chosen.set_data([lam, lam], [bias2[l], variance[l]])
        left.set_title(f"gamma = {gamma}, lambda = {lam}: bias² {bias2[l]:.1e}, var {variance[l]:.1e}")
        target.set_ydata(study.episode_targets[g])
        estimate.set_ydata(study.episode_estimates[g, l])
        legend.get_texts()[1].set_text(f"GAE, lambda = {lam}")
        for ax in (left, right):
            ax.relim()
            ax.autoscale_view()
        return fig

    return view
