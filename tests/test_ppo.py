"""PPO-clip (trpo_lite.ppo): L^CLIP against a hand computation, its gradient, the update's statistics,
the dispatch from update_policy, and a short run that learns CartPole."""

import dataclasses
import math

import pytest
import torch

from trpo_lite import TRPOConfig, importance_ratio, surrogate, update_policy
from trpo_lite.agent import Agent
from trpo_lite.flat import flat_params
from trpo_lite.ppo import clipped_surrogate, ppo_update
from trpo_lite.training import train


def test_clipped_surrogate_against_a_hand_computation():
    # epsilon = 0.2: terms min(rho A, clip(rho) A) written out one by one
    rho = torch.tensor([0.5, 1.1, 1.5, 0.7, 1.3, 0.9], dtype=torch.float64)
    A = torch.tensor([1.0, 1.0, 1.0, -1.0, -2.0, 0.0], dtype=torch.float64)
    by_hand = [min(0.5, 0.8) * 1,  # A > 0, rho below the range: the unclipped 0.5 is the lower
               1.1,  # inside the range: rho A
               1.2,  # A > 0, rho above: clipped at 1 + epsilon
               -0.8,  # A < 0, rho below: clipped at 1 - epsilon, -0.8 < -0.7
               -2.6,  # A < 0, rho above: the unclipped -2.6 < -2.4
               0.0]
    got = clipped_surrogate(rho.log(), torch.zeros(6, dtype=torch.float64), A, 0.2)
    assert float(got) == pytest.approx(sum(by_hand) / 6, abs=1e-15)


def test_gradient_is_zero_outside_the_clip_region_and_rho_A_inside():
    rho = torch.linspace(0.3, 1.9, 33, dtype=torch.float64)
    eps = 0.2
    for sign in (1.0, -1.0):
        A = torch.full_like(rho, 2.0 * sign)
        log_rho = rho.log().requires_grad_()
        clipped_surrogate(log_rho, torch.zeros_like(rho), A, eps).backward()
        flat = (rho > 1 + eps) if sign > 0 else (rho < 1 - eps)  # the side where L^CLIP stops rewarding
        expected = torch.where(flat, 0.0, rho * A / len(rho))  # d(rho A)/d log rho = rho A, over the mean
        assert torch.equal(log_rho.grad == 0, flat)
        torch.testing.assert_close(log_rho.grad, expected, rtol=1e-12, atol=0)


def test_at_the_old_policy_it_matches_the_surrogate_in_value_and_gradient():
    torch.manual_seed(0)
    log_old = torch.randn(50, dtype=torch.float64)
    log_new = log_old.clone().requires_grad_()
    A = torch.randn(50, dtype=torch.float64)
    clip = clipped_surrogate(log_new, log_old, A, 0.2)
    (g_clip,) = torch.autograd.grad(clip, log_new)
    plain = surrogate(log_new, log_old, A)
    (g_plain,) = torch.autograd.grad(plain, log_new)
    assert clip.detach().item() == plain.detach().item() == pytest.approx(A.mean().item())
    torch.testing.assert_close(g_clip, g_plain, rtol=0, atol=0)
    # and never above it (a pessimistic bound on L), anywhere
    log_far = log_old + torch.randn(50, dtype=torch.float64)
    assert float(clipped_surrogate(log_far, log_old, A, 0.2)) <= float(surrogate(log_far, log_old, A))
    assert torch.all(importance_ratio(log_new, log_old) == 1)


def batch(seed=0, n=256):
    """A random CartPole-shaped batch and a fresh agent."""
    import gymnasium as gym

    torch.manual_seed(seed)
    config = TRPOConfig(update="ppo", hidden_sizes=(16,), value_hidden_sizes=(16,))
    agent = Agent(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2), config)
    obs = torch.randn(n, 4)
    with torch.no_grad():
        actions = agent.policy.distribution(obs).sample()
    return agent, obs, actions, torch.randn(n), config


def test_ppo_update_logs_trpos_keys_and_measures_the_kl_it_took():
    agent, obs, actions, A, config = batch()
    with torch.no_grad():
        old = agent.policy.distribution(obs)
    theta = flat_params(list(agent.policy.parameters())).clone()
    stats = ppo_update(agent.policy, obs, actions, A, config)
    assert set(stats) == {"policy/kl", "policy/surrogate_gain", "policy/entropy", "line_search/backtracks",
                          "line_search/accepted", "line_search/step_fraction", "policy/skipped"}
    assert not torch.equal(theta, flat_params(list(agent.policy.parameters())))
    with torch.no_grad():  # the KL, recomputed here from the two categorical distributions
        p, q = old.probs, agent.policy.distribution(obs).probs
        kl = float((p * (p / q).log()).sum(-1).mean())
        gain = float(((q.gather(1, actions[:, None]) / p.gather(1, actions[:, None])).squeeze(1) * A).mean()
                     - A.mean())
    assert stats["policy/kl"] == pytest.approx(kl, rel=1e-5) and kl > 0
    assert stats["policy/surrogate_gain"] == pytest.approx(gain, rel=1e-4, abs=1e-7) and gain > 0


def test_update_policy_dispatches_to_ppo_and_is_reproducible():
    results = []
    for _ in range(2):
        agent, obs, actions, A, config = batch(seed=3)
        torch.manual_seed(7)
        stats = update_policy(agent.policy, obs, actions, A, config)
        results.append((stats, flat_params(list(agent.policy.parameters()))))
    assert results[0][0] == results[1][0] and torch.equal(results[0][1], results[1][1])
    agent, obs, actions, A, config = batch(seed=3)
    torch.manual_seed(7)
    ppo_update(agent.policy, obs, actions, A, config)
    assert torch.equal(flat_params(list(agent.policy.parameters())), results[0][1])


def test_more_epochs_move_further_and_non_finite_advantages_are_refused():
    kls = []
    for epochs in (1, 10):
        agent, obs, actions, A, config = batch(seed=1)
        kls.append(ppo_update(agent.policy, obs, actions, A, dataclasses.replace(config, ppo_epochs=epochs))
                   ["policy/kl"])
    assert kls[0] < kls[1]
    agent, obs, actions, A, config = batch()
    A[3] = math.nan
    with pytest.raises(ValueError, match="advantages hold non-finite values"):
        update_policy(agent.policy, obs, actions, A, config)


@pytest.mark.slow
def test_ppo_learns_cartpole():
    _, history = train("CartPole-v1", seed=0, progress=False, update="ppo", total_steps=30_000)
    first = history[2]["rollout/return_last10"]
    assert first < 60 and history[-1]["rollout/return_last10"] > 300, (first, history[-1])
