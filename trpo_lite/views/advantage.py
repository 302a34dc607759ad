"""Views for notebook 01: V, Q, A on FrozenLake (E2) and both sides of the performance difference (E3, E4).

The running example: the old policy is the uniform random walker; the target is
greedy with respect to the old advantages (one policy-iteration step); the new
policy mixes them, pi_new = (1 - alpha) pi_old + alpha pi_target, the mixture of
conservative policy iteration (Kakade and Langford 2002). Every number is exact
(``trpo_lite.tabular``) except ``advantage_sums``, which rolls pi_new out in the
real gymnasium environment.

The two slider views build their figure once (``trpo_lite.plots.static_figure``)
and afterwards only move its artists: a slider has 100 ms to compute, redraw and
encode the PNG, and building a figure costs about as much as drawing it.

Shapes: S states (16 cells + 1 absorbing), A = 4 actions, K mixing coefficients, B episodes.
"""

from dataclasses import dataclass
from functools import cache, lru_cache

import gymnasium as gym
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trpo_lite import tabular
from trpo_lite._validate import check_distributions, check_shape, check_unit_interval
from trpo_lite.examples.frozen_lake import tabular_policy
from trpo_lite.figures.grid import GridHeatmap, PolicyArrows
from trpo_lite.figures.style import padded_limits, static_figure
from trpo_lite.tabular import FiniteMDP

ALPHAS = np.linspace(0.0, 1.0, 21)  # the curve's mixing coefficients (the alpha slider's values)
TIE = 1e-12  # advantages this close count as equal when choosing the greedy action
ARROW_COLOR = "orangered"  # apart from the cells' white and black numbers
N_CELLS = 16  # the 4x4 map; the MDP adds the absorbing state


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


@dataclass(frozen=True)
class _Grid:
    """One grid panel of a view: per-cell values as colours and numbers, a policy's arrows on top."""

    heat: GridHeatmap
    arrows: PolicyArrows

    @classmethod
    def on(cls, ax, title: str, fmt: str) -> "_Grid":
        """Draw the panel's fixed parts (title, map letters) on ax, once."""
        ax.set_title(title, y=1.0)  # a fixed position: no search for tick labels above the axes
        desc = _frozen_lake().unwrapped.desc
        return cls(GridHeatmap(ax, desc, fmt=fmt), PolicyArrows(ax, desc, color=ARROW_COLOR))

    def update(self, values, pi, vmin: float | None = None, vmax: float | None = None) -> None:
        """Show values [S] and pi [S, A] on the 16 cells (pi's arrows on ice cells only)."""
        self.heat.update(values, vmin, vmax)
        self.arrows.update(_ice_only(pi, _frozen_lake().unwrapped.desc))


VALUES_TITLES = ("V(s): average over actions", "Q(s, a*): take a*, then follow π",
                 "A(s, a*) = Q(s, a*) − V(s)  (E2)")


@cache
def _values_figure() -> dict:
    """The figure of ``values_view``: a grid per title of VALUES_TITLES, and the suptitle."""
    fig = static_figure((15, 5.2))
    # Fixed margins, not tight_layout: measuring every label would cost the slider its 100 ms.
    axes = fig.subplots(1, 3, gridspec_kw={"left": 0.01, "right": 0.99, "top": 0.84, "bottom": 0.02,
                                           "wspace": 0.05})
    grids = [_Grid.on(ax, title, fmt="{:.3f}") for ax, title in zip(axes, VALUES_TITLES, strict=True)]
    return {"fig": fig, "grids": grids, "suptitle": fig.suptitle("")}


def values_view(gamma: float = 0.95) -> Figure:
    """E2 on the grid for the uniform policy: V(s), Q(s, a*) and A(s, a*) = Q - V at the best action a*.

    Returns the same Figure on every call, redrawn for gamma.
    """
    mdp, pi_old, pi_target = frozen_lake(gamma)
    v = tabular.state_values(mdp, pi_old)
    q_best = (tabular.action_values(mdp, pi_old) * pi_target).sum(1)
    # V and Q share a colour scale so that the cells can be compared by eye.
    top = max(q_best[:N_CELLS].max(), 1e-12)
    art = _values_figure()
    for grid, values, vmax in zip(art["grids"], (v, q_best, q_best - v), (top, top, None), strict=True):
        grid.update(values, pi_target, vmin=0.0 if vmax else None, vmax=vmax)
    art["suptitle"].set_text(f"Uniform policy on FrozenLake-v1, γ = {gamma:.2f}; "
                             "arrows: a* = argmax_a A(s, a)")
    return art["fig"]


