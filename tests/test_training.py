"""train: smoke runs, the history's keys, reproducibility, callbacks, interrupts, and learning CartPole."""

import math

import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector

import trpo_lite.training as training
from trpo_lite.training import train

HISTORY_KEYS = {
    "rollout/return_mean", "rollout/return_last10", "rollout/length_mean", "rollout/episodes",
    "policy/kl", "policy/surrogate_gain", "policy/entropy", "policy/skipped",
    "line_search/backtracks", "line_search/accepted", "line_search/step_fraction",
    "value/loss", "value/explained_variance",
    "time/iteration", "time/env_steps", "time/wall",
}
TINY = dict(num_envs=4, steps_per_env=64, hidden_sizes=(16,), value_hidden_sizes=(16,), value_epochs=2)


def test_smoke_discrete():
    agent, history = train("CartPole-v1", seed=0, progress=False, total_steps=600, **TINY)  # 3 x 256
    assert len(history) == 3 and all(set(row) == HISTORY_KEYS for row in history)
    assert [row["time/env_steps"] for row in history] == [256, 512, 768]
    assert [row["time/iteration"] for row in history] == [1, 2, 3]
    assert sum(row["rollout/episodes"] for row in history) == len(history.episodes) > 0
    last10 = [e["return"] for e in history.episodes][-10:]
    assert history[-1]["rollout/return_last10"] == pytest.approx(np.mean(last10))
    assert all(0 <= row["policy/kl"] <= agent.config.max_kl for row in history)


def test_smoke_box_with_normalisation():
    agent, history = train("Pendulum-v1", seed=0, progress=False, total_steps=256, **TINY)
    assert len(history) == 1 and set(history[0]) == HISTORY_KEYS
    assert math.isnan(history[0]["rollout/return_mean"])  # Pendulum's episodes last 200 steps
    assert agent.obs_norm is not None and agent.obs_norm.count == 256


def strip_wall(history):
    return [{k: v for k, v in row.items() if k != "time/wall"} for row in history]


def test_same_seed_same_history_bit_for_bit():
    runs = [train("CartPole-v1", seed=seed, progress=False, total_steps=768, **TINY) for seed in (5, 5, 6)]
    (agent_a, a), (agent_b, b), (_, c) = runs
    assert strip_wall(a) == strip_wall(b)
    no_times = {"wall": 0, "unix_time": 0}
    assert [e | no_times for e in a.episodes] == [e | no_times for e in b.episodes]
    for (name, x), y in zip(agent_a.state_dict().items(), agent_b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
    assert strip_wall(a) != strip_wall(c)


def test_callback_sees_every_row_and_an_interrupt_keeps_the_progress():
    rows = []

    def callback(row):
        rows.append(row)
        if len(rows) == 2:
            raise KeyboardInterrupt  # what a notebook's stop button does

    agent, history = train("CartPole-v1", seed=0, progress=False, callback=callback, total_steps=2000, **TINY)
    assert rows == list(history) and len(history) == 2
    assert agent.policy.distribution(torch.zeros(1, 4)).probs.shape == (1, 2)


def test_interrupt_inside_an_update_returns_the_last_completed_iteration(monkeypatch):
    before, real_update = [], training.update_policy

    def update_policy(policy, *args):
        before.append(parameters_to_vector(policy.parameters()).detach().clone())
        stats = real_update(policy, *args)
        if len(before) == 3:  # the third update has moved theta, and the iteration is cut short
            raise KeyboardInterrupt
        return stats

    monkeypatch.setattr(training, "update_policy", update_policy)
    agent, history = train("CartPole-v1", seed=0, progress=False, total_steps=2000, **TINY)
    theta = parameters_to_vector(agent.policy.parameters())
    assert len(history) == 2
    assert torch.equal(theta, before[2])  # theta as it was after two complete iterations
    assert not torch.equal(before[2], before[1])


def test_overrides_and_total_steps_rounding():
    agent, history = train("CartPole-v1", seed=0, progress=False, total_steps=300, **TINY)
    assert history[-1]["time/env_steps"] == 512  # 300 steps need two batches of 256
    assert agent.config.num_envs == 4 and agent.config.total_steps == 300
    with pytest.raises(ValueError, match=r"unknown TRPOConfig fields \['max_kll'\]"):
        train("CartPole-v1", max_kll=0.1)
    with pytest.raises(ValueError, match=r"max_kl must be a finite number > 0; got -1"):
        train("CartPole-v1", max_kl=-1)


@pytest.mark.slow
def test_cartpole_learns_to_475_within_40k_steps():
    """The preset's promise (benchmarks/RESULTS.md), at a fixed seed: the mean return of the last
    10 finished training episodes reaches CartPole-v1's threshold of 475 within 40k steps."""
    _, history = train("CartPole-v1", seed=0, progress=False, total_steps=40_000)
    returns = [e["return"] for e in history.episodes]
    windows = [np.mean(returns[j - 10:j]) for j in range(10, len(returns) + 1)]
    assert max(windows) >= 475, f"best mean of 10 consecutive training episodes: {max(windows):.1f}"
