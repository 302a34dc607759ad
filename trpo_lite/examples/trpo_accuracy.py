"""Notebook 08, "What is exact and what is not": how good each approximation of one real TRPO update is.

``update_accuracy`` repeats the update of ``agent.update_policy`` (E6, E8-E12)
on a copy of a policy and a batch, and measures each step against an
independent computation: the surrogate's gradient against the policy gradient
written directly (E6), the quadratic model of the KL against the true mean KL
(E9), CG's residual (E11), H from a subsample against H from every state (E10),
the accepted KL against delta and the largest per-state KL (E8, E12), the
surrogate gain against its standard error, and the step with advantages
scaled by 3 (the trust region fixes the length, so the scale drops out).

Shapes: B samples, D observation size, P policy parameters.
"""

import copy
import dataclasses

import torch
from torch.distributions import kl_divergence

from trpo_lite.agent import update_policy
from trpo_lite.cg import conjugate_gradient
from trpo_lite.config import TRPOConfig
from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_grad, flat_params, set_flat_params
from trpo_lite.importance import importance_ratio, mean_kl, surrogate
from trpo_lite.step import line_search, natural_step_scale


def update_accuracy(policy, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor,
                    config: TRPOConfig, seed: int = 0) -> dict:
    """Measure every approximate step of one TRPO update of ``policy`` (left unchanged) on a batch.

    Args:
        policy: pi_theta (a copy is updated, in float64).
        obs: [B, D] normalised observations; actions: [B] (or [B, A]); advantages: [B], standardised.
        config: max_kl, damping, cg_iters, fvp_subsample, backtrack_coef, max_backtracks.
        seed: draws the subsample of states for H.
    Returns a dict of floats: pg_error (|g - mean grad log pi A| / |g|), model_kl and true_kl of the full
    step, cg_residual (|(H + damping I) x - g| / |g|), damping_share (damping |x|^2 / x^T (H + damping I) x),
    subsample_error (|H_sub x - H x| / |H x|), accepted_kl, backtracks, max_state_kl (largest per-state KL
    of the accepted step), gain and gain_se (its standard error over the batch), scale_error (relative
    difference of the update with advantages times 3).
    """
    policy = copy.deepcopy(policy).double()
    obs, advantages = obs.double(), advantages.double()
    params = list(policy.parameters())
    theta = flat_params(params)
    with torch.no_grad():
        old = policy.distribution(obs)
        log_prob_old = old.log_prob(actions)

    def surrogate_gain():
        log_prob = policy.distribution(obs).log_prob(actions)
        return surrogate(log_prob, log_prob_old, advantages) - advantages.mean()

    def kl():
        return mean_kl(old, policy.distribution(obs))

    g = flat_grad(surrogate_gain(), params)
    pg = flat_grad((policy.distribution(obs).log_prob(actions) * advantages).mean(), params)  # E6 at theta
    fvp = fisher_vector_product_fn(kl(), params, config.damping)
    x = conjugate_gradient(fvp, g, config.cg_iters)
    Hx = fvp(x)
    beta = natural_step_scale(x, Hx, config.max_kl)
    torch.manual_seed(seed)
    sub = torch.randperm(len(obs))[: max(1, round(config.fvp_subsample * len(obs)))]
    with torch.no_grad():
        old_sub = policy.distribution(obs[sub])
    kl_sub = mean_kl(old_sub, policy.distribution(obs[sub]))
    Hx_sub = fisher_vector_product_fn(kl_sub, params, config.damping)(x)
    set_flat_params(params, theta + beta * x)
    with torch.no_grad():
        true_kl = float(kl())
    set_flat_params(params, theta)
    result = line_search(params, beta * x, surrogate_gain, kl, config.max_kl, config.backtrack_coef,
                         config.max_backtracks)
    with torch.no_grad():
        new = policy.distribution(obs)
        per_sample = (importance_ratio(new.log_prob(actions), log_prob_old) - 1) * advantages
        max_state_kl = float(kl_divergence(old, new).max())
    step = flat_params(params) - theta
    scaled = copy.deepcopy(policy)
    set_flat_params(list(scaled.parameters()), theta)
    exact = dataclasses.replace(config, fvp_subsample=1.0)
    update_policy(scaled, obs, actions, 3 * advantages, exact)
    scaled_step = flat_params(scaled.parameters()) - theta
    return {
        "pg_error": float((g - pg).norm() / g.norm()),
        "model_kl": 0.5 * beta**2 * float(x @ Hx),
        "true_kl": true_kl,
        "cg_residual": float((Hx - g).norm() / g.norm()),
        "damping_share": config.damping * float(x @ x) / float(x @ Hx),
        "subsample_error": float((Hx_sub - Hx).norm() / Hx.norm()),
        "accepted": result.accepted,
        "accepted_kl": result.kl,
        "backtracks": result.backtracks,
        "max_state_kl": max_state_kl,
        "gain": result.surrogate_gain,
        "gain_se": float(per_sample.std() / len(per_sample) ** 0.5),
        "scale_error": float((scaled_step - step).norm() / step.norm()),
    }
