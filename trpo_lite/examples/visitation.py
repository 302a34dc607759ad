"""Notebook 02's numbers: the discounted state visitation nu (E4) and the surrogate L against J (E5).

The MDP is FrozenLake-v1 4x4 (``frozen_lake.lake_mdp``): 16 cells plus the absorbing state
(index 16) that every episode ends in. ``precompute`` walks the slider grids once, so a slider
move only indexes arrays: ``visitation_at`` and ``surrogate_at`` pick what notebook 02's slider
figures show. ``sample_visitation`` estimates nu from episodes in the real environment.

Shapes: S states (17 here), A actions (4), E episodes.
"""

from dataclasses import dataclass, replace

import numpy as np

from trpo_lite import tabular
from trpo_lite._validate import grid_index
from trpo_lite.examples.frozen_lake import lake_map, lake_mdp, sample_episodes, tabular_policy

GAMMAS = np.round(0.5 + 0.01 * np.arange(50), 2)  # the gamma slider: 0.50, 0.51, ..., 0.99
ALPHAS = np.round(np.linspace(0.0, 1.0, 51), 2)  # the alpha slider: 0.00, 0.02, ..., 1.00
BESIDE_GOAL, LEFT = 14, 0  # FrozenLake 4x4: the one cell the goal is reached from; action "left"
PATHS = ("greedy", "greedy, but steps left beside the goal")
SHARES = ("start cell S", "rest of the grid", "episode over (absorbing state)")  # where nu's mass sits


def flawed_step(mdp: tabular.FiniteMDP, pi_old) -> np.ndarray:
    """[S, A] ``tabular.greedy_policy``, except that beside the goal it steps left, so it never reaches
    the goal.

    Its J is 0, yet L promises a gain: the old policy seldom stands beside the goal
    (nu^old is small there), so L hardly charges for the bad action; the new policy walks
    there on purpose, so J pays in full.
    """
    if (mdp.n_states, mdp.n_actions) != (17, 4):
        raise ValueError(
            f"flawed_step is written for FrozenLake-v1 4x4 (17 states with the absorbing one, 4 actions); "
            f"got an MDP with {mdp.n_states} states and {mdp.n_actions} actions"
        )
    pi_new = tabular.greedy_policy(mdp, pi_old)
    pi_new[BESIDE_GOAL] = np.eye(mdp.n_actions)[LEFT]
    return pi_new


@dataclass(frozen=True)
class VisitationData:
    """The numbers of notebook 02's slider views, computed once over the slider grids for the uniform
    old policy.

    Index order [path, gamma, alpha, state]; paths as in ``PATHS``.
    """

    desc: np.ndarray  # [rows, cols] the map (``frozen_lake.lake_map``)
    gammas: np.ndarray  # the gamma slider values
    alphas: np.ndarray  # the alpha slider values
    nu_old: np.ndarray  # [len(gammas), S] nu of pi_old (E4)
    J: np.ndarray  # [len(PATHS), len(gammas), len(alphas)] J(pi_alpha) (E1)
    L: np.ndarray  # same shape: L_old(pi_alpha) (E5)
    gap_by_state: np.ndarray  # [len(PATHS), len(gammas), len(alphas), S] each state's share of J - L


def precompute(gammas=GAMMAS, alphas=ALPHAS) -> VisitationData:
    """J, L and the gap's sources along both paths from the uniform policy, for every slider value.

    J and L differ only in the visitation (E4 against E5), so
    J - L = 1/(1 - gamma) sum_s (nu^alpha(s) - nu^old(s)) sum_a pi_alpha(a|s) A^old(s, a);
    ``gap_by_state`` holds the terms of that sum.
    """
    base = lake_mdp(float(gammas[0]))
    shape = (len(PATHS), len(gammas), len(alphas))
    J, L, gap_by_state = np.zeros(shape), np.zeros(shape), np.zeros(shape + (base.n_states,))
    nu_old = np.zeros((len(gammas), base.n_states))
    pi_old = base.uniform_policy()
    for g, gamma in enumerate(gammas):
        mdp = replace(base, gamma=float(gamma))
        nu_old[g] = tabular.visitation(mdp, pi_old)
        A_old = tabular.advantages(mdp, pi_old)
        for p, step in enumerate((tabular.greedy_policy, flawed_step)):
            pi_new = step(mdp, pi_old)
            for k, alpha in enumerate(alphas):
                pi_alpha = tabular.mixture(pi_old, pi_new, alpha)
                J[p, g, k] = tabular.objective(mdp, pi_alpha)
                L[p, g, k] = tabular.surrogate(mdp, pi_old, pi_alpha)
                shift = tabular.visitation(mdp, pi_alpha) - nu_old[g]
                gap_by_state[p, g, k] = shift * (pi_alpha * A_old).sum(1) / (1 - gamma)
    desc = np.asarray(lake_map())
    return VisitationData(desc, np.asarray(gammas), np.asarray(alphas), nu_old, J, L, gap_by_state)


