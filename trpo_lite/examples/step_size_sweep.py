"""Notebook 00, part 2: the step-size sweep of plain policy gradient against TRPO on CartPole-v1.

``benchmarks/step_size_sweep.py`` trains every run with ``record_run`` and saves them in the
package data (``step_size_sweep.json``, read with ``trpo_lite.records.load_records``); the
notebook reads them back here, and recomputes one run live with the same ``record_run``.

Shapes: K step sizes, R seeds, I iterations.
"""

import dataclasses
from functools import cache

import numpy as np

from trpo_lite import records
from trpo_lite.config import TRPOConfig, preset

FINAL_WINDOW = 10  # "the return at the end" averages return_last10 over the last 10 iterations
SMALL_STEP = 0.3  # steps up to this size are small enough for KL ~ c * step^2 (E9) to hold
SWEEP_KEYS = {  # what a run of this sweep keeps of each history row: short name -> history key
    "env_steps": "time/env_steps",
    "return_last10": "rollout/return_last10",
    "kl": "policy/kl",
    "entropy": "policy/entropy",
}


def record_run(config: TRPOConfig | str, update: str, seed: int, total_steps: int,
               pg_lr: float | None = None) -> dict:
    """Train one run of the sweep (``trpo_lite.records.record_run``) and keep its learning curve.

    The sweep ran on one torch thread (``trpo_lite.use_threads(1)``); with that, the same
    config and seed on the same machine and versions give the same numbers.

    Args:
        config: a TRPOConfig (e.g. ``TRPOConfig.from_dict(sweep["meta"]["config"])``, the sweep's own
            settings) or an env id, whose preset is used.
        update: 'vpg' (theta += pg_lr g, no limit on the step) or 'trpo' (the trust region, E8).
        seed: fixes the networks, the action draws and the environments.
        total_steps: environment steps to train for.
        pg_lr: the plain gradient's step size (update='vpg' only).
    Returns:
        {"update", "pg_lr", "seed", "env_steps", "return_last10", "kl", "entropy"}, the last four
        lists over I iterations: env steps so far, mean return of the last 10 finished episodes,
        mean KL(old || new) of the update (inf when the new policy dropped an action), entropy.
    """
    if (update == "vpg") != (pg_lr is not None):
        raise ValueError(f"pg_lr must be given for update='vpg' and only then; got update={update!r}, "
                         f"pg_lr={pg_lr!r}")
    config = preset(config) if isinstance(config, str) else config
    overrides = {"pg_lr": pg_lr} if update == "vpg" else {}
    config = dataclasses.replace(config, update=update, total_steps=total_steps, **overrides)
    return {"update": update, "pg_lr": pg_lr, "seed": seed} | records.record_run(config, seed, SWEEP_KEYS)


@cache
def load_sweep() -> dict:
    """The saved sweep: ``meta`` (settings, seeds, date, machine, versions), ``runs`` (from record_run)."""
    return records.load_records("step_size_sweep.json")


def runs_of(sweep: dict, update: str, pg_lr: float | None = None) -> list[dict]:
    """The saved runs of one setting, one per seed: update='vpg' with a recorded pg_lr, or 'trpo'."""
    if update not in ("vpg", "trpo"):
        raise ValueError(f"update must be 'vpg' or 'trpo' (the settings of the sweep); got {update!r}")
    if update == "trpo":
        return [r for r in sweep["runs"] if r["update"] == "trpo"]
    runs = [r for r in sweep["runs"]
            if r["update"] == "vpg" and pg_lr is not None and np.isclose(r["pg_lr"], pg_lr)]
    if not runs:
        raise ValueError(f"pg_lr must be one of the recorded step sizes {sweep['meta']['step_sizes']}; "
                         f"got {pg_lr!r}")
    return runs


def saved_run(sweep: dict, update: str, seed: int, pg_lr: float | None = None) -> dict:
    """The one saved run of a setting and seed; a ValueError lists the recorded seeds otherwise."""
    for run in runs_of(sweep, update, pg_lr):
        if run["seed"] == seed:
            return run
    raise ValueError(f"seed must be one of the recorded seeds {sweep['meta']['seeds']}; got {seed!r}")


def final_return(run: dict) -> float:
    """The return at the end of a run: return_last10 averaged over its last FINAL_WINDOW iterations."""
    return float(np.mean(run["return_last10"][-FINAL_WINDOW:]))


def final_returns(sweep: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step sizes [K], final_return of the plain-gradient runs [K, R], of the TRPO runs [R])."""
    sizes = np.array(sweep["meta"]["step_sizes"], dtype=float)
    vpg = [[final_return(run) for run in runs_of(sweep, "vpg", lr)] for lr in sizes]
    return sizes, np.array(vpg), np.array([final_return(run) for run in runs_of(sweep, "trpo")])


def first_kl(sweep: dict) -> tuple[np.ndarray, np.ndarray]:
    """(step sizes [K], mean KL of the first update [K, R]); per seed the batch is the same for all K."""
    sizes = np.array(sweep["meta"]["step_sizes"], dtype=float)
    return sizes, np.array([[run["kl"][0] for run in runs_of(sweep, "vpg", lr)] for lr in sizes])


def kl_scale(sizes: np.ndarray, kl: np.ndarray) -> np.ndarray:
    """Per seed, the constant c of KL ~ c * step^2 (E9: c = g^T H g / 2), [R]: the geometric mean of
    KL / step^2 over the steps up to SMALL_STEP, from sizes [K] and first-update KLs [K, R]."""
    small = sizes <= SMALL_STEP
    return np.exp(np.mean(np.log(kl[small] / sizes[small, None] ** 2), axis=0))


def compare_runs(live: dict, saved: dict) -> dict:
    """How far a recomputed run is from the saved one, over the live run's n iterations.

    Returns {"iterations": n, "max_return_diff", "max_kl_diff"}: the largest absolute
    differences (0.0 when identical; an infinite KL matches only another infinite KL).
    """
    n = len(live["return_last10"])
    if n > len(saved["return_last10"]):
        raise ValueError(f"live has {n} iterations, more than the saved run's {len(saved['return_last10'])}")
    if live["env_steps"] != saved["env_steps"][:n]:
        raise ValueError("live and saved runs count environment steps differently: not the same settings")
    kl_live, kl_saved = np.array(live["kl"], dtype=float), np.array(saved["kl"][:n], dtype=float)
    same = kl_live == kl_saved  # also true for inf == inf, where the difference would be nan
    kl_diff = np.abs(np.subtract(kl_live, kl_saved, out=np.zeros(n), where=~same))
    return_diff = np.abs(np.subtract(live["return_last10"], saved["return_last10"][:n]))
    return {"iterations": n, "max_return_diff": float(return_diff.max()), "max_kl_diff": float(kl_diff.max())}
