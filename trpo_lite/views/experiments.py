"""Notebook 09's experiments: TRPO (E9-E12) against the natural and the vanilla policy gradient, and
sweeps of delta (E8), lambda (E13) and CG iterations (E11), over several seeds.

``benchmarks/sweeps.py`` trains every configuration with ``recompute`` and saves the records in
``benchmarks/results/sweeps.json``; ``load_results`` reads them back into arrays, so the views only
index and draw (``curves_view``, the slider view, redraws one figure built once). A configuration is
the baseline (the CartPole-v1 preset) with one setting changed; the baseline itself belongs to every
sweep and is trained once.

Shapes: R seeds, I iterations, C configurations of one sweep.
"""

import dataclasses
from dataclasses import dataclass
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from trpo_lite.config import TRPOConfig, preset
from trpo_lite.figures.style import static_figure
from trpo_lite.records import load_records
from trpo_lite.training import train

ENV_ID = "CartPole-v1"
SWEEPS = {  # the setting each sweep changes, and its values; each holds the preset's value (the baseline)
    "update": ("trpo", "npg", "vpg"),
    "max_kl": (0.003, 0.01, 0.03, 0.1),
    "lam": (0.0, 0.8, 0.95, 1.0),
    "cg_iters": (1, 3, 10, 30),
}
LABELS = {"update": "update rule", "max_kl": "delta (max_kl)", "lam": "lambda (lam)",
          "cg_iters": "CG iterations"}
BASELINE = {name: getattr(preset(ENV_ID), name) for name in SWEEPS}
# The vanilla gradient's step size alpha, from a pilot on seed 0 (pg_lr 0.01, 0.1, 0.3, 1, 3; 40k steps):
# the preset's 0.01 moves the policy by a KL of ~4e-6 per update and learns nothing; 0.1 and 0.3 learn
# slowly; 1 and 3 learn about equally fast, 3 with a KL of up to 3 per update. Only update="vpg" reads it.
PG_LR = 1.0
THRESHOLD = 475.0  # CartPole-v1's "solved" return (the episode cap is 500)
CURVE_KEYS = {  # what a record keeps of each history row: short name -> history key
    "env_steps": "time/env_steps",
    "return_last10": "rollout/return_last10",
    "return_mean": "rollout/return_mean",
    "kl": "policy/kl",
    "backtracks": "line_search/backtracks",
    "accepted": "line_search/accepted",
    "wall": "time/wall",
}
STYLES = ("-", "--", ":", "-.")  # line style of a sweep's i-th value when it is not the chosen one


def configuration(sweep: str, value) -> dict:
    """The swept settings {update, max_kl, lam, cg_iters} of the baseline with ``sweep`` set to value."""
    if sweep not in SWEEPS:
        raise ValueError(f"sweep must be one of {tuple(SWEEPS)}; got {sweep!r}")
    if value not in SWEEPS[sweep]:
        raise ValueError(f"value must be one of {SWEEPS[sweep]} for sweep {sweep!r}; got {value!r}")
    return BASELINE | {sweep: value}


def run_config(sweep: str, value, total_steps: int) -> TRPOConfig:
    """The full TRPOConfig of one configuration: the CartPole-v1 preset with pg_lr = PG_LR, total_steps
    and ``sweep`` set to value."""
    return dataclasses.replace(preset(ENV_ID), total_steps=total_steps, pg_lr=PG_LR,
                               **configuration(sweep, value))


def recompute(sweep: str, value, seed: int, total_steps: int) -> dict:
    """Train one configuration from scratch: the record benchmarks/sweeps.py saves for it.

    The saved runs used one torch thread (``trpo_lite.use_threads(1)``): another thread count can change
    the last bits of a matrix product, and the run would then drift from the saved one.
    Returns {"config": the swept settings, "seed", "total_steps", "curve": {short name: [I] values
    per iteration}, "summary": ``summarize(history)``}.
    """
    _, history = train(run_config(sweep, value, total_steps), seed=seed, progress=False)
    curve = {short: [row[key] for row in history] for short, key in CURVE_KEYS.items()}
    return {"config": configuration(sweep, value), "seed": seed, "total_steps": total_steps, "curve": curve,
            "summary": summarize(history)}


