"""Notebook 04's numbers for "why the average KL": a bound on J with the mean KL, and its blind spot.

Achiam, Held, Tamar and Abbeel (2017), Constrained Policy Optimization, Corollary 1, with the
substitution of their Corollary 3 (Pinsker's inequality, then Jensen's), bounds the return of any
new policy pi' by the mean KL under the old policy pi's visitation:

    J(pi') - J(pi) >= 1/(1 - gamma) E_{s ~ nu^pi, a ~ pi'}[A^pi(s, a)]
                      - 2 gamma Abar_max / (1 - gamma)^2 * sqrt(E_{s ~ nu^pi}[D_KL(pi' || pi)[s]] / 2),

with Abar_max = max_s |E_{a ~ pi'}[A^pi(s, a)]| (the paper's epsilon^{pi'}). The paper puts the new
policy first in the KL; the total-variation distance it bounds is symmetric and Pinsker's inequality
holds in both directions, so the bound holds with TRPO's D_KL(pi || pi') (E8) as well. Everything here
is exact (``trpo_lite.tabular``): ``random_pair_bounds`` checks the bound on random MDPs, ``rare_state_path``
shows on FrozenLake that a change in a rarely visited state is barely charged by the mean KL.

Shapes: S states, A actions, N policy pairs, K points along a path.
"""

from functools import cache

import numpy as np

from trpo_lite import tabular
from trpo_lite.examples.frozen_lake import lake_mdp
from trpo_lite.examples.trust_region import surrogate_batch
from trpo_lite.examples.visitation import BESIDE_GOAL, flawed_step
from trpo_lite.tabular import FiniteMDP

SEED = 0
GAMMAS = (0.5, 0.9, 0.99)  # discounts of the random MDPs
LAKE_GAMMA = 0.9  # notebook 02's discount for its flawed path
RARE_KAPPAS = np.round(np.linspace(0.0, 0.99, 100), 2)  # steps of the change beside the goal


def average_tv_bound(mdp: FiniteMDP, pi_old, pi_new, mean_tv):
    """Lower bound on J(pi_new) from the mean total-variation distance (Achiam et al. 2017, Corollary 1).

    J(old) + 1/(1 - gamma) E_{s ~ nu^old} E_{a ~ new}[A^old(s, a)] - 2 gamma Abar_max / (1 - gamma)^2 mean_tv,
    Abar_max = max_s |E_{a ~ new}[A^old(s, a)]|. pi_old [S, A]; pi_new [..., S, A] and mean_tv [...]
    (a batch of new policies broadcasts); mean_tv = E_{s ~ nu^old}[D_TV(pi_old(.|s), pi_new(.|s))].
    """
    expected_advantage = (np.asarray(pi_new) * tabular.advantages(mdp, pi_old)).sum(-1)  # [..., S]
    abar_max = np.abs(expected_advantage).max(-1)
    gain = expected_advantage @ tabular.visitation(mdp, pi_old) / (1 - mdp.gamma)  # L - J(old), E5
    return tabular.objective(mdp, pi_old) + gain - 2 * mdp.gamma * abar_max / (1 - mdp.gamma) ** 2 * mean_tv


def average_kl_bound(mdp: FiniteMDP, pi_old, pi_new, mean_kl):
    """Lower bound on J(pi_new) from the mean KL under nu^old (Achiam et al. 2017, Corollary 1 with the
    substitution of Corollary 3): Pinsker's inequality, D_TV <= sqrt(D_KL / 2) in each state, then Jensen's,
    E[sqrt(x)] <= sqrt(E[x]), give mean_tv <= sqrt(mean_kl / 2). mean_kl is E_{s ~ nu^old}[D_KL] in either
    direction; shapes as in ``average_tv_bound``."""
    return average_tv_bound(mdp, pi_old, pi_new, np.sqrt(np.asarray(mean_kl) / 2))


