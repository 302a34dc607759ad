"""The sample-based surrogate and trust region (E5, E6, E8).

From a batch collected by the old policy: the importance ratio, the surrogate
L estimated with it, and the mean KL that the trust region bounds.

Shapes: B samples (time steps times environments, flattened).
"""

import torch
from torch.distributions import Distribution, kl_divergence

from trpo_lite._validate import check_shape


def importance_ratio(log_prob_new: torch.Tensor, log_prob_old: torch.Tensor) -> torch.Tensor:
    """rho = pi_new(a|s) / pi_old(a|s), [B] (E6), from log-probabilities [B] each."""
    check_shape("log_prob_old", log_prob_old, log_prob_new.shape, like="log_prob_new")
    return torch.exp(log_prob_new - log_prob_old)


def surrogate(log_prob_new, log_prob_old, advantages) -> torch.Tensor:
    """Sample estimate of L_old(new) up to constants (E5, E6): mean_b rho_b A_b.

    E5's J(old) and 1/(1 - gamma) do not depend on the new policy, so they are
    dropped; the sample mean over old-policy data replaces both expectations.
    At new = old, rho = 1 and the value is mean(advantages).

    Args:
        log_prob_new: [B] log pi_new(a_b|s_b), differentiable.
        log_prob_old: [B] log pi_old(a_b|s_b), detached.
        advantages: [B] A^old(s_b, a_b) estimates.
    """
    check_shape("advantages", advantages, log_prob_new.shape, like="log_prob_new")
    return (importance_ratio(log_prob_new, log_prob_old) * advantages).mean()


def mean_kl(old: Distribution, new: Distribution) -> torch.Tensor:
    """Mean over states of D_KL(pi_old(.|s) || pi_new(.|s)), scalar (E8).

    ``old`` must be built from detached outputs, so that the KL is a function
    of the new parameters only: zero, with zero gradient, at new = old.
    One distribution per state, batch shape [B]: a diagonal Gaussian is
    ``Independent(Normal(mu, sigma), 1)``, as ``GaussianPolicy`` builds it,
    whose KL torch sums over the action dimensions.
    """
    kl = kl_divergence(old, new)
    if kl.dim() != 1:
        raise ValueError(f"mean_kl needs one distribution per state, batch shape [B]; got batch shape "
                         f"{tuple(kl.shape)}. Wrap a diagonal Gaussian as Independent(Normal(mu, sigma), 1)")
    return kl.mean()