def as_history(curve: dict) -> list[dict]:
    """A saved curve {short name: [I]} back as history rows {history key: value}, I of them."""
    return [dict(zip(CURVE_KEYS.values(), values, strict=True))
            for values in zip(*(curve[short] for short in CURVE_KEYS), strict=True)]


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
    """Read a file written by benchmarks/sweeps.py (by default the committed one). Raise ValueError when a
    configuration of the sweeps it lists lacks a seed, or curves differ in length (then the runs had
    different budgets and their curves cannot be stacked)."""
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
    """What was run, where and when, from the metadata."""
    m = results.metadata
    machine, versions = m["machine"], m["versions"]
    runs = sum(len(rs) for rs in results.records.values())
    return (f"{m['env_id']}, seeds {m['seeds']}, {int(results.steps[-1]):,} env steps per run "
            f"({len(results.steps)} iterations of {int(results.steps[0])}); {len(results.records)} "
            f"configurations x {len(m['seeds'])} seeds = {runs} runs, one after another, in "
            f"{m['wall_seconds'] / 60:.1f} min on {machine['cpu']} ({machine['cpu_count']} cores, "
            f"{machine['torch_threads']} torch thread, load average {machine['load_average_1min']} at the "
            f"end), {machine['platform']}, on {m['date']}.\n"
            + ", ".join(f"{name} {version}" for name, version in versions.items()))


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


def backtracked_fraction(record: dict) -> float:
    """The fraction of a run's updates whose line search shrank the step at least once (E12)."""
    return float(np.mean(np.array(record["curve"]["backtracks"]) > 0))


def summary_rows(results: Results, sweep: str, threshold: float = THRESHOLD) -> list[dict]:
    """``summary_row`` for every value of the sweep."""
    return [summary_row(results, sweep, value, threshold) for value in SWEEPS[sweep]]


def format_table(rows: list[dict], sweep: str, threshold: float = THRESHOLD) -> str:
    """summary_rows as a text table."""
    def percent(x):
        return "   n/a" if x is None else f"{100 * x:5.0f}%"

    lines = [f"{LABELS[sweep]:>15} | reached {threshold:g} | median steps to it | final return: median (std) "
             "| mean KL/update | accepted | backtracked"]
    for row in rows:
        steps = "not reached" if row["median_steps"] is None else f"{row['median_steps']:,.0f}"
        lines.append(f"{row['value']!s:>15} | {row['reached']:>4} of {row['seeds']:<3}| {steps:>18} | "
                     f"{row['final_median']:13.1f} ({row['final_std']:5.1f})  | {row['mean_kl']:14.4f} | "
                     f"{percent(row['accepted']):>8} | {percent(row['backtracked']):>11}")
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


class _Pool:
    """Lines of one role, made by make() and reused from call to call: ``take(n)`` shows the first n
    (making more when there are fewer) and hides the others."""

    def __init__(self, make, n: int = 0):
        self.make, self.lines = make, []
        self.take(n)

    def take(self, n: int) -> list:
        while len(self.lines) < n:
            self.lines.append(self.make())
        for i, line in enumerate(self.lines):
            line.set_visible(i < n)
        return self.lines[:n]


