"""Notebook 08: the numbers around the assembled agent (E14): what a training history says, what the
sliders change before any training, and retraining with other settings.

A training history is the list of per-iteration dicts that ``trpo_lite.training.train``
returns (keys such as ``rollout/return_last10``, ``policy/kl``, ``line_search/backtracks``).
``retrain`` is the plain function behind the notebook's button.

Shapes: I iterations, L lags.
"""

import math

import numpy as np

from trpo_lite.config import REWARD_THRESHOLDS
from trpo_lite.language import tr
from trpo_lite.training import train

RETURN = "rollout/return_last10"
CARTPOLE_SOLVED = REWARD_THRESHOLDS["CartPole-v1"]
LAGS = np.arange(60)  # [L] the lags l of the GAE weights the settings view shows


def series(history, key: str) -> np.ndarray:
    """[I] the values of one key over the iterations of a history (NaN where an iteration lacks it)."""
    return np.array([float(row.get(key, math.nan)) for row in history])


def diagnostics(history, max_kl: float) -> dict:
    """What the E14 loop promises, counted over a history: numbers for the assertions under the figure.

    kl_max (largest mean KL after an update), kl_within (fraction of iterations with KL <= max_kl, E8),
    rejected (line searches that kept theta, E12), backtracks (total shrinks), gain_positive (fraction
    of accepted updates with L(theta') > L(theta), E6), explained_variance_first / _last (median of the
    first / last 10 iterations' V, E13).
    """
    if len(history) == 0:
        raise ValueError("history is empty: train for at least one iteration first")
    kl, accepted = series(history, "policy/kl"), series(history, "line_search/accepted").astype(bool)
    gain, ev = series(history, "policy/surrogate_gain"), series(history, "value/explained_variance")
    return {
        "iterations": len(history),
        "kl_max": float(kl.max()),
        "kl_within": float(np.mean(kl <= max_kl)),
        "rejected": int((~accepted).sum()),
        "backtracks": int(series(history, "line_search/backtracks").sum()),
        "gain_positive": float(np.mean(gain[accepted] > 0)) if accepted.any() else math.nan,
        "explained_variance_first": float(np.nanmedian(ev[:10])),
        "explained_variance_last": float(np.nanmedian(ev[-10:])),
    }


def learning_summary(history, target: float | None = None, key: str = RETURN) -> dict:
    """How a learning curve went: final and best value of ``key``, the largest drop from an earlier best
    (how much learned return a run lost on the way), and the first environment step count at which it
    reached ``target`` (None if never). NaN entries (no finished episode yet) are skipped."""
    values, steps = series(history, key), series(history, "time/env_steps")
    seen = ~np.isnan(values)
    values, steps = values[seen], steps[seen]
    if len(values) == 0:
        return {"final": math.nan, "best": math.nan, "largest_drop": math.nan, "steps_to_target": None}
    reached = np.flatnonzero(values >= target) if target is not None else []
    return {
        "final": float(values[-1]),
        "best": float(values.max()),
        "largest_drop": float((np.maximum.accumulate(values) - values).max()),
        "steps_to_target": int(steps[reached[0]]) if len(reached) else None,
    }


def gae_horizon(gamma: float, lam: float) -> float:
    """1 / (1 - gamma lam): the total weight sum_l (gamma lam)^l of the TD residuals in A_t (E13)."""
    return math.inf if gamma * lam >= 1 else 1.0 / (1.0 - gamma * lam)


def settings_numbers(history, max_kl: float, lam: float, gamma: float = 0.99, ref_max_kl: float = 0.01,
                     ref_lam: float = 0.95) -> dict:
    """What the sliders delta = max_kl and lambda = lam change, against a reference run (E8, E9, E13).

    Args:
        history: the reference run's rows; ref_max_kl, ref_lam: its delta and lambda; gamma: its discount.
    Returns:
        kl [I]: the reference run's "policy/kl"; step_ratio: sqrt(max_kl / ref_max_kl), how much longer
        the full step sqrt(2 delta / x^T H x) x (E9) is than the reference's; weights and
        reference_weights [L]: the GAE weights (gamma lam)^l on Delta_{t+l} for l in LAGS (E13);
        horizon and reference_horizon: their sums, ``gae_horizon``.
    """
    return {
        "kl": series(history, "policy/kl"),
        "step_ratio": math.sqrt(max_kl / ref_max_kl),
        "weights": (gamma * lam) ** LAGS,
        "reference_weights": (gamma * ref_lam) ** LAGS,
        "horizon": gae_horizon(gamma, lam),
        "reference_horizon": gae_horizon(gamma, ref_lam),
    }


def retrain(max_kl: float, lam: float, seed: int = 0, total_steps: int = 30_000, callback=None,
            progress: bool = False, env_id: str = "CartPole-v1"):
    """Train env_id's preset with trust-region radius delta = max_kl and GAE lambda = lam (E14).

    The plain function behind the notebook's button. Returns the history (list of per-iteration
    dicts); bad settings raise ValueError from ``TRPOConfig`` naming the field.
    """
    _, history = train(env_id, seed=seed, callback=callback, progress=progress, max_kl=max_kl, lam=lam,
                       total_steps=total_steps)
    return history


def run_label(max_kl: float, lam: float, taken=()) -> str:
    """'delta 0.01, lambda 0.95' (in the language in use), numbered '(2)', '(3)', ... when ``taken``
    already holds that label."""
    label = base = tr("delta {max_kl:g}, lambda {lam:.2f}", max_kl=max_kl, lam=lam)
    count = 1
    while label in taken:
        count += 1
        label = tr("{label} ({count})", label=base, count=count)
    return label
