"""Notebook 08's "exact or not" table: update_accuracy's measurements against the closed-form categorical
Fisher matrix and an explicit solve on a small policy, and the policy it measures left untouched."""

import copy

import pytest
import torch
from gymnasium import spaces
from torch.func import functional_call, jacrev

from trpo_lite import agent as agent_module
from trpo_lite.config import TRPOConfig
from trpo_lite.examples.trpo_accuracy import update_accuracy
from trpo_lite.flat import flat_params


@pytest.fixture(scope="module")
def problem():
    torch.manual_seed(0)
    config = TRPOConfig(hidden_sizes=(4,), cg_iters=10, fvp_subsample=0.5, max_kl=0.01)
    policy = agent_module.Agent(spaces.Box(-1, 1, (3,)), spaces.Discrete(3), config).policy
    obs = torch.randn(200, 3)
    with torch.no_grad():
        actions = policy.distribution(obs).sample()
    advantages = torch.randn(200)
    return policy, obs, actions, (advantages - advantages.mean()) / advantages.std(), config


def explicit_fisher_and_gradient(policy, obs, actions, advantages):
    """H = mean_b J_b^T (diag p_b - p_b p_b^T) J_b (the categorical Fisher matrix, J = d logits / d theta)
    and g = mean_b grad log pi(a_b|s_b) A_b, both from the logits' Jacobian."""
    net = copy.deepcopy(policy.logits).double()
    names = [n for n, _ in net.named_parameters()]
    theta = {n: p.detach() for n, p in net.named_parameters()}
    jac = jacrev(lambda params: functional_call(net, params, (obs.double(),)))(theta)  # per name [B, A, ...]
    J = torch.cat([jac[n].reshape(len(obs), 3, -1) for n in names], dim=2)  # [B, A, P]
    with torch.no_grad():
        p = torch.softmax(net(obs.double()), -1)  # [B, A]
    curvature = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    H = torch.einsum("bap,bac,bcq->pq", J, curvature, J) / len(obs)
    score = torch.nn.functional.one_hot(actions, 3).double() - p  # d log pi(a|s) / d logits
    g = torch.einsum("ba,bap->p", score * advantages.double()[:, None], J) / len(obs)
    return H, g


def test_measurements_against_the_closed_form_fisher_matrix(problem):
    policy, obs, actions, advantages, config = problem
    before = flat_params(policy.parameters()).clone()
    acc = update_accuracy(policy, obs, actions, advantages, config)
    assert torch.equal(flat_params(policy.parameters()), before)  # measured on a copy
    H, g = explicit_fisher_and_gradient(policy, obs, actions, advantages)
    damped = H + config.damping * torch.eye(len(g), dtype=torch.float64)
    x = torch.linalg.solve(damped, g)
    assert acc["pg_error"] < 1e-12 and abs(acc["model_kl"] - config.max_kl) < 1e-12
    assert acc["cg_residual"] < 1e-3  # 10 CG steps on a small damped system
    # the damping share of x^T (H + damping I) x, with the exact solve in place of CG's x
    share = config.damping * float(x @ x) / float(x @ damped @ x)
    assert acc["damping_share"] == pytest.approx(share, rel=1e-2)
    # the quadratic model with the explicit H predicts the true KL of the full step to second order
    beta = (2 * config.max_kl / float(x @ damped @ x)) ** 0.5
    model = 0.5 * beta**2 * float(x @ H @ x)
    assert acc["true_kl"] == pytest.approx(model, rel=0.1)
    assert 0 < acc["subsample_error"] < 1 and acc["accepted"] and acc["accepted_kl"] <= config.max_kl
    assert acc["max_state_kl"] >= acc["accepted_kl"] and acc["scale_error"] < 1e-2
    assert acc["gain"] > 0 and acc["gain_se"] > 0
