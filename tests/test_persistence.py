"""Save/load round trips, deterministic evaluation, and rendering."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from trpo_lite.persistence import evaluate, load_agent, render_episode, save_agent
from trpo_lite.training import train

TINY = dict(num_envs=4, steps_per_env=64, hidden_sizes=(16,), value_hidden_sizes=(16,), value_epochs=2)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_round_trip_reproduces_actions_exactly(env_id, tmp_path):
    agent, _ = train(env_id, seed=0, progress=False, total_steps=512, normalize_obs=True, **TINY)
    save_agent(agent, tmp_path / "agent.pt")
    loaded = load_agent(tmp_path / "agent.pt")
    assert loaded.config == agent.config
    assert loaded.obs_norm.count == agent.obs_norm.count == 512  # the statistics travel with the agent
    obs = np.random.default_rng(0).normal(size=(64, agent.observation_space.shape[0])).astype(np.float32)
    for a, b in zip(agent.act(obs, deterministic=True), loaded.act(obs, deterministic=True), strict=True):
        np.testing.assert_array_equal(a, b)
    torch.manual_seed(1)
    sampled = agent.act(obs)
    torch.manual_seed(1)
    np.testing.assert_array_equal(sampled[0], loaded.act(obs)[0])
    assert torch.equal(agent.value(obs), loaded.value(obs))


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved agent at"):
        load_agent(tmp_path / "missing.pt")
    torch.save({"format": 99}, tmp_path / "future.pt")
    with pytest.raises(ValueError, match=r"format 99; this version reads 1"):
        load_agent(tmp_path / "future.pt")


def test_evaluate_plays_deterministic_episodes():
    agent, _ = train("CartPole-v1", seed=0, progress=False, total_steps=256, **TINY)
    returns = evaluate(agent, "CartPole-v1", episodes=3, seed=7)
    assert returns.shape == (3,)
    np.testing.assert_array_equal(returns, evaluate(agent, episodes=3, seed=7))  # env_id from the config
    env = gym.make("CartPole-v1")  # the same episodes by hand, with the most probable action
    for k, expected in enumerate(returns):
        obs, _ = env.reset(seed=7 + k)
        total, done = 0.0, False
        while not done:
            action = int(agent.policy.logits(torch.as_tensor(obs)).argmax())
            obs, reward, terminated, truncated, _ = env.step(action)
            total, done = total + reward, terminated or truncated
        assert total == expected
    with pytest.raises(ValueError, match=r"episodes must be an integer >= 1; got 0"):
        evaluate(agent, episodes=0)
    with pytest.raises(ValueError, match=r"env_id 'Nope-v0' is not a registered"):
        evaluate(agent, "Nope-v0")


def test_render_episode_returns_one_frame_per_state():
    agent, _ = train("CartPole-v1", seed=0, progress=False, total_steps=256, **TINY)
    frames = render_episode(agent, seed=3)
    length = evaluate(agent, episodes=1, seed=3)[0]  # reward 1 per step: the return is the length
    assert len(frames) == length + 1
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in frames)
    assert not np.array_equal(frames[0], frames[-1])
    sparse = render_episode(agent, seed=3, every=4)  # the same episode, every 4th step drawn and the last
    drawn = [t for t, f in enumerate(sparse) if f is not None]
    assert len(sparse) == len(frames) and drawn == sorted({*range(0, len(frames), 4), len(frames) - 1})
    assert all(np.array_equal(sparse[t], frames[t]) for t in drawn)
    with pytest.raises(ValueError, match="every must be an integer >= 1; got 0"):
        render_episode(agent, every=0)
