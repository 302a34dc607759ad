"""Notebook 09's experiments: what is swept and how one run is trained and summarised (E8, E11, E13, E14).

TRPO (E9-E12) against the natural and the vanilla policy gradient, and sweeps of delta (E8), lambda
(E13) and CG iterations (E11), over several seeds. A configuration is the baseline (the CartPole-v1
preset) with one setting changed; the baseline itself belongs to every sweep and is trained once.
``benchmarks/sweeps.py`` trains every configuration with ``recompute`` and saves the records in the
package data (``sweeps.json``); ``examples.sweep_results`` reads them back.

Shapes: R seeds, I iterations.
"""

import dataclasses

import numpy as np

from trpo_lite import records
from trpo_lite.config import REWARD_THRESHOLDS, TRPOConfig, preset
from trpo_lite.language import tr

ENV_ID = "CartPole-v1"
SWEEPS = {  # the setting each sweep changes, and its values; each holds the preset's value (the baseline)
    "update": ("trpo", "npg", "vpg"),
    "max_kl": (0.003, 0.01, 0.03, 0.1),
    "lam": (0.0, 0.8, 0.95, 1.0),
    "cg_iters": (1, 3, 10, 30),
}
LABELS = {"update": "update rule", "max_kl": "δ (max_kl)", "lam": "λ (lam)",  # English: shown through tr
          "cg_iters": "CG iterations"}
SHORT = {"max_kl": "δ={value}", "lam": "λ={value}", "cg_iters": "k={value}"}  # a configuration's label
BASELINE = {name: getattr(preset(ENV_ID), name) for name in SWEEPS}
# The vanilla gradient's step size eta, from a pilot on seed 0 (pg_lr 0.01, 0.1, 0.3, 1, 3; 40k steps):
# the preset's 0.01 moves the policy by a KL of ~4e-6 per update and learns nothing; 0.1 and 0.3 learn
# slowly; 1 and 3 learn about equally fast, 3 with a KL of up to 3 per update. Only update="vpg" reads it.
PG_LR = 1.0
THRESHOLD = REWARD_THRESHOLDS[ENV_ID]  # CartPole-v1's "solved" return (the episode cap is 500)


def configuration(sweep: str, value) -> dict:
    """The swept settings {update, max_kl, lam, cg_iters} of the baseline with ``sweep`` set to value."""
    if sweep not in SWEEPS:
        raise ValueError(f"sweep must be one of {tuple(SWEEPS)}; got {sweep!r}")
    if value not in SWEEPS[sweep]:
        raise ValueError(f"value must be one of {SWEEPS[sweep]} for sweep {sweep!r}; got {value!r}")
    return BASELINE | {sweep: value}


def configurations() -> list[tuple[str, str, object]]:
    """(label, sweep, value) of every distinct configuration, the baseline first and once; labels in the
    reader's language (``trpo_lite.tr``)."""
    found = [(tr("baseline"), "update", BASELINE["update"])]
    for sweep, values in SWEEPS.items():
        found += [(value_label(sweep, v) if sweep == "update" else tr(SHORT[sweep], value=v), sweep, v)
                  for v in values if v != BASELINE[sweep]]
    return found


def value_label(sweep: str, value) -> str:
    """How a legend shows one value of a sweep: an update rule's name through ``tr``, a number as it is."""
    return tr(value) if sweep == "update" else str(value)


def run_config(sweep: str, value, total_steps: int) -> TRPOConfig:
    """The full TRPOConfig of one configuration: the CartPole-v1 preset with pg_lr = PG_LR, total_steps
    and ``sweep`` set to value."""
    return dataclasses.replace(preset(ENV_ID), total_steps=total_steps, pg_lr=PG_LR,
                               **configuration(sweep, value))


def recompute(sweep: str, value, seed: int, total_steps: int) -> dict:
    """Train one configuration from scratch (``trpo_lite.records.record_run``): the record
    benchmarks/sweeps.py saves for it.

    The saved runs used one torch thread (``trpo_lite.use_threads(1)``): another thread count can change
    the last bits of a matrix product, and the run would then drift from the saved one.
    Returns {"config": the swept settings, "seed", "total_steps", "curve": {short name: [I] values
    per iteration} (``records.CURVE_KEYS``), "summary": ``summarize`` of the curve's history}.
    """
    curve = records.record_run(run_config(sweep, value, total_steps), seed, records.CURVE_KEYS)
    return {"config": configuration(sweep, value), "seed": seed, "total_steps": total_steps, "curve": curve,
            "summary": summarize(as_history(curve))}


def as_history(curve: dict) -> list[dict]:
    """A saved curve {short name: [I]} back as history rows {history key: value}, I of them."""
    return [dict(zip(records.CURVE_KEYS.values(), values, strict=True))
            for values in zip(*(curve[short] for short in records.CURVE_KEYS), strict=True)]


def steps_to_threshold(history: list[dict], threshold: float = THRESHOLD) -> int | None:
    """Env steps at the end of the first iteration whose mean return over the last 10 finished
    episodes reaches threshold; None if none does. One lucky batch (``rollout/return_mean``) is not
    enough: the last-10 mean smooths it."""
    for row in history:
        if row["rollout/return_last10"] >= threshold:  # NaN (no episode finished yet) never counts
            return int(row["time/env_steps"])
    return None


def summarize(history: list[dict]) -> dict:
    """One run's numbers: steps to THRESHOLD, final return (last-10 mean), mean KL per update and the
    fraction of updates whose line search accepted a step (always 1 for npg and vpg: no line search)."""
    return {
        "steps_to_threshold": steps_to_threshold(history, THRESHOLD),
        "final_return": history[-1]["rollout/return_last10"],
        "mean_kl": float(np.mean([row["policy/kl"] for row in history])),
        "accepted_fraction": float(np.mean([row["line_search/accepted"] for row in history])),
        "mean_backtracks": float(np.mean([row["line_search/backtracks"] for row in history])),
    }


def backtracked_fraction(record: dict) -> float:
    """The fraction of a run's updates whose line search shrank the step at least once (E12)."""
    return float(np.mean(np.array(record["curve"]["backtracks"]) > 0))


def seed_summary(values) -> tuple[float, float]:
    """(median, sample standard deviation) of one number over R >= 2 seeds. The median ignores one
    diverged seed; the sample std (divide by R - 1) estimates the seed-to-seed spread."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"values must be a list of at least 2 numbers (one per seed); got {values!r}")
    return float(np.median(values)), float(np.std(values, ddof=1))


def median_steps(steps) -> float | None:
    """Median over seeds of steps to the threshold, a seed that never got there (None) counting as
    later than any: None when at least half the seeds never got there. Dropping those seeds instead
    would make a configuration that usually fails look fast."""
    if len(steps) == 0:
        raise ValueError("steps must hold one entry per seed (a step count or None); got none")
    median = np.median([np.inf if s is None else s for s in steps])
    return None if np.isinf(median) else float(median)
