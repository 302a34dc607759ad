"""The lower bound (E7), minorize-maximize, and the average-KL trust region (E8), on a tiny MDP.

The bridge MDP has two states where choices matter, so every policy is a point
(p_home, p_bridge) = (P(forward | home), P(forward | bridge)) of the unit square
and the whole policy space fits in one picture. Going back at home earns 0.1
per step; forward leads to the bridge; forward on the bridge wins the prize 2
and ends the episode; back on the bridge returns home.

Shapes: S states, A actions, K points along a path (or slider values), G and H grid points per axis.
"""

from functools import lru_cache

import numpy as np
import torch
from contourpy import contour_generator
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch.distributions import Categorical, kl_divergence

from trpo_lite import tabular
from trpo_lite._validate import check_distributions
from trpo_lite.figures.style import static_figure
from trpo_lite.tabular import FiniteMDP

HOME, BRIDGE, END = 0, 1, 2
BACK, FORWARD = 0, 1
OLD = (0.3, 0.05)  # (p_home, p_bridge) of pi_old: a timid policy that rarely crosses
GAMMA = 0.9
# Steps along the path: 0, then 8 per decade down to 1e-6, so tiny certified steps are resolved.
ALPHAS = np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 49)])
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


def greedy_policy(mdp: FiniteMDP, pi_old) -> np.ndarray:
    """[S, A] all mass on argmax_a A^old(s, a) (E2); rows where every action ties keep pi_old.

    Keeping tied rows (absorbing states, FrozenLake's holes) avoids moving the
    policy where it changes nothing, which would only add KL.
    """
    adv = tabular.advantages(mdp, np.asarray(pi_old, float))
    tied = np.ptp(adv, axis=1) <= 1e-12 * max(1.0, np.abs(adv).max())
    return np.where(tied[:, None], pi_old, np.eye(mdp.n_actions)[adv.argmax(1)])


def state_kl(pi_old, pi_new) -> np.ndarray:
    """[..., S] D_KL(pi_old(.|s) || pi_new(.|s)) per state, natural log; pi_new [..., S, A] batches."""
    old = torch.as_tensor(np.asarray(pi_old, float))
    new = torch.as_tensor(np.asarray(pi_new, float))
    if new.shape[-old.dim():] != old.shape:
        expected = ", ".join(map(str, old.shape))
        raise ValueError(f"pi_new must have shape [..., {expected}] (like pi_old); got {tuple(new.shape)}")
    check_distributions("pi_old", old)  # Categorical would silently renormalise rows that do not sum to 1
    check_distributions("pi_new", new)
    return kl_divergence(Categorical(probs=old.expand_as(new)), Categorical(probs=new)).numpy()


def tabular_mean_kl(mdp: FiniteMDP, pi_old, pi_new) -> np.ndarray:
    """E_{s ~ nu^old}[D_KL(pi_old(.|s) || pi_new(.|s))] (E8), [...] for pi_new [..., S, A].

    The trust region averages over the states the old policy visits (E4), not
    the worst state as E7's max does, so it can be estimated from old-policy data.
    """
    return state_kl(pi_old, pi_new) @ tabular.visitation(mdp, np.asarray(pi_old, float))


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


def path_curves(mdp: FiniteMDP, pi_old, alphas=ALPHAS) -> dict:
    """J, L, the bound (E7) and both KLs along pi_alpha = (1 - alpha) pi_old + alpha greedy, [K] each.

    Returns a dict: alpha, J, L, bound (``tabular.lower_bound``), penalty
    (C max_s KL = L - bound), max_kl, mean_kl (E8), C, and the policies [K, S, A].
    """
    pi_old = np.asarray(pi_old, float)
    alphas = np.asarray(alphas, float)
    policies = tabular.mixture(pi_old, greedy_policy(mdp, pi_old), alphas[:, None, None])
    L = surrogate_batch(mdp, pi_old, policies)
    bound = np.array([tabular.lower_bound(mdp, pi_old, pi) for pi in policies])
    kl = state_kl(pi_old, policies)
    return {
        "alpha": alphas,
        "J": np.array([tabular.objective(mdp, pi) for pi in policies]),
        "L": L,
        "bound": bound,
        "penalty": L - bound,
        "max_kl": kl.max(-1),
        "mean_kl": kl @ tabular.visitation(mdp, pi_old),
        "C": tabular.penalty_coefficient(mdp, pi_old),
        "policies": policies,
    }


