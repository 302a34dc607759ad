"""Notebook 01's numbers: V, Q, A on FrozenLake (E2) and both sides of the performance difference (E3, E4).

The running example: the old policy is the uniform random walker; the target is
greedy with respect to the old advantages (one policy-iteration step,
``tabular.greedy_policy``); the new policy mixes them,
pi_new = (1 - alpha) pi_old + alpha pi_target, the mixture of conservative policy
iteration (Kakade and Langford 2002). Every number is exact (``trpo_lite.tabular``)
except ``advantage_sums``, which plays pi_new in the real gymnasium environment.
``values_at`` and ``performance_difference_at`` give what notebook 01's two slider figures show.

Shapes: S states (16 cells + 1 absorbing), A = 4 actions, K mixing coefficients, B episodes.
"""

from functools import lru_cache

import gymnasium as gym
import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite._validate import check_distributions, check_shape, check_unit_interval
from trpo_lite.examples.frozen_lake import lake_mdp, sample_episodes, tabular_policy
from trpo_lite.tabular import FiniteMDP

ALPHAS = np.linspace(0.0, 1.0, 21)  # the curve's mixing coefficients (the alpha slider's values)


def running_example(gamma: float) -> tuple[FiniteMDP, np.ndarray, np.ndarray]:
    """FrozenLake-v1 as an exact MDP, with the running example's old and target policies.

    Args:
        gamma: discount in [0, 1) (a ValueError names it otherwise).
    Returns:
        mdp: the FiniteMDP, S = 17 (16 cells and the absorbing state).
        pi_old: [S, A] uniform.
        pi_target: [S, A] greedy with respect to A^old (E2): one-hot where an action is best; exact ties
            (cell 6: left = right, by the lake's mirror symmetry) go to the first action.
    """
    mdp = lake_mdp(gamma)
    pi_old = mdp.uniform_policy()
    return mdp, pi_old, tabular.greedy_policy(mdp, pi_old)


def mix(pi_old, pi_target, alpha: float) -> np.ndarray:
    """pi_new = (1 - alpha) pi_old + alpha pi_target, [S, A]: alpha in [0, 1] sets how far new moves."""
    alpha = check_unit_interval("alpha", alpha)
    return tabular.mixture(np.asarray(pi_old, dtype=float), np.asarray(pi_target, dtype=float), alpha)


def gain_per_state(mdp: FiniteMDP, pi_old, pi_new) -> np.ndarray:
    """[S] the E4 summand 1/(1 - gamma) nu^new(s) sum_a pi_new(a|s) A^old(s, a).

    Its sum is the right side of E3/E4, J(new) - J(old); each entry says how much
    of the change in J a state contributes.
    """
    expected_advantage = (np.asarray(pi_new, dtype=float) * tabular.advantages(mdp, pi_old)).sum(1)
    return tabular.visitation(mdp, pi_new) * expected_advantage / (1 - mdp.gamma)


@lru_cache(maxsize=128)
def performance_difference_curve(gamma: float) -> dict[str, np.ndarray]:
    """Both sides of E3 along the mixing path alpha in ALPHAS, and the same sum weighted by nu^old (E5).

    Cached per gamma (the arrays are read-only), so moving only the alpha slider costs no solves.

    Returns:
        dict of [K] arrays: ``alpha``; ``lhs`` = J(new) - J(old) (E1); ``rhs`` = the
        E4 sum (must equal lhs); ``old_nu`` = L_old(new) - J(old), the E4 sum with the
        old policy's visitation in place of the new one's (the surrogate, notebook 02).
    """
    mdp, pi_old, pi_target = running_example(gamma)
    j_old = tabular.objective(mdp, pi_old)
    rows = []
    for alpha in ALPHAS:
        pi_new = mix(pi_old, pi_target, alpha)
        rows.append((
            tabular.objective(mdp, pi_new) - j_old,
            gain_per_state(mdp, pi_old, pi_new).sum(),
            tabular.surrogate(mdp, pi_old, pi_new) - j_old,
        ))
    curve = dict(zip(["lhs", "rhs", "old_nu"], np.array(rows).T, strict=True), alpha=ALPHAS.copy())
    for values in curve.values():
        values.flags.writeable = False
    return curve


