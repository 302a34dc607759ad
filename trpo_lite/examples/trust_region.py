"""Notebook 04's numbers: the lower bound (E7), minorize-maximize and the average-KL trust region (E8),
exactly, on a tiny MDP.

The bridge MDP has two states where choices matter, so every policy is a point
(p_home, p_bridge) = (P(forward | home), P(forward | bridge)) of the unit square
and the whole policy space fits in one picture. Going back at home earns 0.1
per step; forward leads to the bridge; forward on the bridge wins the prize 2
and ends the episode; back on the bridge returns home. The slider tables are
computed once here; ``trpo_lite.figures.trust_region`` draws them.

Shapes: S states, A actions, K points along a path (or slider values), G and H grid points per axis.
"""

from functools import lru_cache

import numpy as np
import torch
from contourpy import contour_generator

from trpo_lite import tabular
from trpo_lite._validate import grid_index
from trpo_lite.tabular import FiniteMDP

HOME, BRIDGE, END = 0, 1, 2
BACK, FORWARD = 0, 1
OLD = (0.3, 0.05)  # (p_home, p_bridge) of pi_old: a timid policy that rarely crosses
GAMMA = 0.9
# Steps along the path: 0, then 8 per decade down to 1e-6, so tiny certified steps are resolved.
KAPPAS = np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 49)])
BOUND_GAMMAS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
DELTAS = 10.0 ** np.arange(-3.0, 0.0 + 1e-9, 0.125)  # the delta slider's values, [1e-3, 1]


def bridge_mdp(gamma: float = GAMMA, stay_reward: float = 0.1, prize: float = 2.0) -> FiniteMDP:
    """The home -> bridge -> end MDP (S = 3, A = 2); END is absorbing with zero reward."""
    P, R = np.zeros((3, 2, 3)), np.zeros((3, 2))
    P[HOME, BACK, HOME], R[HOME, BACK] = 1.0, stay_reward
    P[HOME, FORWARD, BRIDGE] = 1.0
    P[BRIDGE, BACK, HOME] = 1.0
    P[BRIDGE, FORWARD, END], R[BRIDGE, FORWARD] = 1.0, prize
    P[END, :, END] = 1.0
    return FiniteMDP(P, R, gamma, np.array([1.0, 0.0, 0.0]))


def bridge_policy(p_home, p_bridge) -> np.ndarray:
    """[..., 3, 2] policies from P(forward | home) and P(forward | bridge) (broadcast); END: 50/50."""
    p_home, p_bridge = np.broadcast_arrays(np.asarray(p_home, float), np.asarray(p_bridge, float))
    for name, p in (("p_home", p_home), ("p_bridge", p_bridge)):
        if not np.all((p >= 0) & (p <= 1)):
            raise ValueError(f"{name} must be probabilities in [0, 1]; got values in [{p.min()}, {p.max()}]")
    pi = np.full(p_home.shape + (3, 2), 0.5)
    pi[..., HOME, :] = np.stack([1 - p_home, p_home], -1)
    pi[..., BRIDGE, :] = np.stack([1 - p_bridge, p_bridge], -1)
    return pi


def surrogate_batch(mdp: FiniteMDP, pi_old, pi_new) -> np.ndarray:
    """L_old(new) (E5) for a batch pi_new [..., S, A] -> [...], equal to ``tabular.surrogate`` each.

    L is linear in the new policy (E5: nu^old and A^old are fixed), so one
    gradient at any point, here pi_old, gives L everywhere exactly.
    """
    pi_old = np.asarray(pi_old, float)
    at = torch.tensor(pi_old, requires_grad=True)
    value = tabular.surrogate(mdp, pi_old, at)
    (grad,) = torch.autograd.grad(value, at)
    return value.item() + np.einsum("...sa,sa->...", np.asarray(pi_new, float) - pi_old, grad.numpy())


