"""Collecting batches on N environment copies, and their advantages (E13, E14 step 1).

The copies are a ``gymnasium.vector`` env in SAME_STEP autoreset mode: when a
copy's episode ends at step t, ``step`` already returns the reset observation
and puts the true last one in ``info["final_obs"]``. So every step is a real
transition (NEXT_STEP mode would spend a step on each reset), and the final
observation is at hand to bootstrap a time-limit truncation from V(s_T) (E13).

Shapes: T steps per copy, N copies, D observation size, A action dimensions.
"""

import dataclasses
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from trpo_lite._validate import NonFiniteError
from trpo_lite.gae import gae


def check_env_id(env_id: str) -> None:
    """Raise ValueError unless env_id is a registered gymnasium id."""
    if env_id not in gym.registry:
        raise ValueError(
            f"env_id {env_id!r} is not a registered gymnasium environment; "
            "e.g. CartPole-v1, Acrobot-v1, Pendulum-v1 (see gymnasium.pprint_registry())"
        )


def make_vector_env(env_id: str, num_envs: int, vectorization: str = "sync"):
    """N copies of env_id with SAME_STEP autoreset and episode statistics (``info["episode"]``).

    Each copy is made without the two wrappers that only check how it is used (gymnasium's
    ``PassiveEnvChecker`` and ``OrderEnforcing``), and the vector env hands out its observation array
    instead of a copy (``Sampler`` copies each into its batch before the next step): the same numbers,
    about 8 % less time per step of 16 CartPole copies (random actions, 4 alternated runs).
    """
    check_env_id(env_id)
    spec = dataclasses.replace(gym.spec(env_id), disable_env_checker=True, order_enforce=False)
    envs = gym.make_vec(spec, num_envs=num_envs, vectorization_mode=vectorization,
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "copy": False})
    return gym.wrappers.vector.RecordEpisodeStatistics(envs)


@dataclass
class Batch:
    """One iteration's transitions, as torch tensors; actions as sampled (before clipping)."""

    obs: torch.Tensor  # [T, N, D] s_t, raw (not normalised)
    actions: torch.Tensor  # [T, N] (Discrete) or [T, N, A] (Box) a_t
    rewards: torch.Tensor  # [T, N] r_t
    terminated: torch.Tensor  # [T, N] bool: s_{t+1} is terminal, V(s_{t+1}) = 0
    truncated: torch.Tensor  # [T, N] bool: a time limit ended the episode after step t
    next_obs: torch.Tensor  # [T, N, D] s_{t+1}; on done steps the final obs, not the reset one


class Sampler:
    """Steps the copies with an agent's policy; keeps their state from one batch to the next.

    Args:
        envs: from ``make_vector_env``.
        steps_per_env: T.
        seed: seeds the copies' first resets. Copy i gets the i-th number drawn from
            ``numpy.random.SeedSequence(seed)``, not seed + i, so that runs with nearby
            seeds do not share copies (seed 1's copy 0 would be seed 0's copy 1).
        start_time: ``time.perf_counter()`` origin of the episodes' wall times.
    """

    def __init__(self, envs, steps_per_env: int, seed: int, start_time: float | None = None):
        self.envs, self.steps_per_env = envs, steps_per_env
        seeds = np.random.SeedSequence(seed).generate_state(envs.num_envs)
        self.obs, _ = envs.reset(seed=[int(s) for s in seeds])
        self.env_steps = 0
        self._check_finite("observation after reset", self.obs, 0)
        self.start_time = time.perf_counter() if start_time is None else start_time

    def collect(self, agent) -> tuple[Batch, list[dict]]:
        """Run T steps on every copy. Returns the batch and the episodes that ended in it,
        each {"return", "length", "env_steps" (total steps when it ended), "wall" (seconds since
        ``start_time``), "unix_time" (``time.time()`` when it ended: comparable across processes)}."""
        T, N = self.steps_per_env, self.envs.num_envs
        space = self.envs.single_action_space
        obs = np.empty((T + 1, N, *self.obs.shape[1:]), np.float32)  # row T: the obs after step T-1
        actions = np.empty((T, N, *space.shape), np.int64 if space.shape == () else np.float32)
        rewards = np.empty((T, N), np.float32)
        terminated, truncated = np.empty((T, N), bool), np.empty((T, N), bool)
        finals, episodes = [], []
        for t in range(T):
            obs[t] = self.obs
            actions[t], env_actions = agent.act(self.obs)
            self.obs, rewards[t], terminated[t], truncated[t], info = self.envs.step(env_actions)
            self._check_finite("reward", rewards[t], t)
            self._check_finite("observation", self.obs, t)
            if "_episode" in info:  # only on steps where some copy's episode ended
                ended = np.flatnonzero(info["_final_obs"])
                self._check_finite("final observation", info["final_obs"][ended].tolist(), t, ended)
                finals += [(t, i, info["final_obs"][i]) for i in ended]
                episodes += self._episodes(info, t)
        obs[T] = self.obs
        next_obs = obs[1:].copy()
        for t, i, final in finals:
            next_obs[t, i] = final
        self.env_steps += T * N
        tensors = (obs[:T], actions, rewards, terminated, truncated, next_obs)
        return Batch(*map(torch.from_numpy, tensors)), episodes

    def _check_finite(self, quantity: str, values, t: int, copies=None) -> None:
        """Raise NonFiniteError naming the env, the copy, the step and the quantity when values [N, ...]
        (one row per copy, or per copy in ``copies``) hold NaN or inf: a fault is named where it starts."""
        if np.isfinite(values).all():  # the fast path, every step: the arrays the env returned, as they are
            return
        values = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(1))
        copy = int(bad[0] if copies is None else copies[bad[0]])
        env_id = self.envs.spec.id if self.envs.spec else "the environment"
        step = self.env_steps + t * self.envs.num_envs + copy + 1
        raise NonFiniteError(
            f"{env_id} copy {copy} returned a non-finite {quantity} ({values[bad[0]].tolist()}) at step {t} "
            f"of the batch (env step {step} in all); nothing was updated with it. Fix the environment, or "
            "wrap it (e.g. gymnasium.wrappers.TransformReward) so that it returns finite values"
        )

    def _episodes(self, info: dict, t: int) -> list[dict]:
        steps = self.env_steps + (t + 1) * self.envs.num_envs
        wall, unix_time = time.perf_counter() - self.start_time, time.time()
        stats = info["episode"]
        return [{"return": float(stats["r"][i]), "length": int(stats["l"][i]), "env_steps": steps,
                 "wall": wall, "unix_time": unix_time} for i in np.flatnonzero(info["_episode"])]


def estimate_advantages(agent, batch: Batch, gamma: float, lam: float):
    """V(s_t) and the GAE advantages (E13) of a batch, both [T, N].

    s_{t+1} after a truncation is the final observation, so the episode's tail
    is bootstrapped from V(s_{t+1}); after a termination ``gae`` uses V = 0.
    """
    with torch.no_grad():
        values, next_values = agent.value(batch.obs), agent.value(batch.next_obs)
    advantages = gae(batch.rewards, values, next_values, batch.terminated, batch.truncated, gamma, lam)
    return values, advantages


def standardise(advantages: torch.Tensor) -> torch.Tensor:
    """[B] advantages shifted and scaled to mean 0, std 1 (``TRPOConfig.normalize_advantages``); the 1e-8
    keeps a batch of equal advantages finite."""
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)
