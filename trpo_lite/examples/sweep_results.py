"""Notebook 09's saved sweeps, read back and summarised: the numbers its tables and figures show.

``benchmarks/sweeps.py`` writes the runs (``examples.experiments.recompute``) to the package data;
``load_results`` reads them into arrays, so that a figure only indexes and draws.

Shapes: R seeds, I iterations, C configurations of one sweep.
"""

from dataclasses import dataclass

import numpy as np

from trpo_lite.examples.experiments import (
    BASELINE,
    LABELS,
    SWEEPS,
    THRESHOLD,
    as_history,
    backtracked_fraction,
    configuration,
    configurations,
    median_steps,
    seed_summary,
    steps_to_threshold,
    value_label,
)
from trpo_lite.language import tr
from trpo_lite.records import load_records


@dataclass(frozen=True)
class Results:
    """The saved sweeps, indexed. metadata: what was run, where and when. records: config key ->
    the R records in seed order. steps [I]: env steps done by the end of each iteration (the same
    for every run).
    returns, kls: config key -> [R, I] last-10 mean return and KL per update."""

    metadata: dict
    records: dict
    steps: np.ndarray
    returns: dict
    kls: dict

    def key(self, sweep: str, value) -> tuple:
        """Where the configuration's runs are in records and the curves."""
        key = tuple(configuration(sweep, value).values())
        if key not in self.records:
            raise ValueError(f"{sweep}={value!r} is not in these results; their sweeps: "
                             f"{list(self.metadata['sweeps'])}")
        return key


def _float_array(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)  # JSON null is NaN


def load_results(path="sweeps.json") -> Results:
    """Read a file written by benchmarks/sweeps.py: a name in the package data (by default the committed
    one) or a Path (``trpo_lite.records.load_records``). Raise ValueError when a configuration of the
    sweeps it lists lacks a seed, or curves differ in length (then the runs had different budgets and
    their curves cannot be stacked)."""
    data = load_records(path)
    seeds = data["meta"]["seeds"]
    found = {}
    for record in data["runs"]:
        found.setdefault(tuple(record["config"][name] for name in SWEEPS), {})[record["seed"]] = record
    records = {}
    for sweep, values in data["meta"]["sweeps"].items():
        for value in values:
            key = tuple(configuration(sweep, value).values())
            missing = sorted(set(seeds) - set(found.get(key, {})))
            if missing:
                raise ValueError(f"{path}: {sweep}={value!r} has no run for seeds {missing}; "
                                 "rerun benchmarks/sweeps.py")
            records[key] = [found[key][s] for s in seeds]
    lengths = {len(r["curve"]["env_steps"]) for runs in records.values() for r in runs}
    if len(lengths) != 1:
        raise ValueError(f"{path}: the runs have curves of different lengths {sorted(lengths)}; "
                         "rerun benchmarks/sweeps.py with one --steps")
    curves = {name: {key: np.stack([_float_array(r["curve"][name]) for r in runs])
                     for key, runs in records.items()} for name in ("return_last10", "kl")}
    steps = np.array(next(iter(records.values()))[0]["curve"]["env_steps"])
    return Results(data["meta"], records, steps, curves["return_last10"], curves["kl"])


def describe(results: Results) -> str:
    """What was run, where and when, from the metadata (in the reader's language, ``trpo_lite.tr``)."""
    m = results.metadata
    machine, versions = m["machine"], m["versions"]
    return tr("{env_id}, seeds {seeds}, {steps:,} env steps per run ({iterations} iterations of {batch}); "
              "{configurations} configurations x {n_seeds} seeds = {runs} runs, one after another, on {cpu} "
              "({cores} cores, {threads} torch thread), {platform}, on {date}.\n{versions}",
              env_id=m["env_id"], seeds=m["seeds"], steps=int(results.steps[-1]),
              iterations=len(results.steps), batch=int(results.steps[0]),
              configurations=len(results.records), n_seeds=len(m["seeds"]),
              runs=sum(len(rs) for rs in results.records.values()), cpu=machine["cpu"],
              cores=machine["cpu_count"], threads=machine["torch_threads"], platform=machine["platform"],
              date=m["date"], versions=", ".join(f"{name} {version}" for name, version in versions.items()))