def improve_along_path(mdp: FiniteMDP, pi, n_iters: int, max_kl: float | None = None) -> dict:
    """Repeat a step along the path to the greedy policy; J [n_iters + 1], alpha [n_iters].

    max_kl None: minorize-maximize, the step maximising the bound (E7), so
    J(new) >= bound(new) >= bound(old) = J(old). max_kl = delta: the largest
    step whose mean KL (E8) is at most delta (L only grows along this path).
    """
    if max_kl is not None and not max_kl > 0:
        raise ValueError(f"max_kl must be None (maximise the bound) or > 0; got {max_kl!r}")
    pi = np.asarray(pi, float)
    J, alphas = [tabular.objective(mdp, pi)], []
    for _ in range(n_iters):
        curves = path_curves(mdp, pi)
        i = curves["bound"].argmax() if max_kl is None else np.flatnonzero(curves["mean_kl"] <= max_kl)[-1]
        pi = curves["policies"][i]
        J.append(curves["J"][i])
        alphas.append(curves["alpha"][i])
    return {"J": np.array(J), "alpha": np.array(alphas), "policy": pi}


def _few_ticks(ax) -> None:
    """At most about 5 ticks per axis: tick labels are most of a figure's drawing time."""
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))


def _fit(ax, x, ys, below: float = 0.05) -> None:
    """Axis limits around x and the finite values of ys, with margins (below: share of span under)."""
    y = np.concatenate([np.ravel(v) for v in ys])
    y = y[np.isfinite(y)]
    span = (y.max() - y.min()) or 1.0
    ax.set_xlim(x.min() - 0.03 * (x.max() - x.min()), x.max() + 0.03 * (x.max() - x.min()))
    ax.set_ylim(y.min() - below * span, y.max() + 0.08 * span)


@lru_cache(maxsize=1)
def bound_tables() -> dict:
    """For each gamma in BOUND_GAMMAS, ``path_curves`` on the bridge MDP from OLD: coarse, full, zoom.

    coarse: ALPHAS (finds the certified step alpha*); full: 51 steps on
    [0, 1]; zoom: 41 steps on [0, 3 alpha*]. Precomputed so the slider only draws.
    """
    tables = {}
    for gamma in BOUND_GAMMAS:
        mdp, old = bridge_mdp(gamma), bridge_policy(*OLD)
        coarse = path_curves(mdp, old)
        star = coarse["alpha"][coarse["bound"].argmax()]
        full = path_curves(mdp, old, np.linspace(0.0, 1.0, 51))
        zoom = path_curves(mdp, old, np.linspace(0.0, 3 * star, 41))
        tables[gamma] = {"coarse": coarse, "full": full, "zoom": zoom, "alpha_star": star}
    return tables


@lru_cache(maxsize=1)
def _bound_figure() -> dict:
    """The figure of ``bound_view`` and the artists it moves."""
    fig = static_figure((14, 4.8))
    whole, near = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.82, wspace=0.22)
    art = {"fig": fig, "whole": whole, "near": near, "suptitle": fig.suptitle("")}
    for key, label in (("J", "J (true)"), ("L", "L (surrogate)"), ("bound", "bound = L - penalty")):
        (art["whole_" + key],) = whole.plot([], [], label=label)
    art["J_old"] = whole.axhline(0.0, color="gray", ls="--", lw=1.2, label="J(old)")
    whole.set(xlabel="alpha (0 = old, 1 = greedy)", ylabel="return", title="the whole path")
    whole.legend(loc="upper left", fontsize=10)
    for key, label in (("J", "J - J(old)"), ("L", "L - J(old)"), ("bound", "bound - J(old)")):
        (art["near_" + key],) = near.plot([], [], label=label)
    (art["penalty"],) = near.plot([], [], color="tab:red", ls="--", label="penalty C max KL")
    art["star"] = near.axvline(0.0, color="black", lw=1, ls=":")
    near.axhline(0.0, color="gray", lw=1)
    near.set(xlabel="alpha", ylabel="gain over J(old)")
    near.ticklabel_format(style="sci", scilimits=(-2, 2))
    near.legend(loc="upper left", fontsize=10)
    for ax in (whole, near):
        _few_ticks(ax)
    return art


