"""Views for notebook 03: the surrogate L estimated from old-policy samples (E5, E6) on FrozenLake-v1.

Old-policy samples (s, a) ~ nu_old(s) pi_old(a|s) are drawn once, with a fixed
seed, and stored as counts per state-action pair. An estimate for any new
policy is then one matrix product with the weights rho A^old: the same data
serves every pi_new, which is the point of E6, and a slider answers at once.

Shapes: S states, A actions, B samples per estimate, [R] one entry per
repeated estimate (R = ``N_REPEATS``).
"""

from dataclasses import dataclass
from functools import cache

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite._validate import check_unit_interval
from trpo_lite.figures.style import padded_limits, static_figure
from trpo_lite.importance import importance_ratio

SEED = 0
GAMMA = 0.95
N_REPEATS = 2000  # repeated estimates behind each histogram
SAMPLE_SIZES = (10, 30, 100, 300, 1000)  # B, the slider's options
ALPHAS = tuple(np.round(np.arange(0.0, 0.951, 0.05), 2))  # the distance slider (mixing coefficient)
EPSILONS = (0.25, 0.1, 0.03, 0.01, 0.003, 0.001)  # pi_old(a*|s); 0.25 is the uniform policy


@cache
def frozenlake() -> tabular.FiniteMDP:
    """The slippery 4x4 FrozenLake-v1 as a finite MDP (17 states with the absorbing one)."""
    return tabular.FiniteMDP.from_toy_text(gym.make("FrozenLake-v1"), GAMMA)


def _favoured() -> np.ndarray:
    """[S, A] one-hot greedy action a*(s) of A^uniform: the policy-improvement direction."""
    mdp = frozenlake()
    return np.eye(mdp.n_actions)[tabular.advantages(mdp, mdp.uniform_policy()).argmax(1)]


def new_policy(alpha: float) -> np.ndarray:
    """[S, A] pi_new = (1 - alpha) uniform + alpha greedy: a mixture path (Kakade & Langford 2002)."""
    alpha = check_unit_interval("alpha", alpha)
    return tabular.mixture(frozenlake().uniform_policy(), _favoured(), alpha)


def old_policy(eps: float) -> np.ndarray:
    """[S, A] pi_old with probability eps on the action a* that pi_new favours; eps = 1/4 is uniform."""
    if not (isinstance(eps, int | float) and 0 < eps < 1):
        raise ValueError(f"eps must lie in (0, 1) so that pi_old keeps every action; got {eps!r}")
    favoured = _favoured()
    return eps * favoured + (1 - eps) / (favoured.shape[1] - 1) * (1 - favoured)


@dataclass(frozen=True)
class OldPolicyData:
    """What the old policy fixes: exact A^old, nu_old, J(old), and the stored sample counts.

    counts[i, r, s, a] is how often (s, a) occurs among the first SAMPLE_SIZES[i]
    draws of repeat r.
    """

    pi_old: np.ndarray  # [S, A]
    advantages: np.ndarray  # [S, A] A^old (E2)
    visitation: np.ndarray  # [S] nu_old (E4)
    objective: float  # J(old) (E1)
    counts: np.ndarray  # [len(SAMPLE_SIZES), R, S, A]


def collect(pi_old: np.ndarray, seed: int = SEED) -> OldPolicyData:
    """Draw N_REPEATS batches of max(SAMPLE_SIZES) pairs (s, a) ~ nu_old(s) pi_old(a|s)."""
    mdp = frozenlake()
    nu = tabular.visitation(mdp, pi_old)
    q = (nu[:, None] * pi_old).ravel()
    draws = np.random.default_rng(seed).choice(q.size, size=(N_REPEATS, max(SAMPLE_SIZES)), p=q / q.sum())
    offsets = np.arange(N_REPEATS)[:, None] * q.size  # one bincount for all repeats at once
    counts = [
        np.bincount((draws[:, :b] + offsets).ravel(), minlength=N_REPEATS * q.size)
        for b in SAMPLE_SIZES
    ]
    shape = (len(SAMPLE_SIZES), N_REPEATS, *pi_old.shape)
    return OldPolicyData(
        pi_old, tabular.advantages(mdp, pi_old), nu, tabular.objective(mdp, pi_old),
        np.stack(counts).reshape(shape).astype(np.int32),
    )


@cache
def old_data(eps: float = 0.25, seed: int = SEED) -> OldPolicyData:
    """collect(old_policy(eps), seed), cached: the sliders index these."""
    return collect(old_policy(eps), seed)


def ratios(data: OldPolicyData, pi_new: np.ndarray) -> np.ndarray:
    """[S, A] rho(s, a) = pi_new(a|s) / pi_old(a|s) (E6), computed from log-probabilities as in training."""
    with np.errstate(divide="ignore"):  # pi_new may drop actions: log 0 = -inf, rho = 0
        log_new, log_old = torch.as_tensor(np.log(pi_new)), torch.as_tensor(np.log(data.pi_old))
    return importance_ratio(log_new, log_old).numpy()


