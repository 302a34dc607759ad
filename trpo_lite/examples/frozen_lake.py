"""FrozenLake-v1, the course's running example, and episodes played in it (or any gymnasium env).

One factory for the environment (``lake_env``) and one for its exact MDP
(``lake_mdp``, through ``FiniteMDP.from_toy_text``: 16 cells and an absorbing
state). ``sample_episodes`` plays a policy in the real environment, so that
Monte Carlo estimates can be checked against the exact numbers of
``trpo_lite.tabular``.

Shapes: S states (17 for the 4x4 lake: 16 cells + the absorbing one), A = 4 actions, T steps.
"""

from dataclasses import dataclass
from functools import cache

import gymnasium as gym
import numpy as np

from trpo_lite.tabular import FiniteMDP

N_CELLS = 16  # the 4x4 map; the MDP adds the absorbing state, index 16
ACTIONS = ("left", "down", "right", "up")  # FrozenLake's action indices 0-3


@cache
def lake_env(max_episode_steps: int | None = None) -> gym.Env:
    """The slippery 4x4 FrozenLake-v1 (gymnasium's own time limit of 100 steps unless
    max_episode_steps is given); one env per time limit, shared, so views do not build one per call."""
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    return gym.make("FrozenLake-v1", **kwargs)


@cache
def lake_mdp(gamma: float) -> FiniteMDP:
    """FrozenLake-v1 as an exact FiniteMDP with discount gamma (S = 17: the cells, then the absorbing
    state every episode ends in)."""
    return FiniteMDP.from_toy_text(lake_env(), gamma)


def lake_map() -> np.ndarray:
    """The map's letters, [4, 4] bytes: S start, F frozen, H hole, G goal."""
    return lake_env().unwrapped.desc


def tabular_policy(pi):
    """``policy(s, rng)`` drawing a ~ pi[s] from an [S, A] table (inverse CDF of one uniform draw)."""
    cdf = np.cumsum(np.asarray(pi, dtype=float), axis=1)
    cdf[:, -1] = 1.0  # rounding must never pick action A
    return lambda s, rng: int(np.searchsorted(cdf[s], rng.random(), side="right"))


@dataclass(frozen=True)
class Episode:
    """One played episode: states [T] (observations [T, D] in a Box env), actions [T], rewards [T];
    terminated: it ended in a terminal state (False: the time limit cut it)."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool


def sample_episodes(env: gym.Env, policy, n_episodes: int, seed: int) -> list[Episode]:
    """Play ``policy(obs, rng) -> action`` for B = n_episodes episodes in env.

    One seed fixes everything: the env's first reset (later resets continue its
    random stream) and ``rng = numpy.random.default_rng(seed)``, the policy's draws.
    """
    if not isinstance(n_episodes, int | np.integer) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive integer; got {n_episodes!r}")
    rng = np.random.default_rng(seed)
    episodes = []
    for b in range(n_episodes):
        obs, _ = env.reset(seed=seed if b == 0 else None)
        states, actions, rewards, done = [], [], [], False
        while not done:
            states.append(obs)
            actions.append(policy(obs, rng))
            obs, reward, terminated, truncated, _ = env.step(actions[-1])
            rewards.append(reward)
            done = terminated or truncated
        episodes.append(Episode(np.asarray(states), np.asarray(actions), np.asarray(rewards, dtype=float),
                                bool(terminated)))
    return episodes
