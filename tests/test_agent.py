"""The policy update (E14) against explicit matrices: g by autograd, H by torch's hessian, x by solve."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn
from torch.nn.utils import parameters_to_vector

from trpo_lite.agent import Agent, update_policy
from trpo_lite.config import TRPOConfig
from trpo_lite.importance import mean_kl
from trpo_lite.policies import make_policy

OBS = spaces.Box(-np.inf, np.inf, (2,), np.float32)
CONFIG = TRPOConfig(hidden_sizes=(3,), max_kl=0.02, damping=0.05, cg_iters=60, fvp_subsample=1.0)
# CG stops once r^T r < 1e-10 (its default tol), i.e. |r| < 1e-5, so its x agrees with the explicit
# solve to about that relative to the step, not to machine precision (float64, iterations > P).
CG_ATOL = 1e-4


def small_problem(action_space):
    """A float64 policy with a handful of parameters and a batch of 40 samples."""
    torch.manual_seed(0)
    policy = make_policy(OBS, action_space, CONFIG.hidden_sizes).double()
    obs = torch.randn(40, 2, dtype=torch.float64)
    with torch.no_grad():
        actions = policy.act(obs)
    advantages = torch.randn(40, dtype=torch.float64)
    return policy, obs, actions, advantages


class Call(nn.Module):
    """Wraps fn(policy), so that torch.func.functional_call can swap the policy's parameters."""

    def __init__(self, policy, fn):
        super().__init__()
        self.policy, self.fn = policy, fn

    def forward(self):
        return self.fn(self.policy)


