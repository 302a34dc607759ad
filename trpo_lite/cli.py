"""Command line: ``python -m trpo_lite train``, ``evaluate`` and ``sweep``.

    python -m trpo_lite train --env CartPole-v1 --steps 100000 --seed 0 --out runs/cartpole
    python -m trpo_lite train --resume runs/cartpole        # continue a stopped run
    python -m trpo_lite evaluate runs/cartpole --episodes 20
    python -m trpo_lite sweep --grid max_kl=0.003,0.01,0.03 --seeds 0 1 2 --n-jobs 2 --out sweep.json

A run folder (``run_folder.RunFolder``) holds config.json, progress.csv and episodes.csv (appended
as iterations complete), agent.pt and state.pt (checkpoints), status.json and, at the end, curve.png;
``evaluate`` adds eval.json. Exit status (EXIT_CODES): 0 finished, 1 training failed (its work is
kept), 2 bad input (nothing trained), 130 interrupted by Ctrl-C, 143 stopped by SIGTERM. Every error
is one line on stderr.
"""

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

from trpo_lite.config import UPDATES, preset
from trpo_lite.persistence import evaluate, load_agent
from trpo_lite.training import TrainingFailed, resume, train, use_threads


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m trpo_lite", description="Train and evaluate TRPO agents (trpo_lite).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train an agent and write a run folder",
                       description="Train a TRPO agent with the env's preset (trpo_lite.config.PRESETS).")
    t.add_argument("--env", default="CartPole-v1", help="gymnasium environment id (default: CartPole-v1)")
    t.add_argument("--steps", type=_positive_int,
                   help="environment steps to train for (default: the preset's)")
    t.add_argument("--seed", type=int, default=0, help="seed for torch and the environments (default: 0)")
    where = t.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="a new (or empty) run folder to keep the run in")
    where.add_argument("--resume", type=Path, metavar="RUN",
                       help="continue the run in this folder up to its step budget (its own settings)")
    t.add_argument("--update", choices=UPDATES,
                   help="policy update: trpo, npg (no line search), vpg or ppo (default: trpo)")
    t.add_argument("--max-kl", type=float, help="trust-region radius delta (default: the preset's)")
    t.add_argument("--num-envs", type=_positive_int,
                   help="parallel environment copies (default: the preset's)")
    t.add_argument("--threads", type=_positive_int, default=1,
                   help="torch CPU threads (default: 1, the fastest for these small networks)")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.set_defaults(func=_train)

    w = sub.add_parser("sweep", help="train a grid of configurations and seeds on an Optuna study",
                       description="Train every combination of --grid values, once per seed, as the trials "
                                   "of an Optuna study that any number of workers share (trpo_lite.sweep). "
                                   "Run the same command on other machines with a database URL as "
                                   "--storage to add workers there.")
    w.add_argument("--env", default="CartPole-v1", help="gymnasium environment id; its preset is the base "
                                                         "config (default: CartPole-v1)")
    w.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                   help="a TRPOConfig field and its values; repeat for a grid (--grid max_kl=0.003,0.01)")
    w.add_argument("--seeds", nargs="+", type=int, default=[0],
                   help="seeds of every configuration (default: 0)")
    w.add_argument("--steps", type=_positive_int, help="environment steps per run (default: the preset's)")
    w.add_argument("--storage", default="sweep.journal",
                   help="where the study lives: a journal file (default: sweep.journal), an SQLite file "
                        "(*.db), or a database URL such as postgresql://user@host/db")
    w.add_argument("--study", default="sweep", help="the study's name within the storage (default: sweep)")
    w.add_argument("--n-jobs", type=_positive_int, default=1, help="worker processes here (default: 1)")
    w.add_argument("--search", type=_positive_int, metavar="TRIALS",
                   help="instead of the whole grid, let a TPE sampler pick TRIALS runs among the values")
    w.add_argument("--out", type=Path, help="write the finished runs as a result file (JSON) here")
    w.add_argument("--threads", type=_positive_int, default=1, help="torch threads per worker (default: 1)")
    w.set_defaults(func=_sweep)

    e = sub.add_parser("evaluate", help="evaluate a saved agent with deterministic actions",
                       description="Run deterministic episodes with a trained agent; write eval.json.")
    e.add_argument("run", type=Path, help="run folder written by `train` (holds agent.pt)")
    e.add_argument("--episodes", type=_positive_int, default=20, help="number of episodes (default: 20)")
    e.add_argument("--seed", type=int, default=0, help="episode k resets with seed + k (default: 0)")
    e.add_argument("--env", help="environment id (default: the one the agent was trained on)")
    e.set_defaults(func=_evaluate)
    return parser