def values_at(gamma: float) -> dict[str, np.ndarray]:
    """E2 on the lake for the uniform policy, at the best action a* of each state (the greedy target's).

    Returns:
        dict of [S] arrays ``v`` = V(s), ``q_best`` = Q(s, a*), ``a_best`` = A(s, a*) = Q(s, a*) - V(s),
        and ``pi_target`` [S, A], whose arrows mark a*.
    """
    mdp, pi_old, pi_target = running_example(gamma)
    v = tabular.state_values(mdp, pi_old)
    q_best = (tabular.action_values(mdp, pi_old) * pi_target).sum(1)
    return {"v": v, "q_best": q_best, "a_best": q_best - v, "pi_target": pi_target}


def performance_difference_at(gamma: float, alpha: float) -> dict:
    """Both sides of E3 for pi_new = (1 - alpha) uniform + alpha greedy, per state and along alpha.

    Returns:
        dict: ``gains`` [S] E4's summands (``gain_per_state``); ``pi_new`` [S, A]; ``lhs`` = J(new) - J(old)
        and ``rhs`` = the sum of gains (floats, equal by E3); ``curve``, ``performance_difference_curve``.
    """
    mdp, pi_old, pi_target = running_example(gamma)
    pi_new = mix(pi_old, pi_target, alpha)
    gains = gain_per_state(mdp, pi_old, pi_new)
    lhs = tabular.objective(mdp, pi_new) - tabular.objective(mdp, pi_old)
    return {"gains": gains, "pi_new": pi_new, "lhs": lhs, "rhs": gains.sum(),
            "curve": performance_difference_curve(gamma)}


def discounted_sum(x, gamma: float) -> float:
    """sum_t gamma^t x_t for x [T], added in time order (gamma^t as a running product)."""
    total, discount = 0.0, 1.0
    for x_t in x:
        total += discount * x_t
        discount *= gamma
    return total


def advantage_sums(env: gym.Env, pi_new, adv_old, gamma: float, n_episodes: int, seed: int) -> np.ndarray:
    """Monte Carlo draws of E3's right side: sum_t gamma^t A^old(s_t, a_t) along episodes of pi_new.

    The episodes come from the gymnasium env itself (its dynamics, not the MDP's
    table; ``frozen_lake.sample_episodes``) and run until they terminate or hit the
    env's time limit T. A cut-off episode drops a tail of at most
    gamma^T max|A^old| / (1 - gamma): choose T so that this bound is far below the
    standard error.

    Args:
        env: a gymnasium env with discrete observations 0 .. S_env - 1 (e.g. FrozenLake-v1).
        pi_new: [S, A] the policy to roll out (rows past S_env, such as the absorbing state, are unused).
        adv_old: [S, A] A^old, e.g. ``tabular.advantages(mdp, pi_old)``.
        gamma: discount in [0, 1).
        n_episodes: B >= 1.
        seed: fixes both the env's randomness (first reset) and the action draws.
    Returns:
        [B] one discounted advantage sum per episode; their mean estimates J(new) - J(old).
    """
    gamma = check_unit_interval("gamma", gamma, closed_right=False)
    pi_t = torch.as_tensor(pi_new, dtype=torch.float64)
    check_distributions("pi_new", pi_t)
    adv_t = torch.as_tensor(adv_old, dtype=torch.float64)
    check_shape("adv_old", adv_t, pi_t.shape, like="pi_new")
    n_obs = env.observation_space.n
    if pi_t.dim() != 2 or pi_t.shape[0] < n_obs or pi_t.shape[1] != env.action_space.n:
        raise ValueError(
            f"pi_new must have shape [S, A] with S >= {n_obs} states and A = {env.action_space.n} "
            f"actions of the env; got {tuple(pi_t.shape)}"
        )
    adv = adv_t.numpy()
    episodes = sample_episodes(env, tabular_policy(pi_t.numpy()), n_episodes, seed)
    return np.array([discounted_sum(adv[e.states, e.actions], gamma) for e in episodes])