def estimates(data: OldPolicyData, pi_new: np.ndarray, n_samples: int) -> np.ndarray:
    """[R] estimates L-hat = J(old) + mean_b(rho_b A_b) / (1 - gamma), each from n_samples pairs (E5, E6)."""
    if n_samples not in SAMPLE_SIZES:
        raise ValueError(f"n_samples must be one of the precomputed sizes {SAMPLE_SIZES}; got {n_samples!r}")
    counts = data.counts[SAMPLE_SIZES.index(n_samples)].reshape(N_REPEATS, -1)
    gain = counts @ (ratios(data, pi_new) * data.advantages).ravel() / n_samples
    return data.objective + gain / (1 - GAMMA)


def chi_square(sample_probs, target_probs) -> float:
    """chi^2(target || sample) = E_sample[rho^2] - 1 with rho = target / sample; 0 where both vanish."""
    sample_probs, target_probs = np.asarray(sample_probs), np.asarray(target_probs)
    rho = np.divide(target_probs, sample_probs, out=np.zeros_like(target_probs), where=sample_probs > 0)
    return float((sample_probs * rho**2).sum() - 1)


def is_variance(sample_probs, target_probs, values, n_samples: int = 1) -> float:
    """Exact Var of mean_b rho_b values_b over n_samples i.i.d. draws from sample_probs (E6).

    Var = (E_sample[rho^2 values^2] - E_target[values]^2) / n_samples; arrays of any
    common shape, e.g. [A] for one state or [S, A] with sample_probs = nu_old pi_old.
    """
    sample_probs, target_probs, values = map(np.asarray, (sample_probs, target_probs, values))
    second = np.divide(target_probs**2, sample_probs, out=np.zeros_like(target_probs), where=sample_probs > 0)
    return float(((second * values**2).sum() - (target_probs * values).sum() ** 2) / n_samples)


def exact_summary(data: OldPolicyData, pi_new: np.ndarray, n_samples: int = 1) -> dict:
    """Exact L (E5), sd of L-hat from n_samples pairs, chi^2 and nu_old-mean KL(old || new) (E8)."""
    q, p = data.visitation[:, None] * data.pi_old, data.visitation[:, None] * pi_new
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 log 0 = 0; where new drops an action, KL = inf
        kl_s = np.where(data.pi_old > 0, data.pi_old * np.log(data.pi_old / pi_new), 0.0).sum(1)
    return {
        "surrogate": tabular.surrogate(frozenlake(), data.pi_old, pi_new),
        "sd": np.sqrt(is_variance(q, p, data.advantages, n_samples)) / (1 - GAMMA),
        "chi2": chi_square(q, p),
        "kl": float(data.visitation @ kl_s),
    }


def variance_se(x: np.ndarray) -> float:
    """Standard error of the sample variance of x [R], from its fourth central moment."""
    d = x - x.mean()
    m2, m4, r = (d**2).mean(), (d**4).mean(), x.size
    return float(np.sqrt(max(m4 - m2**2 * (r - 3) / (r - 1), 0.0) / r))


def ratio_distribution(data: OldPolicyData, pi_new: np.ndarray) -> tuple:
    """Distinct values of rho over the pairs pi_old can draw, and their probabilities under nu_old pi_old."""
    q, rho = (data.visitation[:, None] * data.pi_old).ravel(), ratios(data, pi_new).ravel()
    values, which = np.unique(np.round(rho[q > 0], 9), return_inverse=True)
    return values, np.bincount(which, weights=q[q > 0])


@cache
def _estimator_artists(view: str) -> dict:
    """The figure of one estimator view (``view`` names it), built once, and the artists a call moves."""
    fig = static_figure((10, 4.8))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.86)
    art = {
        "fig": fig, "ax": ax,
        "hist": ax.stairs([0.0], [0.0, 1.0], fill=True, alpha=0.45),
        "band": ax.axvspan(0.0, 1.0, color="C2", alpha=0.15),
        "exact": ax.axvline(0.0, color="k"),
        "mean": ax.axvline(0.0, color="C1", ls="--"),
        "median": ax.axvline(0.0, color="C3", ls=":"),
        "title": ax.set_title("", y=1.0),  # a fixed position: no search for what is above the axes
    }
    ax.set(xlabel="estimate of L from B old-policy pairs", ylabel="density")
    ax.xaxis.set_major_locator(plt.MaxNLocator(6))
    ax.yaxis.set_major_locator(plt.MaxNLocator(4))
    return art


