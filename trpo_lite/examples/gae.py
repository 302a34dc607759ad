"""Notebook 07: GAE (E13) on batches of whole FrozenLake-v1 episodes, against exact advantages.

``sample_from_table`` draws thousands of episodes at once with numpy from the
env's own transition table (``env.unwrapped.P``, the table the env steps
with); ``trpo_lite.gae`` scores them, and ``trpo_lite.tabular`` gives the exact
values to score against: the exact bias of GAE with an imperfect V_hat, and
the error a time limit causes when it is handled right or wrongly. The
episode pieces of a [T, N] batch are the numbers of the notebook's timeline.
``autoreset_steps`` and ``constant_action_batch`` show which autoreset mode the
package's vector envs use (``trpo_lite.rollout``), on CartPole-v1.

Shapes: T time steps, N environments (here: episodes, one per column), S states, A actions.
"""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite._validate import check_shape
from trpo_lite.gae import gae
from trpo_lite.rollout import Sampler, make_vector_env

AUTORESET_MODES = ("same_step", "next_step")


def autoreset_steps(mode: str, seed: int = 0) -> list[dict]:
    """One CartPole-v1 copy pushed left (action 0) until its episode ends, and one step more.

    mode "same_step" steps ``rollout.make_vector_env`` (what the package trains on); "next_step" steps
    gymnasium's NEXT_STEP mode, for comparison. Returns one dict per step from the ending one on: obs_before,
    obs (what ``step`` returned), reward, terminated, truncated, final_obs (``info["final_obs"]`` or None).
    """
    if mode not in AUTORESET_MODES:
        raise ValueError(f"mode must be one of {AUTORESET_MODES}; got {mode!r}")
    envs = (make_vector_env("CartPole-v1", 1) if mode == "same_step" else
            gym.make_vec("CartPole-v1", 1, vectorization_mode="sync",
                         vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}))
    obs, _ = envs.reset(seed=seed)
    steps = []
    while len(steps) < 2:
        before = obs[0].copy()
        obs, reward, terminated, truncated, info = envs.step(np.zeros(1, dtype=np.int64))
        final = info["final_obs"][0] if info.get("_final_obs", [False])[0] else None
        if steps or terminated[0] or truncated[0]:
            steps.append({"obs_before": before, "obs": obs[0].copy(), "reward": float(reward[0]),
                          "terminated": bool(terminated[0]), "truncated": bool(truncated[0]),
                          "final_obs": final})
    envs.close()
    return steps


class _ConstantAgent:
    """Always action 0: enough to drive ``Sampler.collect`` without a policy network."""

    def act(self, obs):
        actions = np.zeros(len(obs), dtype=np.int64)
        return actions, actions


def constant_action_batch(steps_per_env: int = 40, num_envs: int = 2, seed: int = 0):
    """A CartPole-v1 batch [T, N] collected by the package's ``Sampler`` (SAME_STEP autoreset), action 0."""
    envs = make_vector_env("CartPole-v1", num_envs)
    batch, _ = Sampler(envs, steps_per_env, seed).collect(_ConstantAgent())
    envs.close()
    return batch


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


def soft_greedy_policy(mdp: tabular.FiniteMDP, eps: float = 0.1, iters: int = 50) -> np.ndarray:
    """[S, A] the greedy policy found by policy iteration on mdp (``tabular.greedy_policy``, from the
    uniform policy), mixed with eps uniform exploration."""
    greedy = mdp.uniform_policy()
    for _ in range(iters):
        greedy = tabular.greedy_policy(mdp, greedy)
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


def sample_from_table(env, pi, n_episodes: int, rng: np.random.Generator, max_steps: int = 1000):
    """Run n_episodes of a toy-text env with policy pi [S, A] (env states) at once, from its table P.

    Each step draws a ~ pi(.|s) and one outcome (prob, s', r, terminated) of
    ``env.unwrapped.P[s][a]`` by inverse CDF: the env's own dynamics,
    vectorised over episodes, without the env's time limit. Returns an EpisodeBatch.
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

    With e = V_hat - V^pi, E[Delta_t | s, a] = Q - V_hat(s) + gamma P_sa e and,
    for l >= 1, E[Delta_{t+l} | s, a] = P_sa P_pi^{l-1} (gamma P_pi - I) e, so
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
