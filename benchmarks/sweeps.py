"""Train the sweeps of notebook 09 and save every run's learning curve and summary (E8, E11, E13, E14).

    python benchmarks/sweeps.py                                  # all four sweeps, seeds 0 1 2, 40k steps,
                                                                 # written to trpo_lite/data/sweeps.json
    python benchmarks/sweeps.py --sweep max_kl --seeds 0 1 --steps 20000 --out /tmp/delta.json

The sweeps and their values are ``trpo_lite.examples.experiments.SWEEPS``; each run is
``experiments.recompute``, the function the notebook calls to check a saved run. Runs go one after
another in this process, on one torch thread, so their timings compare and a shared machine stays
usable. The configuration every sweep shares (the baseline) is trained once.
"""

import argparse
import datetime
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from trpo_lite.examples import experiments
from trpo_lite.records import machine, result_path, write_records
from trpo_lite.training import use_threads


def metadata(sweeps: list[str], seeds: list[int], total_steps: int, wall_seconds: float) -> dict:
    return {
        "env_id": experiments.ENV_ID,
        "seeds": seeds,
        "total_steps": total_steps,
        "sweeps": {name: list(experiments.SWEEPS[name]) for name in sweeps},
        "baseline": experiments.BASELINE,
        "pg_lr": experiments.PG_LR,
        "config": experiments.run_config("update", experiments.BASELINE["update"], total_steps).to_dict(),
        "command": " ".join(["python benchmarks/sweeps.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": round(wall_seconds, 1),
        "machine": machine(),
        "versions": {"python": platform.python_version(),
                     **{name: version(name) for name in ("trpo_lite", "torch", "gymnasium", "numpy")}},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", nargs="+", choices=list(experiments.SWEEPS),
                        default=list(experiments.SWEEPS), help="which sweeps to run (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=40_000, help="env steps per run (total_steps)")
    parser.add_argument("--out", type=Path, default=result_path("sweeps.json"),
                        help="where to write the JSON (default: the package data the notebook loads)")
    args = parser.parse_args(argv)
    use_threads(1)
    todo = {}  # config key -> (sweep, value): the baseline appears in every sweep, runs once
    for sweep in args.sweep:
        for value in experiments.SWEEPS[sweep]:
            todo.setdefault(tuple(experiments.configuration(sweep, value).values()), (sweep, value))
    print(f"{len(todo)} configurations x {len(args.seeds)} seeds, {args.steps:,} steps each", flush=True)
    start, runs = time.perf_counter(), []
    for sweep, value in todo.values():
        for seed in args.seeds:
            runs.append(experiments.recompute(sweep, value, seed, args.steps))
            summary = runs[-1]["summary"]
            print(f"{len(runs):3d}  {sweep + '=' + str(value):14} seed {seed}: final return "
                  f"{summary['final_return']:6.1f}, steps to {experiments.THRESHOLD:g}: "
                  f"{summary['steps_to_threshold']}, {runs[-1]['curve']['wall'][-1]:.1f} s", flush=True)
    seconds = time.perf_counter() - start
    write_records(args.out, metadata(args.sweep, args.seeds, args.steps, seconds), runs)
    print(f"{len(runs)} runs in {seconds / 60:.1f} min -> {args.out}")


if __name__ == "__main__":
    main()
