"""Notebook 05's small policy network and the KL around its parameters theta_old, in both directions (E8, E9).

The mean KL is 0 at theta_old with zero gradient, so the first term of its Taylor series is the quadratic
1/2 d^T H d (E9). ``kl_along_line`` measures how fast the true KL leaves that quadratic, for
D_KL(pi_old || pi_theta) (TRPO's direction) and D_KL(pi_theta || pi_old) (the reverse); ``sampled_kl``
estimates both from actions drawn by the old policy, as a batch would hold them.

Shapes: B states, D observation size, A actions, P parameters, T points along a line, N samples per state.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical
from torch.func import functional_call

from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_params
from trpo_lite.importance import mean_kl


def flat_logits_fn(policy: nn.Module, obs: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """theta [P] -> the policy's logits [B, A] at obs [B, D] with its parameters replaced by the flat vector
    theta (in the order of ``policy.parameters()``), differentiable in theta; the policy is not changed."""
    named = dict(policy.named_parameters())
    sizes = [p.numel() for p in named.values()]

    def logits(theta: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(theta, sizes)
        weights = {name: t.view_as(p) for (name, p), t in zip(named.items(), pieces, strict=True)}
        return functional_call(policy, weights, (obs,))

    return logits


@dataclass(frozen=True)
class SmallPolicy:
    """A categorical MLP policy at theta_old, its states and fixed advantages, as functions of a flat theta.

    policy: D -> hidden -> A, tanh, float64. obs [B, D]: the states. advantages [B, A]: A(s, a), zero mean
    under pi_old in every state. theta_old [P]: the parameters. old_logits [B, A]: pi_old's logits.
    """

    policy: nn.Module
    obs: torch.Tensor
    advantages: torch.Tensor
    theta_old: torch.Tensor
    old_logits: torch.Tensor

    def logits(self, theta: torch.Tensor) -> torch.Tensor:
        """Logits [B, A] at parameters theta [P]."""
        return flat_logits_fn(self.policy, self.obs)(theta)

    def kl(self, theta: torch.Tensor) -> torch.Tensor:
        """Mean over the states of D_KL(pi_old || pi_theta), TRPO's direction (E8): a scalar."""
        return mean_kl(Categorical(logits=self.old_logits), Categorical(logits=self.logits(theta)))

    def reverse_kl(self, theta: torch.Tensor) -> torch.Tensor:
        """Mean over the same states of D_KL(pi_theta || pi_old), the other direction: a scalar."""
        return mean_kl(Categorical(logits=self.logits(theta)), Categorical(logits=self.old_logits))

    def surrogate_gain(self, theta: torch.Tensor) -> torch.Tensor:
        """L(theta) - L(theta_old) = mean_s sum_a pi_theta(a|s) A(s, a) (E5, E6 with equal state weights),
        exact over the actions; 0 at theta_old because the advantages are centred there."""
        return (torch.softmax(self.logits(theta), -1) * self.advantages).sum(-1).mean()


def make_small_policy(seed: int = 0, batch_size: int = 64, obs_size: int = 4, hidden: int = 16,
                      actions: int = 3) -> SmallPolicy:
    """The network (obs_size -> hidden -> actions, tanh, float64) with torch's initial weights for this seed,
    batch_size states ~ N(0, I) and advantages ~ N(0, 1) centred under pi_old, all from one generator."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # nn.Linear draws its initial weights from torch's global generator
    policy = nn.Sequential(nn.Linear(obs_size, hidden), nn.Tanh(), nn.Linear(hidden, actions)).double()
    obs = torch.randn(batch_size, obs_size, dtype=torch.float64, generator=generator)
    raw = torch.randn(batch_size, actions, dtype=torch.float64, generator=generator)
    with torch.no_grad():
        old_logits = policy(obs)
    probs = torch.softmax(old_logits, -1)
    advantages = raw - (probs * raw).sum(-1, keepdim=True)
    return SmallPolicy(policy, obs, advantages, flat_params(policy.parameters()), old_logits)


def kl_along_line(small: SmallPolicy, direction: torch.Tensor, ts) -> dict:
    """Both KLs and their quadratic model at theta_old + t d, for t in ts [T] and d = direction [P] (E9).

    Returns numpy arrays [T]: ``t``, ``kl`` (D_KL(pi_old || pi_theta)), ``reverse_kl`` (D_KL(pi_theta ||
    pi_old)) and ``model`` (1/2 t^2 d^T H d, with H d from one Fisher-vector product, E10); and ``curvature``,
    the float d^T H d.
    """
    theta = small.theta_old.clone().requires_grad_()
    Hd = fisher_vector_product_fn(small.kl(theta), [theta])(direction)
    curvature = float(direction @ Hd)
    ts = np.asarray(ts, dtype=float)
    with torch.no_grad():
        forward = [float(small.kl(small.theta_old + t * direction)) for t in ts]
        reverse = [float(small.reverse_kl(small.theta_old + t * direction)) for t in ts]
    return {"t": ts, "kl": np.array(forward), "reverse_kl": np.array(reverse),
            "model": 0.5 * ts**2 * curvature, "curvature": curvature}


def sampled_kl(small: SmallPolicy, theta: torch.Tensor, samples_per_state: int, seed: int = 0) -> dict:
    """Both KL directions at theta [P] estimated from N = samples_per_state actions per state drawn from
    pi_old, as a batch holds them, each with its standard error (floats).

    ``kl``: the mean of log pi_old(a|s) - log pi_theta(a|s): TRPO's direction is an expectation under pi_old,
    so this plain average estimates it. ``naive_reverse``: the mean of log pi_theta - log pi_old over the same
    actions, which is not the reverse KL (it is minus ``kl``). ``reverse``: the mean of rho log rho with
    rho = pi_theta / pi_old (E6's importance weights): the reverse KL needs them.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        log_old = torch.log_softmax(small.old_logits, -1)
        log_new = torch.log_softmax(small.logits(theta), -1)
        actions = torch.multinomial(log_old.exp(), samples_per_state, replacement=True, generator=generator)
        log_ratio = log_new.gather(1, actions) - log_old.gather(1, actions)  # [B, N]
    n = log_ratio.numel()

    def mean_and_se(values: torch.Tensor) -> tuple[float, float]:
        return float(values.mean()), float(values.std() / np.sqrt(n))

    forward, forward_se = mean_and_se(-log_ratio)
    reverse, reverse_se = mean_and_se(log_ratio.exp() * log_ratio)
    return {"kl": forward, "kl_se": forward_se, "naive_reverse": float(log_ratio.mean()), "reverse": reverse,
            "reverse_se": reverse_se, "samples": n}
