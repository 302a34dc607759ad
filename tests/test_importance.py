"""Importance ratio, sample surrogate and mean KL (E5, E6, E8) against explicit formulas."""

import math

import pytest
import torch
from torch.distributions import Categorical, Independent, Normal

from trpo_lite import importance_ratio, mean_kl, surrogate


def test_ratio_is_the_probability_quotient():
    p_new, p_old = torch.tensor([0.2, 0.5, 0.9]), torch.tensor([0.4, 0.5, 0.3])
    torch.testing.assert_close(importance_ratio(p_new.log(), p_old.log()), p_new / p_old)


def test_surrogate_at_the_old_policy_is_the_mean_advantage():
    logp, adv = torch.randn(100), torch.randn(100)
    assert surrogate(logp, logp, adv).item() == pytest.approx(adv.mean().item(), abs=1e-6)


def test_importance_sampling_is_unbiased():
    """E6: the mean of rho A over old-policy samples estimates E_{a~new}[A] (within 4 standard errors)."""
    g = torch.Generator().manual_seed(0)
    old, new = torch.tensor([0.5, 0.3, 0.2]), torch.tensor([0.1, 0.3, 0.6])
    A = torch.tensor([-1.0, 0.5, 2.0])
    a = torch.multinomial(old, 200_000, replacement=True, generator=g)
    samples = importance_ratio(new[a].log(), old[a].log()) * A[a]
    exact = (new * A).sum()
    se = samples.std() / math.sqrt(len(samples))
    assert abs(samples.mean() - exact) < 4 * se
    assert surrogate(new[a].log(), old[a].log(), A[a]).item() == pytest.approx(samples.mean().item())


def test_mean_kl_matches_explicit_categorical_formula():
    p, q = torch.softmax(torch.randn(5, 4), 1), torch.softmax(torch.randn(5, 4), 1)
    explicit = (p * (p / q).log()).sum(1).mean()
    torch.testing.assert_close(mean_kl(Categorical(probs=p), Categorical(probs=q)), explicit)


def test_mean_kl_sums_gaussian_dimensions():
    mu1, mu2 = torch.randn(6, 3), torch.randn(6, 3)
    s1, s2 = torch.rand(6, 3) + 0.5, torch.rand(6, 3) + 0.5
    per_dim = (s2 / s1).log() + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5
    gaussian = [Independent(Normal(mu, s), 1) for mu, s in ((mu1, s1), (mu2, s2))]
    torch.testing.assert_close(mean_kl(*gaussian), per_dim.sum(1).mean())


def test_mean_kl_refuses_a_gaussian_without_its_action_dimensions():
    # Normal(mu [B, D], ...) is B x D one-dimensional distributions: averaging their KLs would divide by D
    mu = torch.randn(6, 3)
    with pytest.raises(ValueError, match=r"got batch shape \(6, 3\)\. Wrap .* Independent"):
        mean_kl(Normal(mu, torch.ones(6, 3)), Normal(mu + 1, torch.ones(6, 3)))


def test_kl_is_zero_with_zero_gradient_at_the_old_policy():
    net = torch.nn.Linear(3, 4)
    obs = torch.randn(20, 3)
    old = Categorical(logits=net(obs).detach())
    kl = mean_kl(old, Categorical(logits=net(obs)))
    grads = torch.autograd.grad(kl, list(net.parameters()))
    assert kl.item() == pytest.approx(0.0, abs=1e-7)
    assert max(g.abs().max().item() for g in grads) < 1e-6


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"advantages has shape \(4,\), expected \(5,\)"):
        surrogate(torch.zeros(5), torch.zeros(5), torch.zeros(4))
    with pytest.raises(ValueError, match="log_prob_old has shape"):
        importance_ratio(torch.zeros(5), torch.zeros(3))
