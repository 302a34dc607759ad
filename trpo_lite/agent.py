"""The TRPO agent and its policy update (E14 steps 3-6: g, x by CG, step scale, line search).

Every piece of math comes from the foundation modules: ``surrogate`` and
``mean_kl`` (E6, E8), ``fisher_vector_product_fn`` (E10),
``conjugate_gradient`` (E11), ``natural_step_scale`` (E9) and
``line_search`` (E12). This module only wires them together.

Shapes: B samples, D observation size, P policy parameters.
"""

import numpy as np
import torch
from torch import nn

from trpo_lite._validate import NonFiniteError
from trpo_lite.cg import conjugate_gradient
from trpo_lite.config import TRPOConfig
from trpo_lite.fisher import fisher_vector_product_fn
from trpo_lite.flat import flat_grad, flat_params, set_flat_params
from trpo_lite.importance import mean_kl, surrogate
from trpo_lite.normalize import RunningNorm
from trpo_lite.policies import make_policy
from trpo_lite.ppo import ppo_update
from trpo_lite.step import line_search, natural_step_scale
from trpo_lite.value import ValueFunction


class Agent(nn.Module):
    """Policy pi_theta, value function V and (optionally) observation statistics, with their config."""

    def __init__(self, observation_space, action_space, config: TRPOConfig):
        super().__init__()
        self.config, self.observation_space, self.action_space = config, observation_space, action_space
        self.policy = make_policy(observation_space, action_space, config.hidden_sizes, config.log_std_init)
        obs_dim = observation_space.shape[0]
        self.value_fn = ValueFunction(obs_dim, config.value_hidden_sizes)
        self.obs_norm = RunningNorm(obs_dim) if config.normalize_obs else None

    def normalize(self, obs) -> torch.Tensor:
        """Raw observations [..., D] (array or tensor) -> what the networks see, float32 [..., D]."""
        obs = torch.as_tensor(obs, dtype=torch.float32)
        return obs if self.obs_norm is None else self.obs_norm(obs)

    def value(self, obs) -> torch.Tensor:
        """V(s) [...] of raw observations [..., D]."""
        return self.value_fn(self.normalize(obs))

    def act(self, obs, deterministic: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Actions for raw observations [B, D]: (as sampled, as the env receives them, i.e. clipped)."""
        with torch.inference_mode():  # no_grad without autograd's bookkeeping: rollouts call this every step
            actions = self.policy.act(self.normalize(obs), deterministic).numpy()
        return actions, self.policy.to_env(actions)


def update_policy(policy: nn.Module, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor,
                  config: TRPOConfig) -> dict:
    """One policy update from a batch (E14), in place; returns its statistics.

    Args:
        policy: pi_theta, the policy that collected the batch.
        obs: [B, D] normalised observations s_b.
        actions: [B] or [B, A] actions a_b as sampled.
        advantages: [B] A^{pi_theta}(s_b, a_b) estimates (E13).
        config: ``update`` picks 'trpo' (E9-E12), 'npg' (the full natural step,
            no line search), 'vpg' (theta += pg_lr g) or 'ppo' (``ppo.ppo_update``);
            max_kl, damping, cg_iters, fvp_subsample, backtrack_coef, max_backtracks, pg_lr.
    """
    params = list(policy.parameters())
    _check_finite("advantages", advantages, "they come from the rewards and V(s) (GAE, E13)")
    if config.update == "ppo":
        return ppo_update(policy, obs, actions, advantages, config)
    with torch.no_grad():  # pi_theta, frozen: the KL and the ratio are measured from it
        old = policy.distribution(obs)
        log_prob_old = old.log_prob(actions)

    def surrogate_gain():  # L(theta') - L(theta); at theta the ratio is 1, so L(theta) = mean A (E6)
        log_prob = policy.distribution(obs).log_prob(actions)
        return surrogate(log_prob, log_prob_old, advantages) - advantages.mean()

    def kl():
        return mean_kl(old, policy.distribution(obs))

    g = flat_grad(surrogate_gain(), params)  # E6: the surrogate's gradient is the policy gradient at theta
    _check_finite("the policy gradient g", g, "the policy's outputs or the advantages overflowed")
    accepted, backtracks, fraction, skipped = True, 0, 1.0, False
    step_kl = gain = None  # KL and surrogate gain at the new theta, measured below unless known
    if config.update == "vpg":
        set_flat_params(params, flat_params(params) + config.pg_lr * g)
    else:
        # E10 on a subsample: H is an average over states, so fewer states estimate it more cheaply.
        sub = torch.randperm(len(obs))[: max(1, round(config.fvp_subsample * len(obs)))]
        with torch.no_grad():
            old_sub = policy.distribution(obs[sub])
        kl_sub = mean_kl(old_sub, policy.distribution(obs[sub]))
        fvp = fisher_vector_product_fn(kl_sub, params, config.damping)
        x = conjugate_gradient(fvp, g, config.cg_iters)  # E11: x ~ H^-1 g
        if not x.any():
            # CG stops at x = 0 when |g|^2 is below its tolerance: the policy has converged (or is
            # deterministic where the batch went). There is no direction to step along: skip the update.
            accepted, fraction, skipped = False, 0.0, True
        else:
            full_step = natural_step_scale(x, fvp(x), config.max_kl) * x  # E9: to the trust-region boundary
            if config.update == "npg":
                set_flat_params(params, flat_params(params) + full_step)
            else:
                result = line_search(params, full_step, surrogate_gain, kl, config.max_kl,
                                     config.backtrack_coef, config.max_backtracks)  # E12
                accepted, backtracks, fraction = result.accepted, result.backtracks, result.step_fraction
                if accepted:  # the line search measured the KL and the gain at theta' already
                    step_kl, gain = result.kl, result.surrogate_gain
    with torch.no_grad():
        if step_kl is None:
            step_kl, gain = float(kl()), float(surrogate_gain())
        return {
            "policy/kl": step_kl,
            "policy/surrogate_gain": gain,
            "policy/entropy": float(old.entropy().mean()),
            "line_search/backtracks": backtracks,
            "line_search/accepted": accepted,
            "line_search/step_fraction": fraction,
            "policy/skipped": skipped,
        }


def _check_finite(name: str, tensor: torch.Tensor, cause: str) -> None:
    """Raise NonFiniteError before any parameter changes when tensor holds NaN or inf."""
    if not torch.isfinite(tensor).all():
        bad = (~torch.isfinite(tensor)).nonzero().flatten()[:5].tolist()
        raise NonFiniteError(f"{name} hold non-finite values (NaN or inf; first at indices {bad}) before the "
                             f"policy update: {cause}. The parameters were left unchanged")