def summary_row(results: Results, sweep: str, value, threshold: float = THRESHOLD) -> dict:
    """One configuration over its R seeds: how many reached threshold, median steps to it
    (``median_steps``), final return (``seed_summary``), mean KL per update, and for TRPO the fraction
    of accepted line searches and of updates that backtracked (None for npg and vpg: no line search)."""
    records = results.records[results.key(sweep, value)]
    steps = [steps_to_threshold(as_history(r["curve"]), threshold) for r in records]
    final_median, final_std = seed_summary([r["curve"]["return_last10"][-1] for r in records])
    trpo = configuration(sweep, value)["update"] == "trpo"

    def mean(per_run):
        return float(np.mean([per_run(r) for r in records]))

    return {"value": value, "reached": sum(s is not None for s in steps), "seeds": len(records),
            "median_steps": median_steps(steps), "final_median": final_median, "final_std": final_std,
            "mean_kl": mean(lambda r: r["summary"]["mean_kl"]),
            "accepted": mean(lambda r: r["summary"]["accepted_fraction"]) if trpo else None,
            "backtracked": mean(backtracked_fraction) if trpo else None}


def summary_rows(results: Results, sweep: str, threshold: float = THRESHOLD) -> list[dict]:
    """``summary_row`` for every value of the sweep."""
    return [summary_row(results, sweep, value, threshold) for value in SWEEPS[sweep]]


def format_table(rows: list[dict], sweep: str, threshold: float = THRESHOLD) -> str:
    """summary_rows as a text table (in the reader's language, ``trpo_lite.tr``)."""
    def percent(x):
        return tr("n/a") if x is None else f"{100 * x:.0f}%"

    lines = [tr("{sweep:>15} | reached {threshold:g} | median steps to it | final return: median (std) "
                "| mean KL/update | accepted | backtracked", sweep=tr(LABELS[sweep]), threshold=threshold)]
    for row in rows:
        steps = tr("not reached") if row["median_steps"] is None else f"{row['median_steps']:,.0f}"
        lines.append(tr("{value:>15} | {reached:>4} of {seeds:<3}| {steps:>18} | {final:13.1f} ({std:5.1f})  "
                        "| {kl:14.4f} | {accepted:>8} | {backtracked:>11}",
                        value=value_label(sweep, row["value"]),
                        reached=row["reached"], seeds=row["seeds"], steps=steps, final=row["final_median"],
                        std=row["final_std"], kl=row["mean_kl"], accepted=percent(row["accepted"]),
                        backtracked=percent(row["backtracked"])))
    return "\n".join(lines)


def curve_stats(results: Results, sweep: str, value) -> dict:
    """One configuration's curves over seeds: returns and kls [R, I], and their seed mean, min and max
    [I] under the keys returns_mean, returns_low, returns_high (and the same for kls)."""
    key = results.key(sweep, value)
    stats = {}
    for name, curves in (("returns", results.returns[key]), ("kls", results.kls[key])):
        stats |= {name: curves, f"{name}_mean": np.nanmean(curves, axis=0),
                  f"{name}_low": np.nanmin(curves, axis=0), f"{name}_high": np.nanmax(curves, axis=0)}
    return stats


def sweep_curves(results: Results, sweep: str, value) -> dict:
    """The numbers of notebook 09's curves slider: one sweep's curves with ``value`` chosen.

    Returns {"row": ``summary_row`` of the chosen value, "stats": value -> ``curve_stats``, for the C
    values in sweep order, "deltas": the trust-region radii to mark (every delta of the max_kl sweep,
    else the baseline's), "delta": the chosen configuration's}.
    """
    return {"row": summary_row(results, sweep, value),
            "stats": {other: curve_stats(results, sweep, other) for other in SWEEPS[sweep]},
            "deltas": list(SWEEPS["max_kl"]) if sweep == "max_kl" else [BASELINE["max_kl"]],
            "delta": configuration(sweep, value)["max_kl"]}


def per_configuration(results: Results) -> dict:
    """The numbers of notebook 09's summary figure, each over the R seeds of a configuration.

    Returns {"kl_by_delta": delta -> each seed's mean KL per update [R] (the max_kl sweep),
    "backtracked": (label, sweep, value, each seed's ``backtracked_fraction`` [R]) per TRPO
    configuration, "final": (label, sweep, value, each seed's final last-10 return [R]) per
    configuration (``configurations``)}.
    """
    def per_seed(sweep, value, number):
        return [number(r) for r in results.records[results.key(sweep, value)]]

    everything = configurations()
    trpo = [c for c in everything if configuration(c[1], c[2])["update"] == "trpo"]
    return {"kl_by_delta": {d: per_seed("max_kl", d, lambda r: r["summary"]["mean_kl"])
                            for d in SWEEPS["max_kl"]},
            "backtracked": [(*c, per_seed(c[1], c[2], backtracked_fraction)) for c in trpo],
            "final": [(*c, per_seed(c[1], c[2], lambda r: r["curve"]["return_last10"][-1]))
                      for c in everything]}
