"""Seconds from starting `python -m trpo_lite train` until the last 10 episodes' mean return reaches 475.

    python benchmarks/time_to_threshold.py                      # CartPole-v1, seeds 0-4
    python benchmarks/time_to_threshold.py --seeds 0 1 --steps 60000

Measured from outside the process: this script notes ``time.time()`` just before it starts the
command, and the run folder's episodes.csv says when each training episode ended (``unix_time``,
the same clock). The time to threshold is the end of the episode that brought the mean of the
last 10 finished episodes to 475, minus the start: the interpreter's start, every import, the
environments and the network set-up are included. Its part before training, the start-up, is the
same episode's ``unix_time`` minus its ``wall`` (seconds since ``train`` started) minus the start.
What comes after the run (curve.png) is not counted: it does not delay reaching the threshold.
The seeds run one after another.
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark import WINDOW, crossing

from trpo_lite.config import REWARD_THRESHOLDS


def time_run(env_id: str, seed: int, steps: int | None, threshold: float, python=sys.executable) -> dict:
    """Run the CLI once; {"seed", "seconds" (start to threshold, or None), "startup_s" (start to the start of
    ``train``), "env_steps" (at the threshold), "process_s" (the whole process)}."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        command = [python, "-m", "trpo_lite", "train", "--env", env_id, "--seed", str(seed),
                   "--out", str(run), "--no-progress", *(["--steps", str(steps)] if steps else [])]
        start = time.time()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        process_s = time.time() - start
        with open(run / "episodes.csv", newline="") as f:
            episodes = [{key: float(e[key]) for key in ("return", "env_steps", "wall", "unix_time")}
                        for e in csv.DictReader(f)]
    hit = crossing(episodes, threshold)
    first = episodes[0]
    return {"seed": seed, "seconds": None if hit is None else hit["unix_time"] - start,
            "startup_s": first["unix_time"] - first["wall"] - start,
            "env_steps": None if hit is None else int(hit["env_steps"]), "process_s": process_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--threshold", type=float, help="the return to reach (default: the env's, "
                                                            "config.REWARD_THRESHOLDS)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    args = parser.parse_args()
    args.threshold = REWARD_THRESHOLDS[args.env] if args.threshold is None else args.threshold
    load = os.getloadavg()[0]
    runs = []
    for seed in args.seeds:
        runs.append(time_run(args.env, seed, args.steps, args.threshold))
        r = runs[-1]
        seconds = "never" if r["seconds"] is None else f"{r['seconds']:.2f} s"
        print(f"seed {seed}: {seconds} from process start to a last-{WINDOW} return of {args.threshold:g} "
              f"({r['env_steps']} env steps), of which {r['startup_s']:.2f} s before training started; the "
              f"whole process took {r['process_s']:.2f} s", flush=True)
    reached = [r["seconds"] for r in runs if r["seconds"] is not None]
    median = statistics.median([float("inf") if r["seconds"] is None else r["seconds"] for r in runs])
    startup = statistics.median(r["startup_s"] for r in runs)
    print(f"{args.env}: median {median:.2f} s over seeds {args.seeds} ({len(reached)}/{len(runs)} reached), "
          f"median start-up {startup:.2f} s; "
          f"load average (1 min) before / after: {load:.2f} / {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