def random_policy_pairs(n_mdps: int = 90, pairs_per_mdp: int = 8, seed: int = SEED) -> list[tuple]:
    """(mdp, pi_old [S, A], pi_news [K, S, A]) for n_mdps random MDPs (``FiniteMDP.random``: 2-8 states,
    2-4 actions, gamma in GAMMAS), K = pairs_per_mdp; one seed fixes all.

    Old policies are Dirichlet draws from nearly deterministic to nearly uniform; each new policy mixes
    its old one with another random policy, weight 10^U(-3, 0): pairs at every distance.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for m in range(n_mdps):
        mdp = FiniteMDP.random(rng, int(rng.integers(2, 9)), int(rng.integers(2, 5)), GAMMAS[m % len(GAMMAS)],
                               concentration=(0.3, 1.0)[m % 2])
        old = mdp.random_policy(rng, concentration=(0.3, 1.0, 5.0)[m % 3])
        weights = 10 ** rng.uniform(-3, 0, size=(pairs_per_mdp, 1, 1))
        others = np.stack([mdp.random_policy(rng) for _ in range(pairs_per_mdp)])
        cases.append((mdp, old, (1 - weights) * old + weights * others))
    return cases


@cache
def random_pair_bounds(n_mdps: int = 90, pairs_per_mdp: int = 8, seed: int = SEED) -> dict:
    """J(new) and the lower bounds on it for every pair of ``random_policy_pairs``: arrays [N], N = n_mdps
    pairs_per_mdp: gamma, J_new, J_old, "kl_old_new" and "kl_new_old" (``average_kl_bound`` with the mean
    under nu^old of D_KL(old || new), TRPO's direction, and of D_KL(new || old), the paper's) and "tv"
    (``average_tv_bound``)."""
    rows = {key: [] for key in ("gamma", "J_new", "J_old", "kl_old_new", "kl_new_old", "tv")}
    for mdp, old, news in random_policy_pairs(n_mdps, pairs_per_mdp, seed):
        nu = tabular.visitation(mdp, old)
        reverse_kl = np.array([tabular.state_kl(new, old) for new in news]) @ nu  # the paper's direction
        rows["gamma"] += [mdp.gamma] * len(news)
        rows["J_new"] += [tabular.objective(mdp, new) for new in news]
        rows["J_old"] += [tabular.objective(mdp, old)] * len(news)
        rows["kl_old_new"] += list(average_kl_bound(mdp, old, news, tabular.mean_state_kl(mdp, old, news)))
        rows["kl_new_old"] += list(average_kl_bound(mdp, old, news, reverse_kl))
        rows["tv"] += list(average_tv_bound(mdp, old, news, 0.5 * np.abs(news - old).sum(-1) @ nu))
    return {key: np.array(values) for key, values in rows.items()}


@cache
def rare_state_path(gamma: float = LAKE_GAMMA) -> dict:
    """Notebook 02's flaw, isolated: pi_kappa = pi_old (uniform) except beside the goal, where its row
    moves by kappa toward ``visitation.flawed_step``'s (step left, so never onto the goal), kappa in
    RARE_KAPPAS.

    Returns {"kappa" [K], "J", "L" [K] (E1, E5), "mean_kl" (E8's distance, old first), "max_kl" (E7's),
    "bound" [K] (``average_kl_bound`` with mean_kl), "e7_bound" [K] (``tabular.lower_bound``), "J_old",
    "nu_beside_goal" (nu^old of that cell), "C" (E7's penalty coefficient)}.
    """
    mdp = lake_mdp(gamma)
    old = mdp.uniform_policy()
    flawed_row = flawed_step(mdp, old)[BESIDE_GOAL]
    policies = np.repeat(old[None], len(RARE_KAPPAS), axis=0)
    policies[:, BESIDE_GOAL] = tabular.mixture(old[BESIDE_GOAL], flawed_row, RARE_KAPPAS[:, None])
    mean_kl = tabular.mean_state_kl(mdp, old, policies)
    return {
        "kappa": RARE_KAPPAS,
        "J": np.array([tabular.objective(mdp, pi) for pi in policies]),
        "L": surrogate_batch(mdp, old, policies),
        "mean_kl": mean_kl,
        "max_kl": tabular.max_state_kl(old, policies),
        "bound": average_kl_bound(mdp, old, policies, mean_kl),
        "e7_bound": np.array([tabular.lower_bound(mdp, old, pi) for pi in policies]),
        "J_old": tabular.objective(mdp, old),
        "nu_beside_goal": tabular.visitation(mdp, old)[BESIDE_GOAL],
        "C": tabular.penalty_coefficient(mdp, old),
    }