def _estimator_figure(view: str, data, pi_new, n_samples, xlim, title):
    """Histogram of the N_REPEATS estimates L-hat against the exact L, its sd, and the ratio's values.

    One axes, fixed margins, few ticks, built once per view and redrawn: a slider has 100 ms.
    """
    est, exact = estimates(data, pi_new, n_samples), exact_summary(data, pi_new, n_samples)
    values, probs = ratio_distribution(data, pi_new)
    spread = ", ".join(f"{v:.3g} (prob {p:.3g})" for v, p in zip(values, probs, strict=True))
    art = _estimator_artists(view)
    counts, edges = np.histogram(est, bins=40, range=xlim)
    density = counts / (N_REPEATS * np.diff(edges))
    art["hist"].set_data(density, edges)
    art["hist"].set_label(f"{N_REPEATS} estimates, sample sd {est.std(ddof=1):.4f} "
                          f"({N_REPEATS - counts.sum()} off the axis)")
    art["band"].set_bounds(exact["surrogate"] - exact["sd"], 0.0, 2 * exact["sd"], 1.0)
    art["band"].set_label(f"exact L ± exact sd {exact['sd']:.4f}")
    se = exact["sd"] / np.sqrt(N_REPEATS)  # the closed form: an empirical se misses rare draws too
    for key, x, label in (("exact", exact["surrogate"], f"exact L = {exact['surrogate']:.4f}"),
                          ("mean", est.mean(), f"mean of estimates {est.mean():.4f} (se {se:.4f})"),
                          ("median", np.median(est), f"median {np.median(est):.4f}")):
        art[key].set_xdata([x, x])
        art[key].set_label(label)
    art["ax"].set(xlim=xlim, ylim=(0.0, 1.05 * density.max()))
    art["ax"].legend(loc="upper right", fontsize=10)  # rebuilt: its labels carry this call's numbers
    art["title"].set_text(f"{title}, B = {n_samples}: mean KL {exact['kl']:.3f}, "
                          f"χ² = E_old[ρ²] - 1 = {exact['chi2']:.2f}\nρ under π_old: {spread}")
    return art["fig"]


def _xlim(data, policies, n_samples) -> tuple:
    """An x-range holding the exact L and the central 99% of the estimates, for every policy given."""
    pts = [v for pi in policies for v in (*np.quantile(estimates(data, pi, n_samples), [0.005, 0.995]),
                                          exact_summary(data, pi)["surrogate"])]
    return padded_limits(pts)


@cache
def _alpha_xlim(n_samples: int) -> tuple:
    """One x-range per B for the whole alpha slider, so moving alpha shows the histogram widen."""
    return _xlim(old_data(), [new_policy(ALPHAS[0]), new_policy(ALPHAS[-1])], n_samples)


def estimator_view(alpha: float = 0.5, n_samples: int = 100):
    """Slider view: pi_old uniform, pi_new = new_policy(alpha); histogram of L-hat over N_REPEATS batches."""
    return _estimator_figure("estimator_view", old_data(), new_policy(alpha), n_samples,
                             _alpha_xlim(n_samples), f"α = {alpha:.2f}")


def rare_action_view(eps: float = 0.01, n_samples: int = 100):
    """Slider view: pi_new = new_policy(0.5) fixed, pi_old(a*|s) = eps; heavy tails appear as eps -> 0."""
    data, pi_new = old_data(eps), new_policy(0.5)
    return _estimator_figure("rare_action_view", data, pi_new, n_samples, _xlim(data, [pi_new], n_samples),
                             f"π_old(a*|s) = {eps}")


@cache
def variance_sweep(n_samples: int = 100) -> dict:
    """Per-sample variance of L-hat, exact and empirical, with chi^2 and KL, for both policy families.

    Returns {"alpha": rows, "eps": rows}; rows maps "param", "chi2", "kl", "var", "var_emp" to
    arrays. Variance per sample = Var(L-hat) * n_samples, so all B agree.
    """
    families = {
        "alpha": [(a, old_data(), new_policy(a)) for a in ALPHAS],
        "eps": [(e, old_data(e), new_policy(0.5)) for e in EPSILONS],
    }
    sweep = {}
    for name, cases in families.items():
        rows = []
        for param, data, pi_new in cases:
            exact, est = exact_summary(data, pi_new), estimates(data, pi_new, n_samples)
            rows.append((param, exact["chi2"], exact["kl"], exact["sd"] ** 2, est.var(ddof=1) * n_samples))
        keys = ("param", "chi2", "kl", "var", "var_emp")
        sweep[name] = dict(zip(keys, np.array(rows).T, strict=True))
    return sweep


def variance_figure(n_samples: int = 100):
    """Per-sample variance of L-hat against 1 + chi^2 (log-log) and against the mean KL."""
    sweep = variance_sweep(n_samples)
    labels = {"alpha": "mixing path: π_old uniform, α 0 to 0.95",
              "eps": "rare action: π_new fixed, π_old(a*|s) 0.25 to 0.001"}
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), layout="constrained")
    for (name, rows), color in zip(sweep.items(), ("C0", "C3"), strict=True):
        for ax, x in zip(axes, (1 + rows["chi2"], rows["kl"]), strict=True):
            ax.plot(x, rows["var"], color=color, label=labels[name])
            ax.plot(x, rows["var_emp"], "o", color=color, ms=5)
    axes[0].set(xscale="log", yscale="log", xlabel="E_old[ρ²] = 1 + χ²",
                ylabel="B · Var(estimate)", title="variance grows with the ratio's spread")
    axes[1].set(yscale="log", xlabel="mean KL(π_old || π_new)", ylabel="B · Var(estimate)",
                title="KL(old || new) does not see rare actions")
    note = f"lines: exact; dots: {N_REPEATS} batches of B = {n_samples}"
    axes[0].legend(fontsize=9, loc="upper left", title=note, title_fontsize=9)
    return fig
