"""Notebook 05's small network and its KLs: the flat-parameter logits against the network itself, both KL
directions against sums written out in numpy, the quadratic model against the explicit Hessian, and the
sampled estimates against the exact KLs."""

import numpy as np
import pytest
import torch

from trpo_lite.examples import kl_geometry as kg


@pytest.fixture(scope="module")
def small():
    return kg.make_small_policy(seed=0)


def numpy_kls(small, theta):
    """Mean over states of KL(old || new) and KL(new || old), from softmaxes in numpy."""
    def softmax(z):
        z = z - z.max(-1, keepdims=True)
        return np.exp(z) / np.exp(z).sum(-1, keepdims=True)

    p = softmax(small.old_logits.numpy())
    with torch.no_grad():
        q = softmax(small.logits(theta).numpy())
    return (p * np.log(p / q)).sum(-1).mean(), (q * np.log(q / p)).sum(-1).mean()


def test_flat_logits_are_the_networks_and_differentiable(small):
    logits = kg.flat_logits_fn(small.policy, small.obs)
    with torch.no_grad():
        assert torch.equal(logits(small.theta_old), small.policy(small.obs))
    theta = small.theta_old.clone().requires_grad_()
    (grad,) = torch.autograd.grad(logits(theta)[0, 1], theta)
    sizes = [p.numel() for p in small.policy.parameters()]
    b2 = grad[-sizes[-1]:]  # d logit_1 / d output bias = e_1
    assert torch.equal(b2, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    flat = torch.cat([p.detach().reshape(-1) for p in small.policy.parameters()])
    assert torch.equal(small.theta_old, flat)


def test_the_small_policy_is_reproducible_and_its_advantages_centred(small):
    again = kg.make_small_policy(seed=0)
    assert torch.equal(again.theta_old, small.theta_old) and torch.equal(again.obs, small.obs)
    assert torch.equal(again.advantages, small.advantages)
    assert not torch.equal(kg.make_small_policy(seed=1).obs, small.obs)
    probs = torch.softmax(small.old_logits, -1)
    assert (probs * small.advantages).sum(-1).abs().max() < 1e-15
    assert small.theta_old.shape == (4 * 16 + 16 + 16 * 3 + 3,) and small.obs.shape == (64, 4)


def test_kls_and_gain_against_numpy(small):
    generator = torch.Generator().manual_seed(3)
    for scale in (0.0, 0.1, 1.0):
        d = torch.randn(len(small.theta_old), dtype=torch.float64, generator=generator)
        theta = small.theta_old + scale * d
        forward, reverse = numpy_kls(small, theta)
        assert float(small.kl(theta)) == pytest.approx(forward, rel=1e-10, abs=1e-15)
        assert float(small.reverse_kl(theta)) == pytest.approx(reverse, rel=1e-10, abs=1e-15)
        with torch.no_grad():
            q = torch.softmax(small.logits(theta), -1).numpy()
        gain = np.mean([q[b] @ small.advantages[b].numpy() for b in range(len(q))])
        assert float(small.surrogate_gain(theta)) == pytest.approx(gain, rel=1e-10, abs=1e-15)
    assert float(small.kl(small.theta_old)) == 0 and abs(float(small.surrogate_gain(small.theta_old))) < 1e-16


def test_kl_along_line_against_the_explicit_hessian(small):
    H = torch.autograd.functional.hessian(small.kl, small.theta_old)
    d = torch.randn(len(small.theta_old), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ts = np.array([-0.5, 1e-3, 0.1, 1.0])
    line = kg.kl_along_line(small, d, ts)
    assert line["curvature"] == pytest.approx(float(d @ H @ d), rel=1e-10)
    assert np.allclose(line["model"], 0.5 * ts**2 * float(d @ H @ d), rtol=1e-10)
    for t, forward, reverse in zip(ts, line["kl"], line["reverse_kl"], strict=True):
        assert (forward, reverse) == pytest.approx(numpy_kls(small, small.theta_old + t * d), rel=1e-9)
    # the quadratic is the leading term: relative error small near 0, large far away
    relative = np.abs(line["kl"] / line["model"] - 1)
    assert relative[1] < 1e-2 < relative[3]


def test_sampled_kl_estimates(small):
    d = torch.randn(len(small.theta_old), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    theta = small.theta_old + 0.3 * d
    forward, reverse = numpy_kls(small, theta)
    estimate = kg.sampled_kl(small, theta, samples_per_state=500, seed=4)
    assert estimate["samples"] == 500 * 64
    assert estimate["naive_reverse"] == pytest.approx(-estimate["kl"], rel=1e-12)
    assert abs(estimate["kl"] - forward) < 4 * estimate["kl_se"]
    assert abs(estimate["reverse"] - reverse) < 4 * estimate["reverse_se"]
    assert 0 < estimate["kl_se"] < 0.1 * forward
    assert kg.sampled_kl(small, theta, 500, seed=4) == estimate
    assert kg.sampled_kl(small, theta, 500, seed=5)["kl"] != estimate["kl"]
    # the estimates average the log ratio of the sampled actions: at theta_old every term is 0
    at_old = kg.sampled_kl(small, small.theta_old, 10, seed=0)
    assert at_old["kl"] == 0 and at_old["reverse"] == 0