SHARE_TITLE = "each state's share of the right side (E4):\nν_new(s) Σ_a π_new(a|s) A_old(s, a) / (1 − γ)"


@cache
def _performance_difference_figure() -> dict:
    """The figure of ``performance_difference_view``: the grid of E4's terms, and the curves along alpha."""
    fig = static_figure((15, 5.6))
    ax_grid, ax_curve = fig.subplots(1, 2, gridspec_kw={
        "width_ratios": [1, 1.5], "left": 0.01, "right": 0.98, "top": 0.86, "bottom": 0.13, "wspace": 0.12})
    art = {"fig": fig, "grid": _Grid.on(ax_grid, SHARE_TITLE, fmt="{:.4f}"), "curve": ax_curve}
    (art["lhs"],) = ax_curve.plot([], [], color="C0", label="left (E3): J(new) − J(old)")
    (art["rhs"],) = ax_curve.plot([], [], "o", color="C1", ms=6,
                                  label="right (E4): 1/(1 − γ) E[A_old], s ~ ν_new, a ~ π_new")
    (art["old_nu"],) = ax_curve.plot([], [], "--", color="gray",
                                     label="same sum with ν_old: not E3 (notebook 02)")
    (art["star"],) = ax_curve.plot([], [], "*", color="C3", ms=18, label="α")
    ax_curve.set(xlabel="α  in  π_new = (1 − α) π_old + α π_greedy", ylabel="change in J", xlim=(-0.05, 1.05))
    # Few ticks, plain-text labels: tick labels are a large part of the drawing time.
    ax_curve.set_xticks(np.linspace(0.0, 1.0, 6), ["0", "0.2", "0.4", "0.6", "0.8", "1"])
    ax_curve.yaxis.set_major_locator(MaxNLocator(5))
    art["star_label"] = ax_curve.legend(loc="upper left").get_texts()[3]
    art["title"] = ax_curve.set_title("", y=1.0)
    return art


def performance_difference_view(gamma: float = 0.95, alpha: float = 0.5) -> Figure:
    """Both sides of E3 for pi_new = (1 - alpha) uniform + alpha greedy: per state, and along alpha.

    Returns the same Figure on every call, redrawn for gamma and alpha.
    """
    mdp, pi_old, pi_target = frozen_lake(gamma)
    pi_new = mix(pi_old, pi_target, alpha)
    gains = gain_per_state(mdp, pi_old, pi_new)
    right = gains.sum()
    lhs = tabular.objective(mdp, pi_new) - tabular.objective(mdp, pi_old)
    curve = performance_difference_curve(gamma)

    art = _performance_difference_figure()
    # Every term is >= 0 (pi_target is greedy for A_old): a scale from 0, so that at alpha = 0, where
    # all are 0 up to rounding, the cells share one colour instead of spreading 1e-18 over the colour map.
    art["grid"].update(gains, pi_new, vmin=0.0, vmax=max(gains.max(), 1e-12))
    for key in ("lhs", "rhs", "old_nu"):
        art[key].set_data(curve["alpha"], curve[key])
    art["star"].set_data([alpha], [right])
    art["star_label"].set_text(f"α = {alpha:.2f}")
    art["title"].set_text(f"γ = {gamma:.2f}, α = {alpha:.2f}:  left {lhs:.5f},  right {right:.5f}")
    curves = [curve["lhs"], curve["rhs"], curve["old_nu"], [right]]
    art["curve"].set_ylim(padded_limits(np.concatenate(curves)))
    return art["fig"]


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
    adv, policy, rng = adv_t.numpy(), tabular_policy(pi_t.numpy()), np.random.default_rng(seed)
    sums = np.zeros(n_episodes)
    for b in range(n_episodes):
        s, _ = env.reset(seed=seed if b == 0 else None)
        discount, done = 1.0, False
        while not done:
            a = policy(s, rng)
            sums[b] += discount * adv[s, a]
            s, _, terminated, truncated, _ = env.step(a)
            discount *= gamma
            done = terminated or truncated
    return sums