def bound_view(gamma: float = GAMMA) -> Figure:
    """J, L, the penalty and the bound (E7) along the path from pi_old to the greedy policy, for one gamma.

    Two panels, the whole path and a zoom on the tiny steps the bound
    certifies. Returns the same Figure on every call, redrawn for gamma.
    """
    match = [g for g in BOUND_GAMMAS if np.isclose(g, gamma)]
    if not match:
        raise ValueError(f"gamma must be one of the precomputed values {BOUND_GAMMAS}; got {gamma!r}")
    table, art = bound_tables()[match[0]], _bound_figure()
    full, zoom, coarse, star = table["full"], table["zoom"], table["coarse"], table["alpha_star"]
    J_old = full["J"][0]
    for key in ("J", "L", "bound"):
        art["whole_" + key].set_data(full["alpha"], full[key])
        art["near_" + key].set_data(zoom["alpha"], zoom[key] - J_old)
    art["J_old"].set_ydata([J_old, J_old])
    _fit(art["whole"], full["alpha"], [full["J"], full["L"]], below=0.3)  # the bound plunges far below
    art["penalty"].set_data(zoom["alpha"], zoom["penalty"])
    art["star"].set_xdata([star, star])
    _fit(art["near"], zoom["alpha"], [zoom[k] - J_old for k in ("J", "L", "bound")] + [zoom["penalty"]])
    i = int(coarse["bound"].argmax())  # alpha* itself, on the grid that found it
    ratio = coarse["penalty"][i] / abs(coarse["L"][i] - coarse["J"][i])
    art["near"].set_title(f"zoom: at alpha* (dotted), penalty = {ratio:.0f} x |L - J|")
    certified, available = zoom["bound"].max() - J_old, full["J"].max() - J_old
    art["suptitle"].set_text(
        f"gamma = {match[0]}: C = {full['C']:.3g}; the bound certifies +{certified:.1e} at alpha* = "
        f"{star:.1e}; the path offers up to +{available:.2f}"
    )
    return art["fig"]


@lru_cache(maxsize=4)
def trust_region_table(gamma: float = GAMMA, n_grid: int = 401, n_heat: int = 61) -> dict:
    """The whole policy square of the bridge MDP, and the best admitted policy for each delta in DELTAS.

    Returns a dict: p [G] (grid of both probabilities), mean_kl and L [G, G]
    (first axis p_home), heat_p [H], heat_J [H, H] (J on a coarser grid), J_old;
    and per delta in DELTAS: best_p [K, 2], best_L, best_J [K] (argmax of L over
    the grid with mean KL <= delta, E8), mean_lines and max_lines (the curves
    where mean KL and max KL equal delta, lists of [n, 2] vertex arrays).
    """
    mdp, old = bridge_mdp(gamma), bridge_policy(*OLD)
    p = np.linspace(0.0, 1.0, n_grid)  # contains OLD exactly, so every delta admits pi_old
    grid = bridge_policy(p[:, None], p[None, :])
    kl = state_kl(old, grid)
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
        "p": p, "mean_kl": mean_kl, "L": L, "heat_p": heat_p, "heat_J": heat_J,
        "J_old": tabular.objective(mdp, old), "best_p": best_p,
        "best_L": np.array([L[ij] for ij in best]),
        "best_J": np.array([tabular.objective(mdp, bridge_policy(*bp)) for bp in best_p]),
        "mean_lines": lines["mean"], "max_lines": lines["max"],
    }