def visitation_at(data: VisitationData, gamma: float) -> dict:
    """What the visitation view shows at a slider value gamma (a ValueError names any other value).

    Returns:
        dict: ``gamma`` the grid's value; ``nu`` [S] nu^old at gamma; ``shares`` [len(SHARES), len(gammas)]
        nu^old's mass on the start cell, the rest of the grid and the absorbing state, for every gamma;
        ``shares_now`` [len(SHARES)] the same at gamma.
    """
    g = grid_index("gamma", gamma, data.gammas)
    start = int(np.flatnonzero(data.desc.ravel() == b"S")[0])
    nu = data.nu_old
    shares = np.stack([nu[:, start], 1 - nu[:, start] - nu[:, -1], nu[:, -1]])
    return {"gamma": data.gammas[g], "nu": nu[g], "shares": shares, "shares_now": shares[:, g]}


def surrogate_at(data: VisitationData, path: str, gamma: float, alpha: float) -> dict:
    """What the surrogate view shows for a path of ``PATHS`` and slider values gamma, alpha (a ValueError
    names any other value).

    Returns:
        dict: ``gamma``, ``alpha`` the grids' values; ``J``, ``L`` [len(alphas)] along the path (E1, E5);
        ``k`` alpha's index; ``gap_by_state`` [S] each state's share of J - L at alpha.
    """
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}; got {path!r}")
    p = PATHS.index(path)
    g, k = grid_index("gamma", gamma, data.gammas), grid_index("alpha", alpha, data.alphas)
    return {"gamma": data.gammas[g], "alpha": data.alphas[k], "J": data.J[p, g], "L": data.L[p, g], "k": k,
            "gap_by_state": data.gap_by_state[p, g, k]}


def sample_visitation(env, pi, gamma: float, episodes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo nu (E4) from episodes in the real env, and its standard error, both [S_env + 1].

    Each episode (``frozen_lake.sample_episodes``) adds (1 - gamma) gamma^t to the cell it
    stands on at step t; when it ends at step T, the rest of its weight,
    sum_{t >= T} (1 - gamma) gamma^t = gamma^T, goes to the absorbing state (the last entry),
    as in ``FiniteMDP.from_toy_text``. An episode cut by the env's time limit loses that
    tail, so use a limit with gamma^limit below the noise.

    Args:
        env: a gymnasium toy-text env (FrozenLake-v1).
        pi: [S, A] policy; rows for the env's states come first (as from ``from_toy_text``).
        gamma: discount in [0, 1).
        episodes: number of episodes E.
        seed: seeds the env (first reset) and the action sampling.
    Returns:
        nu_hat [S_env + 1], the mean over episodes; stderr [S_env + 1], its standard error.
    """
    if not (isinstance(episodes, int) and episodes >= 2):
        raise ValueError(f"episodes must be an integer >= 2 (for a standard error); got {episodes!r}")
    weights = np.zeros((episodes, env.observation_space.n + 1))  # [E, S]: each episode's discounted visits
    for e, episode in enumerate(sample_episodes(env, tabular_policy(pi), episodes, seed)):
        T = len(episode.states)
        discounts = np.cumprod(np.r_[1.0, np.full(T, gamma)])  # gamma^t for t = 0 .. T, a running product
        np.add.at(weights[e], episode.states, (1 - gamma) * discounts[:T])
        if episode.terminated:
            weights[e, -1] += discounts[T]
    return weights.mean(0), weights.std(0, ddof=1) / np.sqrt(episodes)
