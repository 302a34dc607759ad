"""Views for notebook 01: V, Q, A on FrozenLake (E2) and both sides of the performance difference (E3, E4).

The running example: the old policy is the uniform random walker; the target is
greedy with respect to the old advantages (one policy-iteration step); the new
policy mixes them, pi_new = (1 - alpha) pi_old + alpha pi_target, the mixture of
conservative policy iteration (Kakade and Langford 2002). Every number is exact
(``trpo_lite.tabular``) except ``advantage_sums``, which rolls pi_new out in the
real gymnasium environment.

Shapes: S states (16 cells + 1 absorbing), A = 4 actions, K mixing coefficients, B episodes.
"""

from functools import cache, lru_cache

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite._validate import check_distributions, check_shape, check_unit_interval
from trpo_lite.plots import grid_heatmap, policy_arrows
from trpo_lite.tabular import FiniteMDP

ALPHAS = np.linspace(0.0, 1.0, 21)  # the curve's mixing coefficients (the alpha slider's values)
TIE = 1e-12  # advantages this close count as equal when choosing the greedy action
ARROW_COLOR = "orangered"  # apart from the cells' white and black numbers


@cache
def _frozen_lake() -> gym.Env:
    # One env for the map and transition table: the views run at every slider move.
    return gym.make("FrozenLake-v1")


def frozen_lake(gamma: float) -> tuple[FiniteMDP, np.ndarray, np.ndarray]:
    """FrozenLake-v1 as an exact MDP, with the running example's old and target policies.

    Args:
        gamma: discount in [0, 1) (a ValueError names it otherwise).
    Returns:
        mdp: the FiniteMDP, S = 17 (16 cells and the absorbing state).
        pi_old: [S, A] uniform.
        pi_target: [S, A] one-hot, greedy with respect to A^old (ties within TIE go to the first action).
    """
    mdp = FiniteMDP.from_toy_text(_frozen_lake(), gamma)
    pi_old = mdp.uniform_policy()
    adv = tabular.advantages(mdp, pi_old)
    # The lake's mirror symmetry makes exact ties (cell 6: left = right); rounding must not pick the winner.
    best = (adv >= adv.max(1, keepdims=True) - TIE).argmax(1)
    return mdp, pi_old, np.eye(mdp.n_actions)[best]


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
    mdp, pi_old, pi_target = frozen_lake(gamma)
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


def _ice_only(pi: np.ndarray, desc) -> np.ndarray:
    # Arrows on holes and the goal would be noise: the episode has ended there.
    pi = np.array(pi[: desc.size], dtype=float)
    pi[np.isin(desc.ravel(), [b"H", b"G"])] = 0.0
    return pi


def values_view(gamma: float = 0.95) -> plt.Figure:
    """E2 on the grid for the uniform policy: V(s), Q(s, a*) and A(s, a*) = Q - V at the best action a*."""
    mdp, pi_old, pi_target = frozen_lake(gamma)
    desc = _frozen_lake().unwrapped.desc
    v = tabular.state_values(mdp, pi_old)
    q_best = (tabular.action_values(mdp, pi_old) * pi_target).sum(1)
    # Fixed margins, not tight_layout: measuring every label would cost the slider its 100 ms.
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2), gridspec_kw={"left": 0.01, "right": 0.99, "top": 0.84,
                                                                    "bottom": 0.02, "wspace": 0.05})
    panels = [
        (v, "V(s): average over actions"),
        (q_best, "Q(s, a*): take a*, then follow π"),
        (q_best - v, "A(s, a*) = Q(s, a*) − V(s)  (E2)"),
    ]
    # V and Q share a colour scale so that the cells can be compared by eye.
    top = max(q_best[: desc.size].max(), 1e-12)
    for ax, (values, title), vmax in zip(axes, panels, (top, top, None), strict=True):
        grid_heatmap(ax, values, desc, title=title, fmt="{:.3f}", vmin=0.0 if vmax else None, vmax=vmax)
        policy_arrows(ax, _ice_only(pi_target, desc), desc, color=ARROW_COLOR)
    fig.suptitle(f"Uniform policy on FrozenLake-v1, γ = {gamma:.2f}; arrows: a* = argmax_a A(s, a)")
    return fig


def performance_difference_view(gamma: float = 0.95, alpha: float = 0.5) -> plt.Figure:
    """Both sides of E3 for pi_new = (1 - alpha) uniform + alpha greedy: per state, and along alpha."""
    mdp, pi_old, pi_target = frozen_lake(gamma)
    desc = _frozen_lake().unwrapped.desc
    pi_new = mix(pi_old, pi_target, alpha)
    gains = gain_per_state(mdp, pi_old, pi_new)
    lhs = tabular.objective(mdp, pi_new) - tabular.objective(mdp, pi_old)
    curve = performance_difference_curve(gamma)

    fig, (ax_grid, ax_curve) = plt.subplots(1, 2, figsize=(15, 5.6), gridspec_kw={
        "width_ratios": [1, 1.5], "left": 0.01, "right": 0.98, "top": 0.86, "bottom": 0.13, "wspace": 0.12})
    share = "each state's share of the right side (E4):\nν_new(s) Σ_a π_new(a|s) A_old(s, a) / (1 − γ)"
    grid_heatmap(ax_grid, gains, desc, title=share, fmt="{:.4f}")
    policy_arrows(ax_grid, _ice_only(pi_new, desc), desc, color=ARROW_COLOR)
    ax_curve.plot(curve["alpha"], curve["lhs"], color="C0", label="left (E3): J(new) − J(old)")
    ax_curve.plot(curve["alpha"], curve["rhs"], "o", color="C1", ms=6,
                  label="right (E4): 1/(1 − γ) E[A_old], s ~ ν_new, a ~ π_new")
    ax_curve.plot(curve["alpha"], curve["old_nu"], "--", color="gray",
                  label="same sum with ν_old: not E3 (notebook 02)")
    ax_curve.plot([alpha], [gains.sum()], "*", color="C3", ms=18, label=f"α = {alpha:.2f}")
    ax_curve.set(xlabel="α  in  π_new = (1 − α) π_old + α π_greedy", ylabel="change in J",
                 title=f"γ = {gamma:.2f}, α = {alpha:.2f}:  left {lhs:.5f},  right {gains.sum():.5f}")
    ax_curve.legend(loc="upper left")
    return fig


def advantage_sums(env: gym.Env, pi_new, adv_old, gamma: float, n_episodes: int, seed: int) -> np.ndarray:
    """Monte Carlo draws of E3's right side: sum_t gamma^t A^old(s_t, a_t) along episodes of pi_new.

    The episodes come from the gymnasium env itself (its dynamics, not the MDP's
    table) and run until they terminate or hit the env's time limit T. A cut-off
    episode drops a tail of at most gamma^T max|A^old| / (1 - gamma): choose T so
    that this bound is far below the standard error.

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
    if not isinstance(n_episodes, int | np.integer) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive integer; got {n_episodes!r}")
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
    # Inverse-CDF sampling; the last column is set to exactly 1 so rounding never picks action A.
    cdf = np.cumsum(pi_t.numpy(), axis=1)
    cdf[:, -1] = 1.0
    rng = np.random.default_rng(seed)
    sums = np.zeros(n_episodes)
    for b in range(n_episodes):
        s, _ = env.reset(seed=seed if b == 0 else None)
        discount, done = 1.0, False
        while not done:
            a = int(np.searchsorted(cdf[s], rng.random(), side="right"))
            sums[b] += discount * adv[s, a]
            s, _, terminated, truncated, _ = env.step(a)
            discount *= gamma
            done = terminated or truncated
    return sums