def path_curves(mdp: FiniteMDP, pi_old, kappas=KAPPAS) -> dict:
    """J, L, the bound (E7) and both KLs along pi_kappa = (1 - kappa) pi_old + kappa greedy, [K] each.

    greedy is ``tabular.greedy_policy(mdp, pi_old)``. Returns a dict: kappa, J, L,
    bound (``tabular.lower_bound``), penalty (C max_s KL = L - bound),
    max_state_kl (E7's distance), mean_state_kl (E8's), C, and the policies [K, S, A].
    """
    pi_old = np.asarray(pi_old, float)
    kappas = np.asarray(kappas, float)
    policies = tabular.mixture(pi_old, tabular.greedy_policy(mdp, pi_old), kappas[:, None, None])
    L = surrogate_batch(mdp, pi_old, policies)
    bound = np.array([tabular.lower_bound(mdp, pi_old, pi) for pi in policies])
    return {
        "kappa": kappas,
        "J": np.array([tabular.objective(mdp, pi) for pi in policies]),
        "L": L,
        "bound": bound,
        "penalty": L - bound,
        "max_state_kl": tabular.max_state_kl(pi_old, policies),
        "mean_state_kl": tabular.mean_state_kl(mdp, pi_old, policies),
        "C": tabular.penalty_coefficient(mdp, pi_old),
        "policies": policies,
    }


def improve_along_path(mdp: FiniteMDP, pi, n_iters: int, max_kl: float | None = None) -> dict:
    """Repeat a step along the path to the greedy policy; J [n_iters + 1], kappa [n_iters].

    max_kl None: minorize-maximize, the step maximising the bound (E7), so
    J(new) >= bound(new) >= bound(old) = J(old). max_kl = delta: the largest
    step whose mean KL (E8) is at most delta (L only grows along this path).
    """
    if max_kl is not None and not max_kl > 0:
        raise ValueError(f"max_kl must be None (maximise the bound) or > 0; got {max_kl!r}")
    pi = np.asarray(pi, float)
    J, kappas = [tabular.objective(mdp, pi)], []
    for _ in range(n_iters):
        curves = path_curves(mdp, pi)
        if max_kl is None:
            i = curves["bound"].argmax()
        else:
            i = np.flatnonzero(curves["mean_state_kl"] <= max_kl)[-1]
        pi = curves["policies"][i]
        J.append(curves["J"][i])
        kappas.append(curves["kappa"][i])
    return {"J": np.array(J), "kappa": np.array(kappas), "policy": pi}


@lru_cache(maxsize=1)
def bound_tables() -> dict:
    """For each gamma in BOUND_GAMMAS, ``path_curves`` on the bridge MDP from OLD: coarse, full, zoom.

    coarse: KAPPAS (finds the certified step kappa*); full: 51 steps on
    [0, 1]; zoom: 41 steps on [0, 3 kappa*]. Precomputed so the slider only draws.
    """
    tables = {}
    for gamma in BOUND_GAMMAS:
        mdp, old = bridge_mdp(gamma), bridge_policy(*OLD)
        coarse = path_curves(mdp, old)
        star = coarse["kappa"][coarse["bound"].argmax()]
        full = path_curves(mdp, old, np.linspace(0.0, 1.0, 51))
        zoom = path_curves(mdp, old, np.linspace(0.0, 3 * star, 41))
        tables[gamma] = {"coarse": coarse, "full": full, "zoom": zoom, "kappa_star": star}
    return tables