EXIT_CODES = {"finished": 0, "failed": 1, "bad input": 2, "Ctrl-C": 130, "SIGTERM": 143}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TrainingFailed as failure:
        _error(args.command, f"failed: {failure}")
        return EXIT_CODES["failed"]
    except (ValueError, FileNotFoundError, gym.error.Error) as error:
        _error(args.command, f"error: {error}")
        return EXIT_CODES["bad input"]


def _error(command: str, message: str) -> None:
    print(f"python -m trpo_lite {command}: {' '.join(message.split())}", file=sys.stderr)


def _train(args) -> int:
    use_threads(args.threads)
    if args.resume is not None:
        if any(value is not None for value in (args.steps, args.update, args.max_kl, args.num_envs)):
            raise ValueError("--resume continues a run with its own settings: leave out --steps, --update, "
                             "--max-kl and --num-envs")
        agent, history = resume(args.resume, progress=not args.no_progress)
        out = args.resume
    else:
        overrides = {"total_steps": args.steps, "update": args.update, "max_kl": args.max_kl,
                     "num_envs": args.num_envs}
        overrides = {k: v for k, v in overrides.items() if v is not None}
        out = args.out
        agent, history = train(preset(args.env), seed=args.seed, progress=not args.no_progress, run_dir=out,
                               **overrides)
    _save_curve(history, agent.config.env_id, out / "curve.png")
    steps = history[-1]["time/env_steps"] if history else 0
    if history.status == "interrupted":
        _error("train", f"interrupted by {history.reason} after {len(history)} iterations ({steps} steps); "
                        f"they are saved in {out}: continue with `python -m trpo_lite train --resume {out}`")
        return EXIT_CODES[history.reason]
    print(f"trained {agent.config.env_id} for {steps} steps; the run is in {out} (progress.csv, agent.pt, "
          "curve.png)")
    return EXIT_CODES["finished"]


def _sweep(args) -> int:
    try:
        from trpo_lite import sweep
    except ImportError as error:
        raise ValueError(f"sweeps need Optuna ({error}): pip install 'trpo_lite[sweep]'") from None
    from trpo_lite.records import write_records

    values = sweep.parse_values(args.grid)
    base = preset(args.env) if args.steps is None else dataclasses.replace(preset(args.env),
                                                                            total_steps=args.steps)
    search = None if args.search is None else {"space": values, "trials": args.search}
    points = [] if search else sweep.grid(values)
    study, ran = sweep.sweep(args.storage, args.study, base, points, args.seeds, args.n_jobs, search,
                             args.threads)
    meta, runs = sweep.export(study)
    for line in sweep.summary(runs):
        print(line)
    print(f"{sum(ran)} runs here, {len(runs)} finished in study {args.study!r} at {args.storage}")
    if args.out is not None:
        write_records(args.out, meta, runs)
        print(f"wrote {args.out}")
    return EXIT_CODES["finished"]


def _evaluate(args) -> int:
    if not args.run.is_dir():
        raise FileNotFoundError(f"run folder {args.run} does not exist (write one with "
                                f"`python -m trpo_lite train --out {args.run}`)")
    agent = load_agent(args.run / "agent.pt")
    env_id = args.env or agent.config.env_id
    returns = evaluate(agent, env_id, args.episodes, args.seed)
    result = {"env_id": env_id, "episodes": args.episodes, "seed": args.seed, "mean": float(np.mean(returns)),
              "std": float(np.std(returns)), "returns": returns.tolist()}
    temporary = args.run / "eval.json.tmp"
    temporary.write_text(json.dumps(result, indent=2))
    os.replace(temporary, args.run / "eval.json")
    print(f"{env_id}: mean return {result['mean']:.2f}, std {result['std']:.2f} over {args.episodes} "
          f"deterministic episodes; wrote {args.run}/eval.json")
    return 0


def _save_curve(history, env_id: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [row["time/env_steps"] for row in history]
    ax.plot(steps, [row["rollout/return_mean"] for row in history], ".", alpha=0.5,
            label="episodes ended in the iteration")
    ax.plot(steps, [row["rollout/return_last10"] for row in history], label="last 10 episodes")
    threshold = gym.spec(env_id).reward_threshold
    if threshold is not None:
        ax.axhline(threshold, color="gray", linestyle="--", label=f"reward threshold {threshold:g}")
    ax.set(xlabel="environment steps", ylabel="mean episode return", title=f"TRPO on {env_id}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
