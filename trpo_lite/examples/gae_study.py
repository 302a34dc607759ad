"""Notebook 07, section 3: the bias and variance of GAE (E13) on FrozenLake-v1, precomputed on a grid.

One batch of episodes is sampled once (``examples.gae.sample_from_table``);
GAE with an imperfect V_hat is then scored against the exact target
Q^pi(s, a) - V_hat(s) at every (gamma, lam) of the grid GAMMAS x LAMS, so that
the notebook's two sliders only look numbers up (``bias_variance_numbers``).

Shapes: T time steps, N episodes, S states, A actions, G gammas, L lambdas, B samples.
"""

from dataclasses import dataclass

import numpy as np

from trpo_lite import tabular
from trpo_lite._validate import grid_index
from trpo_lite.examples import gae as lake_gae
from trpo_lite.examples.frozen_lake import lake_env, lake_mdp

GAMMAS = (0.8, 0.9, 0.95, 0.98, 0.99)
LAMS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 1.0)


def bias_and_variance(keys, estimates, targets, n_keys: int) -> tuple[float, float]:
    """Visit-weighted squared bias and variance of estimates [B] of targets [B], grouped by keys [B].

    bias^2 = mean over samples of (E[estimate | key] - target)^2, variance =
    mean of Var[estimate | key]; their sum is the mean squared error.
    """
    counts = np.bincount(keys, minlength=n_keys)
    seen = counts > 0
    mean = np.bincount(keys, estimates, n_keys)[seen] / counts[seen]
    mean_sq = np.bincount(keys, estimates**2, n_keys)[seen] / counts[seen]
    target = np.bincount(keys, targets, n_keys)[seen] / counts[seen]
    weights = counts[seen] / counts.sum()
    return float(weights @ (mean - target) ** 2), float(weights @ (mean_sq - mean**2))


@dataclass(frozen=True)
class BiasVarianceStudy:
    """GAE statistics precomputed on the grid GAMMAS x LAMS (index [g, l]) for the sliders.

    bias2, exact_bias2, variance: [G, L] against the target Q^pi(s, a) - V_hat(s)
    (sampled, exact from ``examples.gae.exact_gae_bias``, sampled). episode_estimates [G, L, T_e]
    and episode_targets [G, T_e]: one example episode. values_hat [G, S]: the imperfect V.
    """

    gammas: tuple
    lams: tuple
    bias2: np.ndarray
    exact_bias2: np.ndarray
    variance: np.ndarray
    episode_estimates: np.ndarray
    episode_targets: np.ndarray
    values_hat: np.ndarray
    pi: np.ndarray
    batch: lake_gae.EpisodeBatch


def bias_variance_study(seed: int = 0, n_episodes: int = 3000, shrink: float = 0.5, noise: float = 0.05):
    """Sample FrozenLake-v1 episodes once, then score GAE at every (gamma, lam) of the grid.

    The policy is soft greedy (``examples.gae.soft_greedy_policy`` at gamma = 0.99); V_hat =
    shrink V^pi + noise z with z ~ N(0, 1) per state (one draw for all gammas),
    0 at the absorbing state. The example episode is the first that reaches the goal.
    """
    pi = lake_gae.soft_greedy_policy(lake_mdp(0.99))
    rng = np.random.default_rng(seed)
    batch = lake_gae.sample_from_table(lake_env(), pi, n_episodes, rng)
    z = rng.normal(size=pi.shape[0])
    reached = batch.rewards.sum(0) > 0
    if not reached.any():
        raise ValueError(f"n_episodes = {n_episodes} is too few: no episode reached the goal; use >= 100")
    ep = int(np.argmax(reached))
    ep_steps = batch.valid[:, ep]
    valid = batch.valid
    n_states, n_actions = pi.shape
    keys = (batch.obs * n_actions + batch.actions)[valid]
    shape = (len(GAMMAS), len(LAMS))
    bias2, exact_bias2, variance = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    estimates, targets, values_hat = np.zeros(shape + (ep_steps.sum(),)), [], []
    for g, gamma in enumerate(GAMMAS):
        mdp = lake_mdp(gamma)
        v_hat = shrink * tabular.state_values(mdp, pi) + noise * z
        v_hat[-1] = 0.0  # the absorbing state is terminal: V = 0 (E13)
        target = tabular.action_values(mdp, pi) - v_hat[:, None]
        sample_targets = target[batch.obs, batch.actions][valid]  # the same for every lam
        for l, lam in enumerate(LAMS):
            est = lake_gae.gae_on_batch(batch, v_hat, gamma, lam)
            bias2[g, l], variance[g, l] = bias_and_variance(keys, est[valid], sample_targets,
                                                            n_states * n_actions)
            exact = lake_gae.exact_gae_bias(mdp, pi, v_hat, lam)[batch.obs, batch.actions][valid]
            exact_bias2[g, l] = np.mean(exact**2)
            estimates[g, l] = est[ep_steps, ep]
        targets.append(target[batch.obs[ep_steps, ep], batch.actions[ep_steps, ep]])
        values_hat.append(v_hat)
    return BiasVarianceStudy(GAMMAS, LAMS, bias2, exact_bias2, variance, estimates, np.array(targets),
                             np.array(values_hat), pi, batch)


def bias_variance_numbers(study: BiasVarianceStudy, gamma: float, lam: float) -> dict:
    """What the study's slider view shows at (gamma, lam), both values on the study's grid.

    Returns: lam_index l; bias2, exact_bias2, variance and mse = bias2 + variance, [L] over lam at
    this gamma; episode_targets and episode_estimates, [T_e]: the example episode's target and its
    GAE at (gamma, lam). A value off the grid raises a ValueError listing the grid.
    """
    g, l = grid_index("gamma", gamma, study.gammas), grid_index("lam", lam, study.lams)
    bias2, variance = study.bias2[g], study.variance[g]
    return {"lam_index": l, "bias2": bias2, "exact_bias2": study.exact_bias2[g], "variance": variance,
            "mse": bias2 + variance, "episode_targets": study.episode_targets[g],
            "episode_estimates": study.episode_estimates[g, l]}
