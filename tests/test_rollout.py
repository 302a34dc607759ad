"""Rollouts: batch layout, final observations, episode records, and E13's truncation bootstrap by hand."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from trpo_lite.rollout import Sampler, estimate_advantages, make_vector_env


class Counter(gym.Env):
    """Observation: steps since the reset; reward 1 per step; terminal after ``terminate_at`` steps."""

    observation_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, terminate_at=None):
        self.terminate_at = terminate_at

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.t], np.float32), 1.0, self.t == self.terminate_at, False, {}


TRUNCATING, TERMINATING = "trpo_lite_test/Counter-v0", "trpo_lite_test/TerminatingCounter-v0"
if TRUNCATING not in gym.registry:
    gym.register(TRUNCATING, entry_point=Counter, max_episode_steps=3)  # a time limit cuts at t = 3
    gym.register(TERMINATING, entry_point=Counter, kwargs={"terminate_at": 3}, max_episode_steps=100)


class StubAgent:
    """Always action 0; V(s) = 10 + s, so every advantage can be worked out by hand."""

    def act(self, obs):
        actions = np.zeros(len(obs), np.int64)
        return actions, actions

    def value(self, obs):
        return 10.0 + torch.as_tensor(obs)[..., 0]


def collect(env_id, num_envs, steps, seed=0):
    envs = make_vector_env(env_id, num_envs)
    sampler = Sampler(envs, steps, seed)
    return sampler, envs


def test_truncation_bootstraps_from_the_final_observation():
    sampler, envs = collect(TRUNCATING, 1, 5)
    batch, _ = sampler.collect(StubAgent())
    envs.close()
    # s = 0 1 2 | 0 1 ; the time limit cuts after step 2, whose true next state is s = 3.
    assert batch.obs[:, 0, 0].tolist() == [0, 1, 2, 0, 1]
    assert batch.next_obs[:, 0, 0].tolist() == [1, 2, 3, 1, 2]
    assert batch.truncated[:, 0].tolist() == [False, False, True, False, False]
    assert not batch.terminated.any()
    _, advantages = estimate_advantages(StubAgent(), batch, gamma=0.9, lam=0.8)
    # delta_t = 1 + 0.9 V(s_{t+1}) - V(s_t) with V(s) = 10 + s: 0.9, 0.8, 0.7 (bootstrapped from
    # V(3) = 13), 0.9, 0.8. A_t = delta_t + 0.72 A_{t+1}, cut after step 2 and at the batch end.
    expected = [0.9 + 0.72 * (0.8 + 0.72 * 0.7), 0.8 + 0.72 * 0.7, 0.7, 0.9 + 0.72 * 0.8, 0.8]
    assert torch.allclose(advantages[:, 0], torch.tensor(expected), atol=1e-5)


def test_termination_does_not_bootstrap():
    sampler, envs = collect(TERMINATING, 1, 5)
    batch, _ = sampler.collect(StubAgent())
    envs.close()
    assert batch.terminated[:, 0].tolist() == [False, False, True, False, False]
    _, advantages = estimate_advantages(StubAgent(), batch, gamma=0.9, lam=0.8)
    # Step 2 reaches a terminal state: delta_2 = 1 + 0 - V(2) = -11.
    expected = [0.9 + 0.72 * (0.8 + 0.72 * -11.0), 0.8 + 0.72 * -11.0, -11.0, 0.9 + 0.72 * 0.8, 0.8]
    assert torch.allclose(advantages[:, 0], torch.tensor(expected), atol=1e-5)


def test_episodes_are_recorded_across_batches():
    sampler, envs = collect(TRUNCATING, 2, 2)
    episodes = []
    for _ in range(4):  # 8 steps per copy in batches of 2: episodes end at steps 3 and 6
        episodes += sampler.collect(StubAgent())[1]
    envs.close()
    assert [e["return"] for e in episodes] == [3.0] * 4
    assert [e["length"] for e in episodes] == [3] * 4
    assert [e["env_steps"] for e in episodes] == [6, 6, 12, 12]
    assert sampler.env_steps == 16


@pytest.mark.parametrize("env_id, action_shape, dtype", [("CartPole-v1", (), torch.int64),
                                                         ("Pendulum-v1", (1,), torch.float32)])
def test_batch_shapes(env_id, action_shape, dtype):
    sampler, envs = collect(env_id, 3, 7)
    batch, _ = sampler.collect(AgentForSpace(envs))
    envs.close()
    D = envs.single_observation_space.shape[0]
    assert batch.obs.shape == batch.next_obs.shape == (7, 3, D)
    assert batch.actions.shape == (7, 3, *action_shape) and batch.actions.dtype == dtype
    assert batch.rewards.shape == batch.terminated.shape == batch.truncated.shape == (7, 3)
    # Away from episode ends, s_{t+1} is the next row's observation.
    same = ~(batch.terminated | batch.truncated)[:-1]
    assert torch.equal(batch.next_obs[:-1][same], batch.obs[1:][same])


class AgentForSpace:
    def __init__(self, envs):
        self.space = envs.single_action_space

    def act(self, obs):
        actions = np.stack([self.space.sample() for _ in obs])
        return actions, actions


def test_nearby_seeds_do_not_share_copies():
    first = Sampler(make_vector_env("CartPole-v1", 2), 1, seed=0).obs
    second = Sampler(make_vector_env("CartPole-v1", 2), 1, seed=1).obs
    assert not np.array_equal(first[1], second[0])
    assert np.array_equal(first, Sampler(make_vector_env("CartPole-v1", 2), 1, seed=0).obs)


def test_async_collects_the_same_batch_as_sync():
    batches = []
    for mode in ("sync", "async"):
        envs = make_vector_env(TRUNCATING, 2, mode)
        batches.append(Sampler(envs, 4, seed=3).collect(StubAgent())[0])
        envs.close()
    for name in ("obs", "actions", "rewards", "terminated", "truncated", "next_obs"):
        assert torch.equal(getattr(batches[0], name), getattr(batches[1], name)), name


def test_unknown_env_id_raises():
    with pytest.raises(ValueError, match=r"env_id 'NoSuchEnv-v0' is not a registered gymnasium environment"):
        make_vector_env("NoSuchEnv-v0", 2)
