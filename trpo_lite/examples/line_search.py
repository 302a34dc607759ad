"""Notebook 09, section 8: where the line search (E12) matters. TRPO against the same natural step
without it (NPG, E9-E11) on Pendulum-v1, at three trust-region radii delta, over five seeds.

``benchmarks/line_search.py`` trains every run with ``record_run`` and saves them in the package data
(``line_search.json``); ``load_runs`` reads them back as arrays and the functions below compute what the
notebook shows: how often the line search shrinks or rejects the step, how far NPG's KL overshoots
delta, how often its step lowers the surrogate, the learning curves and how much of its best return
each run gave back.

Shapes: R seeds, I iterations.
"""

import dataclasses
from dataclasses import dataclass
from functools import cache

import numpy as np

from trpo_lite import records
from trpo_lite.config import TRPOConfig, preset
from trpo_lite.language import tr

ENV_ID = "Pendulum-v1"
MAX_KLS = (0.01, 0.05, 0.2)  # delta: the preset's, then larger
UPDATES = ("trpo", "npg")  # the same natural step (E9-E11), with and without the line search (E12)
SEEDS = (0, 1, 2, 3, 4)
TOTAL_STEPS = 150_000
KEYS = {  # what a run keeps of each history row: short name -> history key (README, "Training history")
    "return_last10": "rollout/return_last10",
    "kl": "policy/kl",
    "gain": "policy/surrogate_gain",
    "backtracks": "line_search/backtracks",
    "accepted": "line_search/accepted",
}


def base_config(total_steps: int = TOTAL_STEPS) -> TRPOConfig:
    """The Pendulum-v1 preset with total_steps: every run is this with its own update and max_kl."""
    return dataclasses.replace(preset(ENV_ID), total_steps=total_steps)


def record_run(config: TRPOConfig, update: str, max_kl: float, seed: int, total_steps: int) -> dict:
    """Train one run (``trpo_lite.records.record_run``): config with update, max_kl and total_steps.

    The saved runs used one torch thread (``trpo_lite.use_threads(1)``); with that, the same config and
    seed on the same machine and versions give the same numbers, bit for bit.
    Returns {"update", "max_kl", "seed", "curve": {short name: [I] values}} (names: ``KEYS``).
    """
    config = dataclasses.replace(config, update=update, max_kl=max_kl, total_steps=total_steps)
    return {"update": update, "max_kl": max_kl, "seed": seed, "curve": records.record_run(config, seed, KEYS)}


@dataclass(frozen=True)
class Runs:
    """The saved runs as arrays. meta: what was run, where and when; config: the settings every run
    shares; steps [I]: env steps by the end of each iteration; curves: (update, max_kl) -> short name
    -> [R, I] array, seeds in ``meta["seeds"]`` order."""

    meta: dict
    config: TRPOConfig
    steps: np.ndarray
    curves: dict

    def curve(self, update: str, max_kl: float, name: str) -> np.ndarray:
        """[R, I] values of one recorded quantity (``KEYS``)."""
        if (update, max_kl) not in self.curves:
            raise ValueError(f"no runs for update={update!r}, max_kl={max_kl!r}; saved: "
                             f"{sorted(self.curves)}")
        return self.curves[update, max_kl][name]


@cache
def load_runs(source="line_search.json") -> Runs:
    """Read a file written by benchmarks/line_search.py (a package data name or a Path); raise ValueError
    when a (update, max_kl) of its metadata lacks a seed or the curves differ in length."""
    data = records.load_records(source)
    meta, found = data["meta"], {}
    for run in data["runs"]:
        found[run["update"], run["max_kl"], run["seed"]] = run["curve"]
    curves = {}
    for update in meta["updates"]:
        for max_kl in meta["max_kls"]:
            missing = [s for s in meta["seeds"] if (update, max_kl, s) not in found]
            if missing:
                raise ValueError(f"{source}: update={update!r}, max_kl={max_kl} has no run for seeds "
                                 f"{missing}; rerun benchmarks/line_search.py")
            runs = [found[update, max_kl, s] for s in meta["seeds"]]
            curves[update, max_kl] = {name: np.array([run[name] for run in runs], dtype=float)
                                      for name in KEYS}
    lengths = {c.shape[1] for by_name in curves.values() for c in by_name.values()}
    if len(lengths) != 1:
        raise ValueError(f"{source}: curves of different lengths {sorted(lengths)}; rerun with one --steps")
    config = TRPOConfig.from_dict(meta["config"])
    steps = config.num_envs * config.steps_per_env * np.arange(1, lengths.pop() + 1)
    return Runs(meta, config, steps, curves)


def line_search_counts(runs: Runs, max_kl: float) -> dict:
    """What TRPO's line search did over all R x I updates at one delta (E12): the fraction of updates
    that shrank the step at least once ("backtracked"), that kept theta ("rejected"), and how many
    updates there were; "fractions": the accepted steps' alpha^i, one per accepted update."""
    backtracks = runs.curve("trpo", max_kl, "backtracks")
    accepted = runs.curve("trpo", max_kl, "accepted") > 0
    alpha = runs.config.backtrack_coef
    return {"updates": backtracks.size, "backtracked": float(np.mean(backtracks > 0)),
            "rejected": float(np.mean(~accepted)), "fractions": alpha ** backtracks[accepted]}


