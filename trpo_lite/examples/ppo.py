"""Notebook 10's live numbers: the clipped objective against the ratio, and one batch's PPO and TRPO updates.

The saved TRPO-against-PPO runs are read by ``examples.ppo_runs``. Everything here is computed with the
package's functions (``ppo.clipped_surrogate``, ``ppo.ppo_update``, ``agent.update_policy``) on a batch the
package's sampler collects, so what the notebook checks is the code the agent runs.

Shapes: K ratios on a grid, B samples, E epoch counts.
"""

import copy
import dataclasses
import time

import numpy as np
import torch

from trpo_lite._validate import grid_index
from trpo_lite.agent import Agent, update_policy
from trpo_lite.config import preset
from trpo_lite.flat import flat_grad
from trpo_lite.importance import importance_ratio, mean_kl, surrogate
from trpo_lite.ppo import clipped_surrogate, clipped_terms, ppo_update
from trpo_lite.rollout import Sampler, estimate_advantages, make_vector_env, standardise

CLIP_RANGES = tuple(round(0.05 * k, 2) for k in range(1, 11))  # the slider's epsilon values, 0.05 to 0.5
RATIOS = np.linspace(0.0, 2.0, 201)  # rho on the x axis of the objective's picture
EPOCHS = (1, 2, 5, 10, 20, 40)  # PPO epoch counts tried on one batch
ENV_ID, SEED = "CartPole-v1", 0


def clip_curves(clip_range: float) -> dict[str, np.ndarray]:
    """One sample's term of L^CLIP and its slope in rho, for A = +1 and A = -1, at every ratio of RATIOS.

    The values are ``ppo.clipped_terms``, the slopes autograd's d/d rho of them. Returns {"ratio": [K],
    "plus", "minus": [K] values, "slope_plus", "slope_minus": [K] slopes, "clip_range"}.
    clip_range: one of CLIP_RANGES.
    """
    clip_range = CLIP_RANGES[grid_index("clip_range", clip_range, CLIP_RANGES)]
    out = {"ratio": RATIOS, "clip_range": clip_range}
    for name, sign in (("plus", 1.0), ("minus", -1.0)):
        ratio = torch.tensor(RATIOS, requires_grad=True)
        terms = clipped_terms(ratio, torch.full_like(ratio, sign), clip_range)
        (slopes,) = torch.autograd.grad(terms.sum(), ratio)  # term b depends on rho_b alone
        out[name], out["slope_" + name] = terms.detach().numpy(), slopes.numpy()
    return out


def collect_batch(seed: int = SEED, env_id: str = ENV_ID):
    """A fresh agent of env_id's preset and one batch it collected, as ``training.train`` prepares it:
    (agent, obs [B, D] normalised, actions [B], advantages [B] GAE (E13), standardised)."""
    torch.manual_seed(seed)
    config = preset(env_id)
    envs = make_vector_env(env_id, config.num_envs)
    agent = Agent(envs.single_observation_space, envs.single_action_space, config)
    batch, _ = Sampler(envs, config.steps_per_env, seed, time.perf_counter()).collect(agent)
    envs.close()
    _, advantages = estimate_advantages(agent, batch, config.gamma, config.lam)
    advantages = standardise(advantages.flatten())
    return agent, agent.normalize(batch.obs).flatten(0, 1), batch.actions.flatten(0, 1), advantages


def first_order_numbers(seed: int = SEED, clip_range: float = 0.2) -> dict:
    """L^CLIP against L (E6) at the old policy on one batch: values and gradients g [P] in the parameters.

    Returns {"L", "L_clip": values at theta, "g", "g_clip": [P] gradients, "gap": max |g - g_clip|}."""
    agent, obs, actions, advantages = collect_batch(seed)
    params = list(agent.policy.parameters())
    with torch.no_grad():
        log_prob_old = agent.policy.distribution(obs).log_prob(actions)
    log_prob = agent.policy.distribution(obs).log_prob(actions)
    L = surrogate(log_prob, log_prob_old, advantages)
    L_clip = clipped_surrogate(log_prob, log_prob_old, advantages, clip_range)
    g, g_clip = flat_grad(L, params, retain_graph=True), flat_grad(L_clip, params)
    return {"L": float(L.detach()), "L_clip": float(L_clip.detach()), "g": g, "g_clip": g_clip,
            "gap": float((g - g_clip).abs().max())}


def epoch_numbers(seed: int = SEED, epochs=EPOCHS, clip_range: float = 0.2) -> dict:
    """One batch, many updates from the same theta: PPO with each epoch count, and TRPO (E9-E12).

    Each PPO update starts from the same theta and the same torch random state, so a run with more epochs
    repeats the shorter one's minibatches first. Returns {"epochs": [E], "kl": [E] mean KL (E8) after
    the update, "outside": [E] fraction of samples whose ratio left [1 - epsilon, 1 + epsilon],
    "max_gap": [E] max |rho - 1|, "L_clip", "L": [E] both objectives after the update, "ratio": [B]
    the ratios after the last update, "trpo_kl", "max_kl", "clip_range"}.
    """
    agent, obs, actions, advantages = collect_batch(seed)
    config = dataclasses.replace(agent.config, update="ppo", clip_range=clip_range)
    with torch.no_grad():
        old = agent.policy.distribution(obs)
        log_prob_old = old.log_prob(actions)
    rows = []
    for n in epochs:
        policy = copy.deepcopy(agent.policy)
        torch.manual_seed(seed + 1)
        stats = ppo_update(policy, obs, actions, advantages, dataclasses.replace(config, ppo_epochs=n))
        with torch.no_grad():
            log_prob = policy.distribution(obs).log_prob(actions)
            ratio = importance_ratio(log_prob, log_prob_old)
            rows.append((stats["policy/kl"], float(((ratio - 1).abs() > clip_range).float().mean()),
                         float((ratio - 1).abs().max()),
                         float(clipped_surrogate(log_prob, log_prob_old, advantages, clip_range)),
                         float(surrogate(log_prob, log_prob_old, advantages))))
    trpo = copy.deepcopy(agent.policy)
    torch.manual_seed(seed + 1)
    update_policy(trpo, obs, actions, advantages, dataclasses.replace(config, update="trpo"))
    with torch.no_grad():
        trpo_kl = float(mean_kl(old, trpo.distribution(obs)))
    kl, outside, max_gap, L_clip, L = (np.array(column) for column in zip(*rows, strict=True))
    return {"epochs": np.array(epochs), "kl": kl, "outside": outside, "max_gap": max_gap, "L_clip": L_clip,
            "L": L, "ratio": ratio.numpy(), "trpo_kl": trpo_kl, "max_kl": config.max_kl,
            "clip_range": clip_range}