def of_theta(policy, fn):
    """fn(policy) as a differentiable function of the flat parameter vector theta [P]."""
    names, shapes = zip(*[(n, p.shape) for n, p in policy.named_parameters()], strict=True)

    def f(theta):
        chunks = torch.split(theta, [s.numel() for s in shapes])
        params = {f"policy.{n}": c.view(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        return torch.func.functional_call(Call(policy, fn), params, ())

    return f


def explicit_step(policy, obs, actions, advantages):
    """g, and the natural step beta x with x = (H + damping I)^-1 g from the explicit Fisher matrix (E9)."""
    theta = parameters_to_vector(policy.parameters()).detach()
    with torch.no_grad():
        old = policy.distribution(obs)
        log_prob_old = old.log_prob(actions)
    surrogate = of_theta(policy, lambda p: (torch.exp(p.distribution(obs).log_prob(actions) - log_prob_old)
                                            * advantages).mean())  # mean rho A (E6)
    g = torch.autograd.functional.jacobian(surrogate, theta)
    kl = of_theta(policy, lambda p: mean_kl(old, p.distribution(obs)))
    H = torch.autograd.functional.hessian(kl, theta)
    H_damped = H + CONFIG.damping * torch.eye(len(theta), dtype=theta.dtype)
    x = torch.linalg.solve(H_damped, g)
    beta = math.sqrt(2 * CONFIG.max_kl / float(x @ H_damped @ x))
    return theta, g, beta * x


@pytest.mark.parametrize("action_space", [spaces.Discrete(3), spaces.Box(-1.0, 1.0, (2,), np.float32)],
                         ids=["categorical", "gaussian"])
def test_npg_takes_the_explicit_natural_step(action_space):
    policy, obs, actions, advantages = small_problem(action_space)
    theta, _, step = explicit_step(policy, obs, actions, advantages)
    stats = update_policy(policy, obs, actions, advantages, dataclasses.replace(CONFIG, update="npg"))
    taken = parameters_to_vector(policy.parameters()) - theta
    assert torch.allclose(taken, step, atol=CG_ATOL * float(step.abs().max()))
    assert stats["line_search/accepted"] and stats["line_search/backtracks"] == 0


def test_vpg_takes_the_plain_gradient_step():
    policy, obs, actions, advantages = small_problem(spaces.Discrete(3))
    theta, g, _ = explicit_step(policy, obs, actions, advantages)
    update_policy(policy, obs, actions, advantages, dataclasses.replace(CONFIG, update="vpg", pg_lr=0.3))
    assert torch.allclose(parameters_to_vector(policy.parameters()) - theta, 0.3 * g, atol=1e-10)


def narrowing_problem():
    """Gaussian policy, advantages favouring actions near the mean: the step shrinks the std, where
    the KL grows faster than its quadratic model (as sigma_old^2 / 2 sigma_new^2), so E12 must backtrack."""
    policy, obs, actions, _ = small_problem(spaces.Box(-1.0, 1.0, (2,), np.float32))
    with torch.no_grad():
        z = ((actions - policy.mean(obs)) ** 2).sum(-1)
    return policy, obs, actions, z.mean() - z


@pytest.mark.parametrize("problem, backtracks", [
    (lambda: small_problem(spaces.Discrete(3)), False),
    (narrowing_problem, True),
], ids=["accepted-at-once", "backtracked"])
def test_trpo_step_is_a_backtracked_natural_step_inside_the_region(problem, backtracks):
    policy, obs, actions, advantages = problem()
    config = dataclasses.replace(CONFIG, max_kl=0.5)
    theta, _, step = explicit_step(policy, obs, actions, advantages)
    step = step * math.sqrt(config.max_kl / CONFIG.max_kl)  # beta grows with sqrt(delta)
    stats = update_policy(policy, obs, actions, advantages, config)
    assert stats["line_search/accepted"]
    assert (stats["line_search/backtracks"] > 0) == backtracks
    fraction = config.backtrack_coef ** stats["line_search/backtracks"]
    assert stats["line_search/step_fraction"] == pytest.approx(fraction)
    taken = parameters_to_vector(policy.parameters()) - theta
    assert torch.allclose(taken, fraction * step, atol=CG_ATOL * float(step.abs().max()))
    assert 0 < stats["policy/kl"] <= config.max_kl and stats["policy/surrogate_gain"] > 0


@pytest.mark.parametrize("overrides, accepted", [
    ({"max_kl": 0.5}, True),
    ({"max_kl": 0.5, "max_backtracks": 0}, False),  # the full step overshoots (see narrowing_problem)
    ({"update": "npg"}, True),
], ids=["trpo-accepted", "trpo-rejected", "npg"])
def test_reported_kl_and_gain_are_those_of_the_new_policy(overrides, accepted):
    # The line search's own measurements are reported for an accepted step; check them afresh.
    policy, obs, actions, advantages = narrowing_problem()
    with torch.no_grad():
        old = policy.distribution(obs)
        log_prob_old = old.log_prob(actions)
    stats = update_policy(policy, obs, actions, advantages, dataclasses.replace(CONFIG, **overrides))
    assert stats["line_search/accepted"] == accepted
    with torch.no_grad():
        new = policy.distribution(obs)
        kl = float(mean_kl(old, new))
        ratio = torch.exp(new.log_prob(actions) - log_prob_old)
        gain = float((ratio * advantages).mean() - advantages.mean())
    assert stats["policy/kl"] == pytest.approx(kl, rel=1e-9, abs=1e-15)
    assert stats["policy/surrogate_gain"] == pytest.approx(gain, rel=1e-9, abs=1e-15)


def test_update_reports_the_old_policy_entropy():
    policy, obs, actions, advantages = small_problem(spaces.Discrete(3))
    with torch.no_grad():
        entropy = float(policy.distribution(obs).entropy().mean())
    assert update_policy(policy, obs, actions, advantages, CONFIG)["policy/entropy"] == pytest.approx(entropy)


def test_agent_acts_on_normalised_observations_and_clips():
    torch.manual_seed(0)
    config = TRPOConfig(env_id="Pendulum-v1", normalize_obs=True, hidden_sizes=(8,))
    agent = Agent(OBS, spaces.Box(-0.1, 0.1, (1,), np.float32), config)
    agent.obs_norm.update(torch.tensor([[0.0, 100.0], [2.0, 300.0]]))
    obs = np.array([[1.0, 200.0], [3.0, 500.0]], np.float32)
    actions, env_actions = agent.act(obs, deterministic=True)
    expected = agent.policy.mean(torch.tensor([[0.0, 0.0], [2.0, 3.0]])).detach().numpy()
    np.testing.assert_allclose(actions, expected, atol=1e-6)
    np.testing.assert_array_equal(env_actions, np.clip(actions, -0.1, 0.1))