@lru_cache(maxsize=1)
def _trust_region_figure() -> dict:
    """The figure of ``trust_region_view``: the static picture, and the artists a delta moves."""
    t = trust_region_table()
    fig = static_figure((14, 5.6))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.22)
    # No colorbar (an extra axes to draw): the title gives J's range, the legend J at two policies.
    left.imshow(t["heat_J"].T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", aspect="auto",
                interpolation="bilinear")
    art = {"fig": fig, "left": left, "right": right}
    art["region"] = left.add_collection(PolyCollection([], facecolors="white", alpha=0.3))
    art["mean"] = left.add_collection(LineCollection([], colors="white", linewidths=2.5,
                                                     label="mean KL <= delta (E8)"))
    art["max"] = left.add_collection(LineCollection([], colors="white", linewidths=1.5, linestyles=":",
                                                    label="max KL <= delta (E7)"))
    left.plot(*t["best_p"].T, color="tab:red", lw=1.2, alpha=0.7)
    old = left.plot(*OLD, "o", color="black", ms=9, label=f"pi_old, J = {t['J_old']:.2f}")[0]
    (art["star"],) = left.plot([], [], "*", color="tab:red", ms=18, mec="white", label="best admitted")
    left.set(xlabel="P(forward | home)", ylabel="P(forward | bridge)", xlim=(0, 1), ylim=(0, 1))
    left.grid(False)
    legend = left.legend([old, art["star"], art["mean"], art["max"]],
                         [h.get_label() for h in (old, art["star"], art["mean"], art["max"])],
                         loc="upper right", fontsize=10, facecolor="lightgray")
    art["star_label"] = legend.get_texts()[1]
    # log10 delta on a linear axis: a log axis would double the drawing time of this panel.
    log_deltas = np.log10(DELTAS)
    right.plot(log_deltas, t["best_L"] - t["J_old"], label="L(best) - J(old): promised")
    right.plot(log_deltas, t["best_J"] - t["J_old"], label="J(best) - J(old): achieved")
    art["now"] = right.axvline(log_deltas[0], color="gray", ls=":")
    (art["pair"],) = right.plot([], [], "o", color="black")
    right.set(xlabel="delta, the bound on the mean KL (log scale)", ylabel="gain over J(old)")
    right.legend(loc="upper left", fontsize=11)
    for ax in (left, right):
        _few_ticks(ax)
    right.xaxis.set_ticks(range(-3, 1), ["1e-3", "1e-2", "1e-1", "1"])
    return art


def trust_region_view(max_kl: float = 0.01) -> Figure:
    """The policies with mean KL <= delta (E8), the one maximising L among them, and the J it reaches.

    max_kl (delta) is rounded to the nearest of DELTAS (its slider's values).
    Returns the same Figure on every call, redrawn for delta.
    """
    log_d = np.log10(max_kl) if max_kl > 0 else -np.inf
    if not np.log10(DELTAS[0]) - 0.07 <= log_d <= np.log10(DELTAS[-1]) + 0.07:
        raise ValueError(f"max_kl (delta) must lie in [{DELTAS[0]:g}, {DELTAS[-1]:g}]; got {max_kl!r}")
    k = int(np.abs(np.log10(DELTAS) - log_d).argmin())
    t, art, delta = trust_region_table(), _trust_region_figure(), DELTAS[k]
    promised, achieved = t["best_L"][k] - t["J_old"], t["best_J"][k] - t["J_old"]
    art["region"].set_verts(t["mean_lines"][k])
    art["mean"].set_segments(t["mean_lines"][k])
    art["max"].set_segments(t["max_lines"][k])
    art["star"].set_data([t["best_p"][k, 0]], [t["best_p"][k, 1]])
    art["star_label"].set_text(f"best admitted (max L), J = {t['best_J'][k]:.2f}")
    lo, hi = t["heat_J"].min(), t["heat_J"].max()
    art["left"].set_title(f"delta = {delta:.3g}   (colour: J, {lo:.1f} dark to {hi:.1f} yellow)")
    art["now"].set_xdata([np.log10(delta)] * 2)
    art["pair"].set_data([np.log10(delta)] * 2, [promised, achieved])
    art["right"].set_title(f"L promises +{promised:.2f}, J gains +{achieved:.2f}")
    return art["fig"]