@cache
def _curves_figure() -> dict:
    """The figure of ``curves_view`` and the artists it moves. Per panel ("returns", "kls"): the chosen
    configuration's bold seed mean and min-max band, and a pool for the other configurations' faint means;
    pools for the chosen one's seeds (returns) and the delta lines (KL). The pools of configurations and
    deltas are made as large as the largest sweep here, so every call draws them in the same order."""
    fig = static_figure((11.5, 4.3))
    ax_ret, ax_kl = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.075, right=0.985, bottom=0.14, top=0.92, wspace=0.22)
    # A fixed title height: otherwise every draw measures the tick labels to see if the title must move up.
    for ax in (ax_ret, ax_kl):
        ax.set_title("", y=1.0)
    others = max(len(values) for values in SWEEPS.values()) - 1  # faint lines of the largest sweep
    art = {"fig": fig, "ret": ax_ret, "kl": ax_kl}
    for name, ax in (("returns", ax_ret), ("kls", ax_kl)):
        art[name] = {"band": ax.fill_between([], [], [], alpha=0.2),
                     "faint": _Pool(lambda ax=ax: ax.plot([], [], lw=1.5, alpha=0.4)[0], others),
                     "bold": ax.plot([], [], lw=3, zorder=3)[0]}
    art["deltas"] = _Pool(lambda: ax_kl.axhline(1.0, color="black", ls="--"), len(SWEEPS["max_kl"]))
    art["seeds"] = _Pool(lambda: ax_ret.plot([], [], lw=0.8)[0])  # on the KL panel the band says enough
    ax_ret.axhline(THRESHOLD, color="black", lw=1, ls="--")
    ax_ret.set(xlabel="env steps (thousands)", ylabel="return (mean of last 10 episodes)", ylim=(0, 510))
    # Few, fixed ticks with plain-text labels: ticks are most of a redraw's cost (budget 100 ms).
    ax_ret.set_yticks([0, 100, 200, 300, 400, 500], ["0", "100", "200", "300", "400", "500"])
    ax_kl.set_yscale("log")
    ax_kl.set(xlabel="env steps (thousands)", ylabel="mean KL of the update", ylim=(1e-4, 1),
              title="KL per update (dashed: delta)")
    ax_kl.set_yticks([1e-4, 1e-3, 1e-2, 1e-1, 1], ["1e-4", "1e-3", "0.01", "0.1", "1"])
    ax_kl.minorticks_off()
    return art


def _show_sweep(panel: dict, x, stats: dict, name: str, value) -> list:
    """One panel of ``curves_view``: each configuration's seed mean of name ("returns" or "kls") against
    x [I], the chosen value bold with its min-max band, the others faint.

    Args:
        panel: the panel's artists from ``_curves_figure``.
        stats: value -> ``curve_stats`` of that configuration, in sweep order.
    Returns:
        the mean lines in sweep order (handles for a legend).
    """
    faint, lines = iter(panel["faint"].take(len(stats) - 1)), []
    for i, (other, other_stats) in enumerate(stats.items()):
        line = panel["bold"] if other == value else next(faint)
        line.set_data(x, other_stats[f"{name}_mean"])
        # The others dashed, dotted, ...: two configurations with identical curves both stay visible.
        line.set(color=f"C{i}", linestyle="-" if other == value else STYLES[i])
        lines.append(line)
    panel["band"].set_data(x, stats[value][f"{name}_low"], stats[value][f"{name}_high"])
    panel["band"].set_color(f"C{list(stats).index(value)}")
    return lines


