"""Fisher-vector products (E10) against the explicit Hessian of the mean KL."""

import pytest
import torch
from torch.distributions import Categorical, Independent, Normal
from torch.func import functional_call

from trpo_lite import fisher_vector_product, fisher_vector_product_fn, flat_params, mean_kl


class TinyGaussian(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
        self.log_std = torch.nn.Parameter(torch.tensor([-0.3, 0.2]))

    def forward(self, obs):
        return Independent(Normal(self.mean(obs), self.log_std.exp()), 1)


class TinyCategorical(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4))

    def forward(self, obs):
        return Categorical(logits=self.net(obs))


def explicit_kl_hessian(policy, obs):
    """d^2/dtheta^2 of mean KL(old || policy(theta)) at theta_old, formed with torch.autograd.functional."""
    names = [n for n, _ in policy.named_parameters()]
    shapes = [p.shape for p in policy.parameters()]
    old = policy(obs)
    if isinstance(old, Independent):
        old = Independent(Normal(old.base_dist.loc.detach(), old.base_dist.scale.detach()), 1)
    else:
        old = Categorical(logits=old.logits.detach())

    def kl_of(theta):
        chunks = torch.split(theta, [s.numel() for s in shapes])
        params = {n: c.view(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        return mean_kl(old, functional_call(policy, params, (obs,)))

    return torch.autograd.functional.hessian(kl_of, flat_params(policy.parameters())), old


@pytest.mark.parametrize("make_policy", [TinyCategorical, TinyGaussian], ids=["categorical", "gaussian"])
def test_fvp_equals_explicit_hessian_times_v(make_policy):
    torch.manual_seed(0)
    policy = make_policy().double()
    obs = torch.randn(32, 3, dtype=torch.float64)
    H, old = explicit_kl_hessian(policy, obs)
    kl = mean_kl(old, policy(obs))
    fvp = fisher_vector_product_fn(kl, policy.parameters(), damping=0.1)
    for _ in range(3):
        v = torch.randn(H.shape[0], dtype=torch.float64)
        torch.testing.assert_close(fvp(v), H @ v + 0.1 * v, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(fisher_vector_product(kl, policy.parameters(), v), H @ v)
    assert torch.linalg.eigvalsh(H).max() > 1e-3  # the KL is flat to first order, not to second


def test_fvp_rejects_negative_damping_and_wrong_vector_size():
    policy = TinyCategorical()
    obs = torch.randn(8, 3)
    kl = mean_kl(Categorical(logits=policy(obs).logits.detach()), policy(obs))
    n = flat_params(policy.parameters()).numel()
    with pytest.raises(ValueError, match="damping must be a finite number >= 0; got -0.1"):
        fisher_vector_product(kl, policy.parameters(), torch.zeros(n), damping=-0.1)
    with pytest.raises(ValueError, match=rf"v has shape \(3,\), expected \({n},\)"):
        fisher_vector_product(kl, policy.parameters(), torch.zeros(3))
