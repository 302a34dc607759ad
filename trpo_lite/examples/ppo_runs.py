"""Notebook 10's saved runs: TRPO (E9-E12) and PPO-clip side by side, same envs, budgets, batches and seeds.

Each run is an env's preset (``config.preset``) with ``update`` set to "trpo" or "ppo": the same rollout,
GAE (E13), advantage standardisation and value fit, only the policy update differs. PPO uses the
config's defaults (clip_range 0.2, 10 epochs, 4 minibatches, ppo_lr 1e-3). ``benchmarks/ppo_vs_trpo.py``
trains every run with ``recompute`` and saves them in the package data (``ppo_vs_trpo.json``);
``load_comparison`` reads them back into arrays.

Shapes: R seeds, I iterations.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from trpo_lite import records
from trpo_lite.config import REWARD_THRESHOLDS, TRPOConfig, preset
from trpo_lite.examples.experiments import as_history, median_steps, steps_to_threshold
from trpo_lite.language import tr

BUDGETS = {"CartPole-v1": 50_000, "Pendulum-v1": 100_000}  # env steps per run; TRPO learns both within
# PPO's learning rate (TRPOConfig.ppo_lr = 1e-3) from a pilot on the held-out seed 100: on CartPole-v1
# (50k steps) 3e-4, 1e-3 and 3e-3 all reached a last-10 return of 500; on Pendulum-v1 (100k steps, the
# preset's 4 x 200 batches) 1e-3 ended at -165, 3e-4 at -196 and 3e-3 at -206 (TRPO: -163).
UPDATES = ("trpo", "ppo")
SEEDS = (0, 1, 2, 3, 4)
RESULT_FILE = "ppo_vs_trpo.json"


def run_config(env_id: str, update: str, total_steps: int) -> TRPOConfig:
    """env_id's preset with this update rule and step budget."""
    if env_id not in BUDGETS or update not in UPDATES:
        raise ValueError(f"env_id must be one of {tuple(BUDGETS)} and update one of {UPDATES}; "
                         f"got {env_id!r}, {update!r}")
    return dataclasses.replace(preset(env_id), update=update, total_steps=total_steps)


def recompute(env_id: str, update: str, seed: int, total_steps: int) -> dict:
    """Train one run from scratch (``records.record_run``, one torch thread as the saved runs): the record
    benchmarks/ppo_vs_trpo.py saves, {"env_id", "update", "seed", "total_steps", "curve": {short name:
    [I] values per iteration} (``records.CURVE_KEYS``)}."""
    curve = records.record_run(run_config(env_id, update, total_steps), seed, records.CURVE_KEYS)
    return {"env_id": env_id, "update": update, "seed": seed, "total_steps": total_steps, "curve": curve}


@dataclass(frozen=True)
class Comparison:
    """The saved runs, indexed by (env_id, update). meta: what was run, where and when; records: the R
    records in seed order; steps: env_id -> [I] env steps at the end of each iteration; returns, kls:
    (env_id, update) -> [R, I] last-10 mean return and mean KL of each update."""

    meta: dict
    records: dict
    steps: dict
    returns: dict
    kls: dict


def load_comparison(source=RESULT_FILE) -> Comparison:
    """Read the file benchmarks/ppo_vs_trpo.py wrote (a name in the package data, or a Path); ValueError
    when an env and update lacks a seed of meta["seeds"]."""
    data = records.load_records(source)
    seeds, found = data["meta"]["seeds"], {}
    for record in data["runs"]:
        found.setdefault((record["env_id"], record["update"]), {})[record["seed"]] = record
    by_key = {}
    for env_id in data["meta"]["budgets"]:
        for update in data["meta"]["updates"]:
            missing = sorted(set(seeds) - set(found.get((env_id, update), {})))
            if missing:
                raise ValueError(f"{source}: {env_id} {update} has no run for seeds {missing}; rerun "
                                 "benchmarks/ppo_vs_trpo.py")
            by_key[env_id, update] = [found[env_id, update][s] for s in seeds]

    def stack(name):
        return {key: np.array([[np.nan if v is None else v for v in r["curve"][name]] for r in runs], float)
                for key, runs in by_key.items()}

    steps = {env_id: np.array(runs[0]["curve"]["env_steps"]) for (env_id, _), runs in by_key.items()}
    return Comparison(data["meta"], by_key, steps, stack("return_last10"), stack("kl"))


def summary_rows(results: Comparison) -> list[dict]:
    """One row per env and update: seeds reaching the env's threshold, median steps to it (a seed that never
    got there counts as slowest: ``median_steps``), median final return, KL per update (median and
    largest over every update of every seed) and the fraction of updates whose KL exceeded delta."""
    rows = []
    for (env_id, update), runs in results.records.items():
        threshold, max_kl = REWARD_THRESHOLDS[env_id], results.meta["configs"][env_id][update]["max_kl"]
        steps = [steps_to_threshold(as_history(r["curve"]), threshold) for r in runs]
        kls = results.kls[env_id, update]
        rows.append({"env_id": env_id, "update": update, "threshold": threshold, "seeds": len(runs),
                     "reached": sum(s is not None for s in steps), "median_steps": median_steps(steps),
                     "final_return": float(np.median(results.returns[env_id, update][:, -1])),
                     "kl_median": float(np.median(kls)), "kl_max": float(kls.max()),
                     "above_delta": float(np.mean(kls > max_kl)), "max_kl": max_kl})
    return rows


def format_table(rows: list[dict]) -> str:
    """The summary rows as a plain-text table, for a notebook to print."""
    lines = [tr("{env:12} {update:6} {reached:>8} {steps:>13} {final:>13} {kl_median:>11} {kl_max:>9} "
                "{above:>10}", env=tr("env"), update=tr("update"), reached=tr("reached"),
                steps=tr("median steps"), final=tr("final return"), kl_median=tr("median KL"),
                kl_max=tr("max KL"), above=tr("KL > δ"))]
    for r in rows:
        steps = "-" if r["median_steps"] is None else f"{r['median_steps']:,.0f}"
        lines.append(tr("{env:12} {update:6} {reached:>8} {steps:>13} {final:13.1f} {kl_median:11.4f} "
                        "{kl_max:9.4f} {above:>10.0%}", env=r["env_id"], update=r["update"],
                        reached=f"{r['reached']}/{r['seeds']}", steps=steps, final=r["final_return"],
                        kl_median=r["kl_median"], kl_max=r["kl_max"], above=r["above_delta"]))
    return "\n".join(lines)
