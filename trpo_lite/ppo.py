"""PPO-clip: a first-order stand-in for the trust region (E6-E8), from the same batch as TRPO's update.

TRPO maximises the surrogate L (E6) subject to mean KL <= delta (E8) with a second-order step (E9-E12).
PPO drops the constraint and instead changes the objective: each sample's ratio rho = pi_new / pi_old
earns nothing more once it has left [1 - epsilon, 1 + epsilon] in the direction its advantage favours,

    L^CLIP(theta') = mean_b min(rho_b A_b, clip(rho_b, 1 - epsilon, 1 + epsilon) A_b),

and takes several epochs of minibatch Adam steps on it. Nothing bounds the KL: the clip only removes
the incentive to push a ratio further, and samples that already left the range still move through
the shared parameters. ``ppo_update`` measures the KL it took, as TRPO's update does.

Reference: Schulman, Wolski, Dhariwal, Radford and Klimov, Proximal Policy Optimization Algorithms,
arXiv:1707.06347, 2017: eq. 7 (L^CLIP) and Algorithm 1.

Shapes: B samples, D observation size.
"""

import math

import torch
from torch import nn

from trpo_lite._validate import check_shape
from trpo_lite.config import TRPOConfig
from trpo_lite.importance import importance_ratio, mean_kl, surrogate
from trpo_lite.value import Adam


def clipped_terms(ratio: torch.Tensor, advantages: torch.Tensor, clip_range: float) -> torch.Tensor:
    """L^CLIP term by term (PPO eq. 7), [B]: min(rho_b A_b, clip(rho_b, 1 - epsilon, 1 + epsilon) A_b).

    The min keeps the lower, pessimistic value: for A_b > 0 the term stops growing at rho_b = 1 + epsilon,
    for A_b < 0 at rho_b = 1 - epsilon (its slope in rho_b is 0 beyond); on the other side the unclipped
    rho_b A_b is kept, so a step that made a sample worse is charged in full.

    Args:
        ratio: [B] rho_b = pi_new(a_b|s_b) / pi_old(a_b|s_b) (E6).
        advantages: [B] A^old(s_b, a_b) estimates (E13).
        clip_range: epsilon in (0, 1).
    """
    return torch.min(ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages)


def clipped_surrogate(log_prob_new: torch.Tensor, log_prob_old: torch.Tensor, advantages: torch.Tensor,
                      clip_range: float) -> torch.Tensor:
    """L^CLIP = mean_b min(rho_b A_b, clip(rho_b, 1 - epsilon, 1 + epsilon) A_b), scalar (PPO eq. 7).

    At new = old every rho_b = 1 lies inside the range, so L^CLIP has the surrogate's (E6) value, mean A,
    and its gradient, the policy gradient g; elsewhere L^CLIP <= L, term by term.

    Args:
        log_prob_new: [B] log pi_new(a_b|s_b), differentiable.
        log_prob_old: [B] log pi_old(a_b|s_b), detached.
        advantages: [B] A^old(s_b, a_b) estimates (E13).
        clip_range: epsilon in (0, 1).
    """
    check_shape("advantages", advantages, log_prob_new.shape, like="log_prob_new")
    return clipped_terms(importance_ratio(log_prob_new, log_prob_old), advantages, clip_range).mean()


def ppo_update(policy: nn.Module, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor,
               config: TRPOConfig) -> dict:
    """One PPO-clip policy update from a batch, in place (PPO Algorithm 1's inner loop); its statistics.

    ``ppo_epochs`` passes over the batch in random order, each split into ``ppo_minibatches``
    minibatches, one Adam step (learning rate ``ppo_lr``) of ascent on ``clipped_surrogate`` per
    minibatch. The Adam is new for every update, so that, like TRPO's, the update depends on the
    batch and theta alone. Afterwards the mean KL (E8) and the gain of the unclipped surrogate (E6)
    are measured on the whole batch, under the keys TRPO's update logs; PPO has no line search.

    Args:
        policy: pi_theta, the policy that collected the batch.
        obs: [B, D] normalised observations s_b.
        actions: [B] or [B, A] actions a_b as sampled.
        advantages: [B] A^{pi_theta}(s_b, a_b) estimates (E13).
        config: clip_range, ppo_epochs, ppo_minibatches, ppo_lr.
    """
    with torch.no_grad():  # pi_theta, frozen: the ratio and the KL are measured from it
        old = policy.distribution(obs)
        log_prob_old = old.log_prob(actions)
    optimizer = Adam(policy.parameters(), lr=config.ppo_lr)
    size = math.ceil(len(obs) / config.ppo_minibatches)
    for _ in range(config.ppo_epochs):
        for b in torch.randperm(len(obs)).split(size):
            log_prob = policy.distribution(obs[b]).log_prob(actions[b])
            loss = -clipped_surrogate(log_prob, log_prob_old[b], advantages[b], config.clip_range)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        new = policy.distribution(obs)
        gain = surrogate(new.log_prob(actions), log_prob_old, advantages) - advantages.mean()
        return {
            "policy/kl": float(mean_kl(old, new)),
            "policy/surrogate_gain": float(gain),
            "policy/entropy": float(old.entropy().mean()),
            "line_search/backtracks": 0,
            "line_search/accepted": True,
            "line_search/step_fraction": 1.0,
            "policy/skipped": False,
        }
