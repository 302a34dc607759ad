"""Step scale (E9) and line search (E12) on problems whose answer is known by hand."""

import math

import pytest
import torch
from torch.distributions import Categorical

from trpo_lite import flat_params, line_search, mean_kl, natural_step_scale, set_flat_params


def test_step_scale_puts_the_quadratic_model_on_the_boundary():
    H = torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=torch.float64)
    x = torch.tensor([0.7, -1.2], dtype=torch.float64)
    beta = natural_step_scale(x, H @ x, max_kl=0.01)
    assert 0.5 * beta**2 * (x @ H @ x).item() == pytest.approx(0.01, rel=1e-12)


def test_step_scale_rejects_bad_input():
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0"):
        natural_step_scale(torch.ones(2), torch.ones(2), max_kl=0.0)
    with pytest.raises(ValueError, match=r"x\^T H x must be > 0"):
        natural_step_scale(torch.zeros(2), torch.zeros(2), max_kl=0.01)


def quadratic_problem():
    """theta in R^1, KL(theta) = theta^2, surrogate gain = theta - theta_0 (theta_0 = 0)."""
    theta = torch.nn.Parameter(torch.zeros(1))
    return theta, (lambda: theta.sum()), (lambda: (theta**2).sum())


def test_line_search_backtracks_to_the_first_step_inside_the_trust_region():
    theta, gain, kl = quadratic_problem()
    # fractions 1, 1/2, 1/4, 1/8, 1/16 -> KL 1, .25, .0625, .0156, .0039: the 5th step (i = 4) is accepted.
    result = line_search([theta], torch.ones(1), gain, kl, max_kl=0.01, backtrack_coef=0.5)
    assert result.accepted and result.backtracks == 4 and result.step_fraction == 1 / 16
    assert theta.item() == 1 / 16 and result.kl == pytest.approx(1 / 256)


def test_line_search_accepts_a_safe_step_at_once():
    theta, gain, kl = quadratic_problem()
    result = line_search([theta], torch.full((1,), 0.05), gain, kl, max_kl=0.01)
    assert result.accepted and result.backtracks == 0 and theta.item() == pytest.approx(0.05)


def test_line_search_rejects_a_step_that_never_improves_and_restores_theta():
    theta, gain, kl = quadratic_problem()
    result = line_search([theta], -torch.ones(1), gain, kl, max_kl=0.01, max_backtracks=5)
    assert not result.accepted and result.backtracks == 5 and result.step_fraction == 0.0
    assert theta.item() == 0.0


def test_line_search_rejects_kl_violation_and_restores_policy_bit_for_bit():
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    obs = torch.randn(64, 4)
    old = Categorical(logits=net(obs).detach())
    before = [p.detach().clone() for p in net.parameters()]
    # A step that improves the "surrogate" (the first logit) but always leaves the trust region.
    step = torch.zeros_like(flat_params(net.parameters()))
    step[net.weight.numel()] = 1e4  # bias of logit 0 (after the 12 weights): huge change at every backtrack
    result = line_search(
        net.parameters(),
        step,
        surrogate_gain=lambda: net.bias[0] - before[1][0],
        kl=lambda: mean_kl(old, Categorical(logits=net(obs))),
        max_kl=0.01,
        max_backtracks=3,
    )
    assert not result.accepted and result.kl > 0.01
    assert result.surrogate_gain > 0  # so the KL, not the gain, is what rejected the step
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before, strict=True))


def test_line_search_never_accepts_nan():
    theta, _, kl = quadratic_problem()
    result = line_search([theta], torch.ones(1) * 0.01, lambda: torch.tensor(math.nan), kl, max_kl=0.01)
    assert not result.accepted and theta.item() == 0.0


def test_line_search_rejects_bad_settings():
    theta, gain, kl = quadratic_problem()
    with pytest.raises(ValueError, match=r"backtrack_coef must lie in \(0, 1\); got 1.5"):
        line_search([theta], torch.ones(1), gain, kl, max_kl=0.01, backtrack_coef=1.5)
    with pytest.raises(ValueError, match="max_backtracks must be an integer >= 0"):
        line_search([theta], torch.ones(1), gain, kl, max_kl=0.01, max_backtracks=-1)
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0; got -1"):
        line_search([theta], torch.ones(1), gain, kl, max_kl=-1)


def test_flat_params_round_trip_and_size_check():
    net = torch.nn.Linear(3, 2)
    theta = flat_params(net.parameters())
    set_flat_params(net.parameters(), theta + 1)
    torch.testing.assert_close(flat_params(net.parameters()), theta + 1)
    with pytest.raises(ValueError, match=r"theta has shape \(3,\), expected \(8,\)"):
        set_flat_params(net.parameters(), torch.zeros(3))


def test_one_backtracking_default_for_the_function_and_the_agent():
    import inspect

    from trpo_lite import BACKTRACK_COEF, TRPOConfig

    default = inspect.signature(line_search).parameters["backtrack_coef"].default
    assert default == TRPOConfig().backtrack_coef == BACKTRACK_COEF == 0.8
    theta, gain, kl = quadratic_problem()
    result = line_search([theta], torch.ones(1), gain, kl, max_kl=0.05)  # KL = fraction^2 <= 0.05
    assert result.accepted and result.backtracks == 7 and result.step_fraction == pytest.approx(0.8**7)
    assert 0.8**6 > math.sqrt(0.05) >= 0.8**7  # so 7 shrinks by 0.8 are the fewest that fit
