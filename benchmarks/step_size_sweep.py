"""Plain policy gradient at several step sizes, and TRPO, on CartPole-v1: the data of notebook 00.

    python benchmarks/step_size_sweep.py            # writes trpo_lite/data/step_size_sweep.json
    python benchmarks/step_size_sweep.py --steps 2048 --seeds 0 --out /tmp/ss.json   # a quick try

Each run is ``trpo_lite.examples.step_size_sweep.record_run``, the function the notebook calls
to recompute one run live: same code, same seed, same numbers. Runs go one at a time
on one torch thread; the whole sweep (30 runs) takes about 2 minutes on the 2-core course machine.
"""

import argparse
import dataclasses
import datetime
import os
import platform
import time
from pathlib import Path

from trpo_lite.config import preset
from trpo_lite.examples.step_size_sweep import record_run
from trpo_lite.records import result_path, run_environment, write_records
from trpo_lite.training import use_threads

ENV_ID = "CartPole-v1"
# Half-decades from "crawls" to "collapses". The scale is that of theta += pg_lr g with g the
# gradient of the normalised-advantage surrogate (E6) of the preset's networks.
STEP_SIZES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000, help="environment steps per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of every setting")
    parser.add_argument("--out", type=Path, default=result_path("step_size_sweep.json"),
                        help="where to write the JSON (default: the package data the notebook loads)")
    args = parser.parse_args()
    use_threads(1)

    # The config is saved with the runs: a recompute rebuilds it with TRPOConfig.from_dict, so a later
    # change of the preset does not change what the saved numbers mean.
    config = dataclasses.replace(preset(ENV_ID), total_steps=args.steps)
    settings = [("vpg", lr) for lr in STEP_SIZES] + [("trpo", None)]
    runs, start = [], time.perf_counter()
    for update, pg_lr in settings:
        for seed in args.seeds:
            t = time.perf_counter()
            run = record_run(config, update, seed, args.steps, pg_lr)
            runs.append(run | {"wall_seconds": round(time.perf_counter() - t, 2)})
            print(f"{update} pg_lr={pg_lr} seed={seed}: final return {run['return_last10'][-1]:.1f}, "
                  f"{runs[-1]['wall_seconds']:.1f} s", flush=True)
    meta = {
        "script": "benchmarks/step_size_sweep.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "environment": run_environment(),
        "env_id": ENV_ID,
        "total_steps": args.steps,
        "seeds": args.seeds,
        "step_sizes": STEP_SIZES,
        "trpo_max_kl": config.max_kl,
        "torch_threads": 1,
        "config": config.to_dict(),
        "config_note": "every run uses this config with its own update (and pg_lr for 'vpg')",
        "kl_null": "an infinite KL: the update gave probability 0 to an action the old policy took",
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    write_records(args.out, meta, runs)
    print(f"wrote {args.out} ({len(runs)} runs, {meta['wall_seconds']} s)")


if __name__ == "__main__":
    main()