def overshoot(runs: Runs, update: str, max_kl: float) -> dict:
    """Over all R x I updates of one rule at one delta: the fraction whose mean KL exceeds delta, the
    largest KL / delta, and the fraction whose surrogate gain L(theta') - L(theta) is negative (the
    step made the batch's own estimate of the improvement worse, E6)."""
    kl, gain = runs.curve(update, max_kl, "kl"), runs.curve(update, max_kl, "gain")
    return {"above_delta": float(np.mean(kl > max_kl)), "largest_ratio": float(kl.max() / max_kl),
            "gain_negative": float(np.mean(gain < 0))}


def given_back(returns: np.ndarray) -> np.ndarray:
    """Per seed, how much of its best return a run gave back by the end: max_i R_i - R_I.

    Args:
        returns: [R, I] last-10 mean returns; NaN before the first episode ends (skipped).
    Returns:
        [R] best minus final, >= 0; 0 for a run that ends at its best.
    """
    return np.nanmax(returns, axis=1) - returns[:, -1]


def ended_near_start(returns: np.ndarray) -> np.ndarray:
    """Per seed, whether a run ended closer to its first return than to its best: it lost most of what it
    learned. [R] bools from [R, I] last-10 mean returns (NaN before the first episode ends)."""
    first = np.array([row[~np.isnan(row)][0] for row in returns])
    final = returns[:, -1]
    return np.abs(final - first) < np.nanmax(returns, axis=1) - final


def first_difference(runs: Runs, max_kl: float) -> list[tuple[int | None, int | None]]:
    """Per seed: (first iteration, from 1, whose TRPO update backtracked or was rejected; first iteration
    where TRPO's and NPG's KL differ), None where there is none."""
    trpo_bt = runs.curve("trpo", max_kl, "backtracks") + (runs.curve("trpo", max_kl, "accepted") == 0)
    differ = runs.curve("trpo", max_kl, "kl") != runs.curve("npg", max_kl, "kl")
    return [(_first(b > 0), _first(d)) for b, d in zip(trpo_bt, differ, strict=True)]


def _first(flags: np.ndarray) -> int | None:
    hits = np.flatnonzero(flags)
    return int(hits[0]) + 1 if len(hits) else None


def seed_curves(runs: Runs, update: str, max_kl: float) -> dict:
    """Learning curves over seeds: "returns" [R, I] and their seed "median", "low" (min) and "high" (max)
    [I], NaN where no seed has finished an episode yet."""
    returns = runs.curve(update, max_kl, "return_last10")
    started = ~np.all(np.isnan(returns), axis=0)
    stats = {name: np.full(returns.shape[1], np.nan) for name in ("median", "low", "high")}
    for name, reduce in (("median", np.nanmedian), ("low", np.nanmin), ("high", np.nanmax)):
        stats[name][started] = reduce(returns[:, started], axis=0)
    return {"returns": returns, **stats}


def backtrack_counts(runs: Runs, max_kl: float) -> np.ndarray:
    """[max_backtracks + 2] how many of TRPO's R x I updates at one delta took the step after i = 0, 1, ...,
    max_backtracks shrinks (alpha^i of the full step, E12); the last entry counts the rejected ones."""
    backtracks = runs.curve("trpo", max_kl, "backtracks").astype(int)
    accepted = runs.curve("trpo", max_kl, "accepted") > 0
    most = runs.config.max_backtracks
    return np.append(np.bincount(backtracks[accepted], minlength=most + 1), np.sum(~accepted))


def kl_ratios(runs: Runs, update: str, max_kl: float) -> np.ndarray:
    """[R, I] each update's mean KL divided by delta: at most 1 inside the trust region (E8)."""
    return runs.curve(update, max_kl, "kl") / max_kl


def describe(runs: Runs) -> str:
    """What was run, where and when, from the metadata (in the reader's language, ``trpo_lite.tr``)."""
    m, env = runs.meta, runs.meta["environment"]
    return tr("{env_id}: {updates} at δ = {max_kls}, seeds {seeds}, {steps:,} env steps per run "
              "({iterations} iterations of {batch}); every other setting the preset's (α = {alpha}, at most "
              "{most} backtracks). {runs} runs, one after another, on one torch thread, on {cpu}, {date}."
              "\n{versions}",
              env_id=m["env_id"], updates=" / ".join(m["updates"]), max_kls=m["max_kls"], seeds=m["seeds"],
              steps=int(runs.steps[-1]), iterations=len(runs.steps), batch=int(runs.steps[0]),
              alpha=runs.config.backtrack_coef, most=runs.config.max_backtracks,
              runs=len(m["updates"]) * len(m["max_kls"]) * len(m["seeds"]), cpu=env["cpu"], date=m["date"],
              versions=", ".join(f"{k} {v}" for k, v in env.items() if k != "cpu"))
