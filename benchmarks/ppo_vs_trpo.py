"""Train TRPO and PPO-clip side by side for notebook 10 and save every run's learning curve (E14).

    python benchmarks/ppo_vs_trpo.py                     # CartPole-v1 50k and Pendulum-v1 100k steps,
                                                         # seeds 0-4, -> trpo_lite/data/ppo_vs_trpo.json
    python benchmarks/ppo_vs_trpo.py --seeds 0 1 --out /tmp/ppo.json

The envs, budgets and update rules are ``trpo_lite.examples.ppo_runs`` (BUDGETS, UPDATES); each run is
``ppo_runs.recompute``, the function the notebook calls to check a saved run. Runs go one after another
in this process, on one torch thread.
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

from trpo_lite.examples import ppo_runs
from trpo_lite.records import machine, result_path, run_environment, write_records
from trpo_lite.training import use_threads


def metadata(seeds: list[int], wall_seconds: float, cpu_seconds: float) -> dict:
    return {
        "budgets": ppo_runs.BUDGETS,
        "updates": list(ppo_runs.UPDATES),
        "seeds": seeds,
        "configs": {env_id: {update: ppo_runs.run_config(env_id, update, steps).to_dict()
                             for update in ppo_runs.UPDATES} for env_id, steps in ppo_runs.BUDGETS.items()},
        "command": " ".join(["python benchmarks/ppo_vs_trpo.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": round(wall_seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "machine": machine(),
        "environment": run_environment(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(ppo_runs.SEEDS))
    parser.add_argument("--out", type=Path, default=result_path(ppo_runs.RESULT_FILE),
                        help="where to write the JSON (default: the package data the notebook loads)")
    args = parser.parse_args(argv)
    use_threads(1)
    start, cpu_start, runs = time.perf_counter(), time.process_time(), []
    for env_id, steps in ppo_runs.BUDGETS.items():
        for update in ppo_runs.UPDATES:
            for seed in args.seeds:
                runs.append(ppo_runs.recompute(env_id, update, seed, steps))
                curve = runs[-1]["curve"]
                print(f"{env_id:12} {update:5} seed {seed}: final return {curve['return_last10'][-1]:8.1f}, "
                      f"max KL {max(curve['kl']):.4f}, {curve['wall'][-1]:.1f} s", flush=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    write_records(args.out, metadata(args.seeds, wall, cpu), runs)
    print(f"{len(runs)} runs in {wall / 60:.1f} min ({cpu / 60:.1f} CPU min) -> {args.out}")


if __name__ == "__main__":
    main()