def bound_numbers(gamma: float = GAMMA) -> dict:
    """The numbers of notebook 04's gamma slider: ``bound_tables()`` for gamma, and what its titles say.

    Returns {"gamma": the grid value, "full", "zoom": ``path_curves`` [K each], "kappa_star", "J_old",
    "ratio": penalty / |L - J| at kappa* (on the coarse grid that found it), "certified": the largest
    bound - J(old) on the zoom, "available": the largest J - J(old) on the path, "C"}.
    """
    gamma = BOUND_GAMMAS[grid_index("gamma", gamma, BOUND_GAMMAS)]
    table = bound_tables()[gamma]
    full, zoom, coarse = table["full"], table["zoom"], table["coarse"]
    i = int(coarse["bound"].argmax())
    J_old = full["J"][0]
    return {"gamma": gamma, "full": full, "zoom": zoom, "kappa_star": table["kappa_star"], "J_old": J_old,
            "ratio": coarse["penalty"][i] / abs(coarse["L"][i] - coarse["J"][i]),
            "certified": zoom["bound"].max() - J_old, "available": full["J"].max() - J_old, "C": full["C"]}


@lru_cache(maxsize=4)
def trust_region_table(gamma: float = GAMMA, n_grid: int = 401, n_heat: int = 61) -> dict:
    """The whole policy square of the bridge MDP, and the best admitted policy for each delta in DELTAS.

    Returns a dict: p [G] (grid of both probabilities), mean_state_kl and L [G, G]
    (first axis p_home), heat_p [H], heat_J [H, H] (J on a coarser grid), J_old;
    and per delta in DELTAS: best_p [K, 2], best_L, best_J [K] (argmax of L over
    the grid with mean KL <= delta, E8), mean_lines and max_lines (the curves
    where mean KL and max KL equal delta, lists of [n, 2] vertex arrays).
    """
    mdp, old = bridge_mdp(gamma), bridge_policy(*OLD)
    p = np.linspace(0.0, 1.0, n_grid)  # contains OLD exactly, so every delta admits pi_old
    grid = bridge_policy(p[:, None], p[None, :])
    kl = tabular.state_kl(old, grid)  # [G, G, S], once for both the mean (E8) and the max (E7)
    mean_kl = kl @ tabular.visitation(mdp, old)
    L = surrogate_batch(mdp, old, grid)
    heat_p = np.linspace(0.0, 1.0, n_heat)
    heat_J = np.array([[tabular.objective(mdp, bridge_policy(a, b)) for b in heat_p] for a in heat_p])
    best = [np.unravel_index(np.where(mean_kl <= d, L, -np.inf).argmax(), L.shape) for d in DELTAS]
    best_p = np.array([(p[i], p[j]) for i, j in best])
    # Contour lines once here, so the slider only draws them; inf KL (a dropped action) is capped
    # so that the lines close.
    lines = {}
    for key, value in (("mean", mean_kl), ("max", kl.max(-1))):
        generator = contour_generator(p, p, np.minimum(value, 1e3).T)
        lines[key] = [generator.lines(d) for d in DELTAS]
    return {
        "p": p, "mean_state_kl": mean_kl, "L": L, "heat_p": heat_p, "heat_J": heat_J,
        "J_old": tabular.objective(mdp, old), "best_p": best_p,
        "best_L": np.array([L[ij] for ij in best]),
        "best_J": np.array([tabular.objective(mdp, bridge_policy(*bp)) for bp in best_p]),
        "mean_lines": lines["mean"], "max_lines": lines["max"],
    }


def trust_region_numbers(max_kl: float = 0.01) -> dict:
    """The numbers of notebook 04's delta slider: ``trust_region_table()`` at delta = max_kl, one of DELTAS.

    Returns {"k": delta's index in DELTAS, "delta", "best_p" [2], "best_J", "promised" (L - J(old)) and
    "achieved" (J - J(old)) of the best admitted policy, "mean_lines", "max_lines" (vertex arrays)}.
    """
    k = grid_index("max_kl", max_kl, DELTAS)
    t = trust_region_table()
    return {"k": k, "delta": DELTAS[k], "best_p": t["best_p"][k], "best_J": t["best_J"][k],
            "promised": t["best_L"][k] - t["J_old"], "achieved": t["best_J"][k] - t["J_old"],
            "mean_lines": t["mean_lines"][k], "max_lines": t["max_lines"][k]}
