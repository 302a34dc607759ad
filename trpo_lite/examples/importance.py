"""Notebook 03's numbers: the surrogate L estimated from old-policy samples (E5, E6) on FrozenLake-v1.

Old-policy samples (s, a) ~ nu_old(s) pi_old(a|s) are drawn once, with a fixed
seed, and stored as counts per state-action pair. An estimate for any new
policy is then one matrix product with the weights rho A^old: the same data
serves every pi_new, which is the point of E6, and a slider answers at once.
``trpo_lite.figures.importance`` draws these numbers.

Shapes: S states, A actions, B samples per estimate, [R] one entry per
repeated estimate (R = ``N_REPEATS``).
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite._validate import check_unit_interval, grid_index
from trpo_lite.examples.frozen_lake import lake_mdp
from trpo_lite.importance import importance_ratio

SEED = 0
GAMMA = 0.95
N_REPEATS = 2000  # repeated estimates behind each histogram
SAMPLE_SIZES = (10, 30, 100, 300, 1000)  # B, the slider's options
KAPPAS = tuple(np.round(np.arange(0.0, 0.951, 0.05), 2))  # the distance slider (mixing weight kappa)
RARE_PROBS = (0.25, 0.1, 0.03, 0.01, 0.003, 0.001)  # p = pi_old(a*|s); 0.25 is the uniform policy


def new_policy(kappa: float) -> np.ndarray:
    """[S, A] pi_new = (1 - kappa) uniform + kappa greedy: a mixture path (Kakade & Langford 2002).

    greedy is ``tabular.greedy_policy`` of the uniform policy: all mass on the best
    action a*(s), and uniform where every action ties (holes, goal, absorbing state).
    """
    kappa = check_unit_interval("kappa", kappa)
    mdp = lake_mdp(GAMMA)
    uniform = mdp.uniform_policy()
    return tabular.mixture(uniform, tabular.greedy_policy(mdp, uniform), kappa)


def old_policy(p: float) -> np.ndarray:
    """[S, A] pi_old with probability p on the action a* that pi_new favours; p = 1/4 is uniform.

    The other actions share 1 - p evenly; where every action ties, pi_new
    favours none and pi_old is uniform.
    """
    if not (isinstance(p, int | float) and 0 < p < 1):
        raise ValueError(f"p must lie in (0, 1) so that pi_old keeps every action; got {p!r}")
    greedy = new_policy(1.0)  # one-hot rows, uniform (1/4 each) rows where every action ties
    return p * greedy + (1 - p) / (greedy.shape[1] - 1) * (1 - greedy)


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
    mdp = lake_mdp(GAMMA)
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
def old_data(p: float = 0.25, seed: int = SEED) -> OldPolicyData:
    """collect(old_policy(p), seed), cached: the sliders index these."""
    return collect(old_policy(p), seed)


def ratios(data: OldPolicyData, pi_new: np.ndarray) -> np.ndarray:
    """[S, A] rho(s, a) = pi_new(a|s) / pi_old(a|s) (E6), computed from log-probabilities as in training."""
    with np.errstate(divide="ignore"):  # pi_new may drop actions: log 0 = -inf, rho = 0
        log_new, log_old = torch.as_tensor(np.log(pi_new)), torch.as_tensor(np.log(data.pi_old))
    return importance_ratio(log_new, log_old).numpy()


def estimates(data: OldPolicyData, pi_new: np.ndarray, n_samples: int) -> np.ndarray:
    """[R] estimates L-hat = J(old) + mean_b(rho_b A_b) / (1 - gamma), each from n_samples pairs (E5, E6)."""
    counts = data.counts[grid_index("n_samples", n_samples, SAMPLE_SIZES)].reshape(N_REPEATS, -1)
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
    mdp = lake_mdp(GAMMA)
    return {
        "surrogate": tabular.surrogate(mdp, data.pi_old, pi_new),
        "sd": np.sqrt(is_variance(q, p, data.advantages, n_samples)) / (1 - GAMMA),
        "chi2": chi_square(q, p),
        "kl": float(tabular.mean_state_kl(mdp, data.pi_old, pi_new)),
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


def estimate_span(data: OldPolicyData, policies, n_samples: int) -> tuple[float, float]:
    """(low, high) holding the exact L and the central 99% of the estimates, for every policy given."""
    points = [v for pi in policies for v in (*np.quantile(estimates(data, pi, n_samples), [0.005, 0.995]),
                                             exact_summary(data, pi)["surrogate"])]
    return min(points), max(points)


def histogram_numbers(data: OldPolicyData, pi_new: np.ndarray, n_samples: int, span) -> dict:
    """What an estimator histogram shows: the N_REPEATS estimates L-hat from B = n_samples pairs each.

    Returns {"estimates" [R], "exact": ``exact_summary`` for B, "mean", "median", "sd" (sample sd)
    of the estimates, "se" (the closed-form standard error of their mean: an empirical one misses
    rare draws too), "ratio_values", "ratio_probs" (``ratio_distribution``), "span" (the x-range to
    show, as given)}.
    """
    est, exact = estimates(data, pi_new, n_samples), exact_summary(data, pi_new, n_samples)
    values, probs = ratio_distribution(data, pi_new)
    return {"estimates": est, "exact": exact, "mean": est.mean(), "median": np.median(est),
            "sd": est.std(ddof=1), "se": exact["sd"] / np.sqrt(N_REPEATS), "ratio_values": values,
            "ratio_probs": probs, "span": span}


@cache
def mixing_span(n_samples: int) -> tuple[float, float]:
    """One x-range per B for the whole kappa slider, so moving kappa shows the histogram widen."""
    return estimate_span(old_data(), [new_policy(KAPPAS[0]), new_policy(KAPPAS[-1])], n_samples)


def estimator_numbers(kappa: float = 0.5, n_samples: int = 100) -> dict:
    """``histogram_numbers`` for pi_old uniform and pi_new = new_policy(kappa) (the distance slider)."""
    return histogram_numbers(old_data(), new_policy(kappa), n_samples, mixing_span(n_samples))


def rare_action_numbers(p: float = 0.01, n_samples: int = 100) -> dict:
    """``histogram_numbers`` for pi_new = new_policy(0.5) and pi_old(a*|s) = p (the rare-action slider)."""
    data, pi_new = old_data(p), new_policy(0.5)
    return histogram_numbers(data, pi_new, n_samples, estimate_span(data, [pi_new], n_samples))


@cache
def variance_sweep(n_samples: int = 100) -> dict:
    """Per-sample variance of L-hat, exact and empirical, with chi^2 and KL, for both policy families.

    Returns {"kappa": rows, "p": rows}; rows maps "param", "chi2", "kl", "var", "var_emp" to
    arrays. Variance per sample = Var(L-hat) * n_samples, so all B agree.
    """
    families = {
        "kappa": [(kappa, old_data(), new_policy(kappa)) for kappa in KAPPAS],
        "p": [(p, old_data(p), new_policy(0.5)) for p in RARE_PROBS],
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
