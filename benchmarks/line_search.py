"""TRPO and the natural step without its line search (NPG) on Pendulum-v1: the data of notebook 09, section 8.

    python benchmarks/line_search.py           # delta 0.01 0.05 0.2, seeds 0-4, 150k steps each,
                                               # written to trpo_lite/data/line_search.json
    python benchmarks/line_search.py --max-kl 0.05 --seeds 0 --steps 20000 --out /tmp/ls.json   # a quick try

Each run is ``trpo_lite.examples.line_search.record_run``, the function the notebook calls to recompute
one run: same code, same seed, same numbers. Runs go one after another in this process, on one torch
thread (``use_threads(1)``), which the bit-for-bit comparison needs.
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

from trpo_lite.examples import line_search as ls
from trpo_lite.records import machine, result_path, run_environment, write_records
from trpo_lite.training import use_threads


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-kl", type=float, nargs="+", default=list(ls.MAX_KLS),
                        help="trust-region radii delta")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(ls.SEEDS))
    parser.add_argument("--steps", type=int, default=ls.TOTAL_STEPS, help="env steps per run (total_steps)")
    parser.add_argument("--out", type=Path, default=result_path("line_search.json"),
                        help="where to write the JSON (default: the package data the notebook loads)")
    args = parser.parse_args(argv)
    use_threads(1)
    config = ls.base_config(args.steps)  # saved: a recompute rebuilds it, whatever the preset becomes
    machine_at_start = machine()
    runs, wall, cpu = [], time.perf_counter(), time.process_time()
    for max_kl in args.max_kl:
        for update in ls.UPDATES:
            for seed in args.seeds:
                run = ls.record_run(config, update, max_kl, seed, args.steps)
                runs.append(run)
                curve = run["curve"]
                backtracked = sum(b > 0 for b in curve["backtracks"])
                rejected = sum(not a for a in curve["accepted"])
                print(f"{len(runs):3d} {update} max_kl={max_kl} seed={seed}: final return "
                      f"{curve['return_last10'][-1]:.1f}, backtracked {backtracked}, rejected {rejected} of "
                      f"{len(curve['kl'])}", flush=True)
    meta = {
        "script": "benchmarks/line_search.py",
        "command": " ".join(["python benchmarks/line_search.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "env_id": ls.ENV_ID,
        "updates": list(ls.UPDATES),
        "max_kls": args.max_kl,
        "seeds": args.seeds,
        "total_steps": args.steps,
        "config": config.to_dict(),
        "config_note": "every run is this config with its own update and max_kl",
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "machine_at_start": machine_at_start,
        "machine_at_end": machine(),
        "environment": run_environment(),
    }
    write_records(args.out, meta, runs)
    print(f"{len(runs)} runs in {meta['wall_seconds']:.0f} s wall, {meta['cpu_seconds']:.0f} s CPU "
          f"-> {args.out}")


if __name__ == "__main__":
    main()