def curves_view(results: Results, sweep: str, value) -> Figure:
    """Left: return (last-10 mean) against env steps; right: KL per update. Every configuration of the
    sweep as its seed mean, faint; the chosen one bold, with its min-max band and every seed thin.

    Returns the same Figure on every call, redrawn for results, sweep and value.
    """
    row = summary_row(results, sweep, value)
    art, x, values = _curves_figure(), results.steps / 1000, SWEEPS[sweep]
    stats = {other: curve_stats(results, sweep, other) for other in values}
    _show_sweep(art["returns"], x, stats, "returns", value)
    means = _show_sweep(art["kls"], x, stats, "kls", value)
    seeds = stats[value]["returns"]  # [R, I]
    for line, seed in zip(art["seeds"].take(len(seeds)), seeds, strict=True):
        line.set_data(x, seed)
        line.set_color(f"C{values.index(value)}")
    ticks = np.arange(0, x[-1] + 1e-9, 10)
    for ax in (art["ret"], art["kl"]):
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlim(0, 1.02 * x[-1])
    art["ret"].title.set_text(f"{LABELS[sweep]} = {value}: {row['reached']} of {row['seeds']} seeds reach "
                              f"{THRESHOLD:g}")
    # The KL panel's bottom is empty (every update moves the policy by more than 1e-4): room for a legend.
    # A new legend each call (a few ms): the sweep sets its entries.
    art["kl"].legend(means, [str(v) for v in values], loc="lower right", fontsize=10, ncol=2,
                     title=f"{LABELS[sweep]}; bold: mean, band: min-max", title_fontsize=10)
    deltas = SWEEPS["max_kl"] if sweep == "max_kl" else [BASELINE["max_kl"]]
    for line, delta in zip(art["deltas"].take(len(deltas)), deltas, strict=True):
        line.set_ydata([delta, delta])
        line.set_linewidth(1.5 if delta == configuration(sweep, value)["max_kl"] else 0.6)
    return art["fig"]


SHORT = {"update": "{}", "max_kl": "δ={}", "lam": "λ={}", "cg_iters": "k={}"}


def configurations() -> list[tuple[str, str, object]]:
    """(label, sweep, value) of every distinct configuration, the baseline first and once."""
    found = [("baseline", "update", BASELINE["update"])]
    for sweep, values in SWEEPS.items():
        found += [(SHORT[sweep].format(v), sweep, v) for v in values if v != BASELINE[sweep]]
    return found


def summary_figure(results: Results) -> plt.Figure:
    """Left: each TRPO seed's mean KL per update against delta, with KL = delta. Middle: the fraction of
    TRPO updates whose line search backtracked. Right: the final return of every configuration."""
    fig, (ax_kl, ax_bt, ax_ret) = plt.subplots(1, 3, figsize=(16, 4.8), width_ratios=(1, 1.4, 1.6))
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.2, top=0.9, wspace=0.3)
    deltas = np.array(SWEEPS["max_kl"])
    for i, delta in enumerate(deltas):
        kls = [r["summary"]["mean_kl"] for r in results.records[results.key("max_kl", delta)]]
        ax_kl.plot([delta] * len(kls), kls, "o", color="C1", alpha=0.7, label="one seed" if i == 0 else None)
    ax_kl.plot(deltas, deltas, color="black", lw=1, ls="--", label="KL = delta")
    ax_kl.set(xscale="log", yscale="log", xlabel="delta (max_kl)", ylabel="mean KL per update",
              title="TRPO: KL per update against delta")
    ax_kl.legend(fontsize=10)
    everything = configurations()
    trpo = [c for c in everything if configuration(c[1], c[2])["update"] == "trpo"]
    per_run = {"backtracked": backtracked_fraction, "final": lambda r: r["curve"]["return_last10"][-1]}
    for ax, chosen, field in ((ax_bt, trpo, "backtracked"), (ax_ret, everything, "final")):
        for i, (_, sweep, value) in enumerate(chosen):
            values = [per_run[field](r) for r in results.records[results.key(sweep, value)]]
            ax.bar(i, np.median(values), color=f"C{list(SWEEPS).index(sweep)}", alpha=0.5)
            ax.plot([i] * len(values), values, "o", color="black", ms=4)
        ax.set_xticks(range(len(chosen)), [c[0] for c in chosen], rotation=60, fontsize=10)
    ax_bt.set(ylabel="fraction of updates", title="TRPO: updates that backtracked (bar: median)")
    ax_ret.axhline(THRESHOLD, color="black", lw=1, ls="--")
    ax_ret.set(ylim=(0, 510), ylabel="return (last 10 episodes)",
               title="final return (bar: median; dots: seeds)")
    return fig
