"""Notebook 00, part 1: the objective J (E1) on FrozenLake-v1, by Monte Carlo and exactly.

Episodes are played in the real environment (``frozen_lake.sample_episodes``)
and their rewards discounted with the package's ``discounted_returns``; the
mean return is compared with the exact ``tabular.objective``. The slider's
numbers come from one table, sampled once: changing gamma only reweights the
same rewards.

Shapes: T time steps, B episodes, K discounts (the gamma grid), S states, A actions.
"""

from functools import cache

import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite._validate import grid_index
from trpo_lite.examples.frozen_lake import lake_env, lake_mdp, sample_episodes, tabular_policy
from trpo_lite.gae import discounted_returns
from trpo_lite.tabular import FiniteMDP

GAMMAS = np.round(np.arange(0.80, 0.99 + 1e-9, 0.01), 2)  # the gamma slider's values
MAX_EPISODES = 2000  # episodes sampled per FrozenLake policy (the episode slider's maximum)
LAKE_STEPS = 2000  # time limit: 0.99**2000 < 1e-8, so cutting episodes there cannot bias J (E1)


def episode_returns(episodes: list[np.ndarray], gamma: float) -> np.ndarray:
    """G_0 = sum_t gamma^t r_t of each episode, [B] (E1); their mean estimates J.

    Args:
        episodes: B reward arrays [T_b] (e.g. ``[e.rewards for e in sample_episodes(...)]``).
    The episodes are stacked as columns of a zero-padded [T, B] array: padding
    adds nothing to a sum, so one backward pass of ``discounted_returns`` serves all.
    """
    if not episodes:
        raise ValueError("episodes must hold at least one episode (a list of reward arrays); got none")
    rewards = np.zeros((max(len(e) for e in episodes), len(episodes)))
    for b, e in enumerate(episodes):
        rewards[: len(e), b] = e
    return discounted_returns(torch.from_numpy(rewards), gamma)[0].numpy()


def mc_estimate(returns: np.ndarray) -> tuple[float, float]:
    """Monte Carlo estimate of J from returns G_0 [B]: (mean, standard error sigma_hat / sqrt(B))."""
    se = returns.std(ddof=1) / np.sqrt(len(returns)) if len(returns) > 1 else np.inf
    return float(returns.mean()), float(se)


def lake_policies(gamma: float = 0.99) -> tuple[FiniteMDP, dict[str, np.ndarray]]:
    """FrozenLake-v1 as an exact MDP, and two policies [S, A]: 'uniform', and 'greedy' (policy iteration
    with ``tabular.greedy_policy``: deterministic wherever the action matters)."""
    mdp = lake_mdp(gamma)
    greedy = mdp.uniform_policy()
    for _ in range(10):  # policy iteration settles in a handful of steps on 16 cells
        greedy = tabular.greedy_policy(mdp, greedy)
    return mdp, {"uniform": mdp.uniform_policy(), "greedy": greedy}


@cache
def lake_objective_table(seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Per policy: ``exact`` J on GAMMAS [K] and ``returns`` G_0 [K, B] of MAX_EPISODES sampled episodes.

    The episodes are sampled once (the policies do not depend on gamma); each
    gamma only reweights the same rewards. Arrays are read-only: the views share them.
    """
    env = lake_env(LAKE_STEPS)
    _, policies = lake_policies()
    table = {}
    for i, (name, pi) in enumerate(policies.items()):
        episodes = [e.rewards for e in sample_episodes(env, tabular_policy(pi), MAX_EPISODES, seed + i)]
        table[name] = {
            "exact": np.array([tabular.objective(lake_mdp(g), pi) for g in GAMMAS]),
            "returns": np.stack([episode_returns(episodes, g) for g in GAMMAS]),
        }
        for values in table[name].values():
            values.flags.writeable = False
    return table


def objective_numbers(policy: str = "greedy", gamma: float = 0.95, n_episodes: int = 500) -> dict:
    """The numbers of notebook 00's FrozenLake slider: E1 both ways for the first B = n_episodes returns.

    Returns:
        {"k": gamma's index in GAMMAS, "exact": J over GAMMAS [K], "means", "ses": the Monte Carlo
        mean and standard error over GAMMAS [K], "running": the mean of the first b returns at gamma,
        b = 1..B [B], "band": 3 standard errors of a b-episode mean [B] (sigma from all B)}.
    """
    table = lake_objective_table()
    if policy not in table:
        raise ValueError(f"policy must be one of {sorted(table)}; got {policy!r}")
    if not isinstance(n_episodes, int | np.integer) or not 2 <= n_episodes <= MAX_EPISODES:
        raise ValueError(f"n_episodes must be an integer in [2, {MAX_EPISODES}]; got {n_episodes!r}")
    k = grid_index("gamma", gamma, GAMMAS)
    returns = table[policy]["returns"][:, :n_episodes]
    means, ses = np.array([mc_estimate(r) for r in returns]).T
    b = np.arange(1, n_episodes + 1)
    return {"k": k, "exact": table[policy]["exact"], "means": means, "ses": ses,
            "running": np.cumsum(returns[k]) / b, "band": 3 * ses[k] * np.sqrt(n_episodes / b)}
