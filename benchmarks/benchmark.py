"""trpo_lite against sb3-contrib's TRPO, side by side, one run at a time; writes benchmarks/RESULTS.md.

    python benchmarks/benchmark.py                                # 3 envs x 5 seeds x 100k steps
    python benchmarks/benchmark.py --envs CartPole-v1 --seeds 0 1 --steps 50000 --out /tmp/quick.md
    python benchmarks/benchmark.py --mujoco                       # 3 MuJoCo envs x 3 seeds x 300k steps

Both libraries are measured the same way, from real finished training episodes:
- steps (and wall seconds, from the start of training including env creation) until
  the mean return of the last 10 finished training episodes first reaches the threshold;
- the mean return over 20 deterministic episodes after training (the same initial
  states for both: episode k resets with seed 10_000 + k);
- throughput: environment steps per second over the whole run, updates included; beside it, the
  env-only limit: the same vector env (built by ``rollout.make_vector_env`` with the preset's copies)
  stepped with random actions for the same number of steps, measured just before each trpo_lite run;
- with --profile, where the time of `python -m trpo_lite train` on CartPole-v1 goes (py-spy,
  ``pyspy_profile.py``).
Process-wide import costs (torch's optimizer imports torch._dynamo on first use) are paid
once before any timing. Each finished run is kept as a JSON file in --runs (default: a folder beside
--out); a run already there is read instead of trained again, so an interrupted benchmark continues
where it stopped, and two processes (say --libs trpo_lite and --libs sb3-contrib) can share the two
cores and one report. Needs the `bench` extra (sb3-contrib), and the `mujoco` extra for --mujoco.
"""

import argparse
import datetime
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import gymnasium as gym
import numpy as np
import pyspy_profile
import torch

from trpo_lite.config import REWARD_THRESHOLDS, TRPOConfig, preset
from trpo_lite.persistence import evaluate
from trpo_lite.records import load_records, run_environment, write_records
from trpo_lite.rollout import make_vector_env
from trpo_lite.training import train

CLASSIC = ("CartPole-v1", "Acrobot-v1", "Pendulum-v1")
MUJOCO = ("InvertedPendulum-v5", "Hopper-v5", "HalfCheetah-v5")
EVAL_SEED, EVAL_EPISODES, WINDOW = 10_000, 20, 10
PROFILE_RATE = 250  # py-spy samples per second
PACKAGES = ("trpo_lite", "torch", "gymnasium", "numpy", "stable_baselines3", "sb3_contrib")

# rl-baselines3-zoo's tuned TRPO hyperparameters, from hyperparams/trpo.yml
# (https://github.com/DLR-RM/rl-baselines3-zoo/blob/master/hyperparams/trpo.yml), read there.
# "normalize" means the zoo wraps the training env in VecNormalize (observations and rewards).
ZOO = {
    "CartPole-v1": dict(n_envs=2, policy="MlpPolicy", n_steps=512, batch_size=512, cg_damping=1e-3,
                        gae_lambda=0.98, gamma=0.99, learning_rate=1e-3, n_critic_updates=20),
    "Acrobot-v1": dict(normalize=True, n_envs=2, policy="MlpPolicy", n_steps=1024),
    "Pendulum-v1": dict(n_envs=2, policy="MlpPolicy", n_steps=1024, gamma=0.9, n_critic_updates=15,
                        use_sde=True, sde_sample_freq=4),
    # trpo.yml has no InvertedPendulum entry: the zoo then uses its `default` (MlpPolicy, sb3-contrib's
    # defaults). Hopper and HalfCheetah: the file's "mujoco-defaults" (tuned there on v4; v5 has the
    # same dynamics and rewards); HalfCheetah adds target_kl 0.04 (sb3-contrib's name for delta).
    "InvertedPendulum-v5": dict(n_envs=1, policy="MlpPolicy"),
    "Hopper-v5": dict(normalize=True, n_envs=2, policy="MlpPolicy", batch_size=128, n_steps=1024, gamma=0.99,
                      gae_lambda=0.95, sub_sampling_factor=1, cg_max_steps=25, cg_damping=0.1,
                      n_critic_updates=20, learning_rate=1e-3),
}
ZOO["HalfCheetah-v5"] = dict(ZOO["Hopper-v5"], target_kl=0.04)


def crossing(episodes: list[dict], threshold: float) -> dict | None:
    """The finished episode that first brought the mean return of the last WINDOW episodes to threshold."""
    returns = [e["return"] for e in episodes]
    for j in range(WINDOW, len(episodes) + 1):
        if np.mean(returns[j - WINDOW:j]) >= threshold:
            return episodes[j - 1]
    return None


def run_trpo_lite(env_id: str, seed: int, steps: int) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    agent, history = train(env_id, seed=seed, progress=False, total_steps=steps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    history.check_finished(f"{env_id} seed {seed}")
    returns = evaluate(agent, env_id, EVAL_EPISODES, EVAL_SEED)
    return _summary(history.episodes, env_id, history[-1]["time/env_steps"], wall, cpu, returns)


def env_only(env_id: str, seed: int, steps: int) -> float:
    """Env steps per second of the vector env trpo_lite trains on (``make_vector_env`` with the preset's
    copies), stepped with random actions drawn beforehand: the most any agent could do with it."""
    config = preset(env_id)
    envs = make_vector_env(env_id, config.num_envs, config.vectorization)
    envs.action_space.seed(seed)
    actions = [envs.action_space.sample() for _ in range(math.ceil(steps / config.num_envs))]
    start = time.perf_counter()
    envs.reset(seed=seed)
    for action in actions:
        envs.step(action)
    rate = len(actions) * config.num_envs / (time.perf_counter() - start)
    envs.close()
    return rate


def run_sb3(env_id: str, seed: int, steps: int) -> dict:
    from sb3_contrib import TRPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    episodes = []

    class Episodes(BaseCallback):  # the Monitor wrapper puts raw returns in info["episode"]
        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    episodes.append({"return": float(info["episode"]["r"]), "env_steps": self.num_timesteps,
                                     "wall": time.perf_counter() - start})
            return True

    kwargs = dict(ZOO[env_id])
    n_envs, normalize = kwargs.pop("n_envs"), kwargs.pop("normalize", False)
    start, cpu = time.perf_counter(), time.process_time()
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    if normalize:
        env = VecNormalize(env, gamma=kwargs.get("gamma", 0.99))
    model = TRPO(env=env, seed=seed, verbose=0, device="cpu", **kwargs)
    model.learn(total_timesteps=steps, callback=Episodes())
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    returns = _evaluate_sb3(model, env if normalize else None, env_id)
    return _summary(episodes, env_id, model.num_timesteps, wall, cpu, returns)


def _evaluate_sb3(model, vec_normalize, env_id: str) -> np.ndarray:
    """Deterministic episodes on the same initial states as trpo_lite's ``evaluate``."""
    env, returns = gym.make(env_id), []
    for k in range(EVAL_EPISODES):
        obs, _ = env.reset(seed=EVAL_SEED + k)
        total, done = 0.0, False
        while not done:
            seen = obs if vec_normalize is None else vec_normalize.normalize_obs(obs)
            action, _ = model.predict(seen, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    env.close()
    return np.array(returns)


def _summary(episodes, env_id, env_steps, wall, cpu, returns) -> dict:
    hit = crossing(episodes, REWARD_THRESHOLDS[env_id])
    return {"steps_to_threshold": None if hit is None else hit["env_steps"],
            "wall_to_threshold": None if hit is None else hit["wall"],
            "final_return": float(np.mean([e["return"] for e in episodes[-WINDOW:]])),
            "eval_mean": float(returns.mean()), "eval_std": float(returns.std()),
            "steps_per_s": env_steps / wall, "steps_per_cpu_s": env_steps / cpu, "wall": wall}


def _median(xs):
    """Median with a run that never reached the threshold (None) counted as infinitely slow."""
    m = statistics.median([math.inf if x is None else x for x in xs])
    return None if math.isinf(m) else m


def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def machine() -> str:
    return (f"{platform.platform()}, {run_environment()['cpu']}, {os.cpu_count()} logical CPUs, "
            f"Python {platform.python_version()}")


def report(results: dict, args, profile=None) -> str:
    loads = [r[key] for by_lib in results.values() for runs in by_lib.values() for r in runs
             for key in ("load_before", "load_after")]
    lines = [
        "# trpo_lite vs sb3-contrib TRPO",
        "",
        f"Generated by `{shlex.join(['python', 'benchmarks/benchmark.py', *sys.argv[1:]])}` on "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}.",
        "",
        f"- Machine: {machine()}; torch threads: {torch.get_num_threads()}; load average (1 min) "
        f"before and after each run: {min(loads):.2f} to {max(loads):.2f} (well above 0 means other work "
        "shared the CPUs: wall-clock numbers are then pessimistic, steps per CPU second much less so).",
        "- Versions: " + ", ".join(f"{p} {version(p)}" for p in _packages(results)),
        f"- Seeds: {args.seeds}; {args.steps} env steps per run; one run at a time per process (each run's "
        f"result kept in `{_shown(args.runs)}`).",
        f"- Threshold: mean return of the last {WINDOW} finished training episodes "
        f"({', '.join(f'{e} {REWARD_THRESHOLDS[e]:g}' for e in results)}); a run that never reaches it "
        f"counts as slowest in the medians. Final return: the mean of the last {WINDOW} training episodes. "
        f"Evaluation: {EVAL_EPISODES} deterministic episodes, initial states seeded {EVAL_SEED} + k for "
        "both libraries.",
        "- sb3-contrib: rl-baselines3-zoo `hyperparams/trpo.yml` (`ZOO` in benchmark.py). trpo_lite: "
        "`trpo_lite.config.PRESETS`, which differ from `TRPOConfig()` in:",
        *[f"  - {env_id}: {_preset_changes(env_id)}" for env_id in results],
        "",
        "## Medians over seeds",
        "",
        *_table(("env", "library", "steps to threshold", "seeds reaching", "wall s to threshold",
                 "final return", "eval return", "env steps/s", "env steps per CPU s")),
    ]
    for env_id, lib, runs in _runs(results):
        reached = sum(r["steps_to_threshold"] is not None for r in runs)
        lines.append(
            f"| {env_id} | {lib} | {_fmt(_median([r['steps_to_threshold'] for r in runs]), ',.0f')} | "
            f"{reached}/{len(runs)} | {_fmt(_median([r['wall_to_threshold'] for r in runs]), '.1f')} | "
            f"{_median([r['final_return'] for r in runs]):.1f} | "
            f"{_fmt(_median([r['eval_mean'] for r in runs]), '.1f')} | "
            f"{_fmt(_median([r['steps_per_s'] for r in runs]), ',.0f')} | "
            f"{_fmt(_median([r['steps_per_cpu_s'] for r in runs]), ',.0f')} |")
    lines += ["", "## Throughput against the env-only limit", "",
              "The env-only limit: the vector env trpo_lite trains on (`rollout.make_vector_env`, the "
              "preset's copies) stepped with random actions for the same number of steps, just before each "
              "trpo_lite run. The fraction is trpo_lite's throughput over the limit of the same seed "
              "(median over seeds).",
              "", *_table(("env", "copies", "env-only steps/s", "trpo_lite steps/s", "fraction",
                           "fraction per seed"))]
    for env_id, lib, runs in _runs(results):
        if lib == "trpo_lite":
            lines.append(f"| {env_id} | {preset(env_id).num_envs} | "
                         f"{_median([r['env_only_steps_per_s'] for r in runs]):,.0f} | "
                         f"{_median([r['steps_per_s'] for r in runs]):,.0f} | "
                         f"{_median([r['fraction_of_env_only'] for r in runs]):.0%} | "
                         f"{', '.join(format(r['fraction_of_env_only'], '.0%') for r in runs)} |")
    if profile is not None:
        lines += ["", *_profile_section(*profile)]
    lines += ["", "## Targets (trpo_lite against sb3-contrib, medians)", "", *_targets(results), "",
              "## Every run", "", *_table(("env", "library", "seed", "steps to threshold",
                                           "wall s to threshold", "final return", "eval mean +- std",
                                           "env steps/s", "env steps per CPU s"))]
    for env_id, lib, runs in _runs(results):
        for seed, r in zip(args.seeds, runs, strict=True):
            lines.append(f"| {env_id} | {lib} | {seed} | {_fmt(r['steps_to_threshold'], ',')} | "
                         f"{_fmt(r['wall_to_threshold'], '.2f')} | {r['final_return']:.1f} | "
                         f"{r['eval_mean']:.1f} +- {r['eval_std']:.1f} | "
                         f"{r['steps_per_s']:,.0f} | {r['steps_per_cpu_s']:,.0f} |")
    return "\n".join(lines) + "\n"


def _profile_section(columns: dict, load_before: float, load_after: float) -> list[str]:
    return ["## Where the time goes", "",
            "`python -m trpo_lite train --env CartPole-v1 --steps 100000 --seed 0 --no-progress`, sampled by "
            f"py-spy (`pyspy_profile.py`); load average (1 min) before / after: {load_before:.2f} / "
            f"{load_after:.2f}. A part counts every sample with its frame on the stack (imports made inside "
            "train or curve.png count there too); \"other\" is what none of its level's parts holds.", "",
            *pyspy_profile.markdown(columns, PROFILE_RATE)]


def _table(header) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]


def _runs(results: dict):
    for env_id, by_lib in results.items():
        for lib in ("trpo_lite", "sb3-contrib"):
            if by_lib.get(lib):
                yield env_id, lib, by_lib[lib]


def _preset_changes(env_id: str) -> str:
    default, tuned = TRPOConfig().to_dict(), preset(env_id).to_dict()
    changed = [f"{k}={v}" for k, v in tuned.items() if v != default[k] and k != "env_id"]
    return ", ".join(changed) or "nothing"


def _targets(results: dict) -> list[str]:
    """The targets of issue 15 (steps ratio, share of the env-only limit) and of earlier issues."""
    out = []
    for env_id, by_lib in results.items():
        ours, theirs = by_lib.get("trpo_lite"), by_lib.get("sb3-contrib")
        if env_id == "CartPole-v1" and ours:
            fraction = _median([r["fraction_of_env_only"] for r in ours])
            out.append(f"- CartPole-v1: throughput {fraction:.0%} of the env-only limit (target >= 35 %): "
                       f"{'met' if fraction >= 0.35 else 'NOT met'}.")
            wall = _median([r["wall_to_threshold"] for r in ours])
            out.append(f"- CartPole-v1: median wall time to threshold from the start of training "
                       f"{_fmt(wall, '.1f')} s (target <= 5 s): "
                       f"{'met' if wall is not None and wall <= 5 else 'NOT met'}; from the process's start, "
                       "imports included: `benchmarks/time_to_threshold.py`.")
        if not (ours and theirs):
            continue
        if env_id in CLASSIC:
            out.append(_steps_ratio(env_id, ours, theirs))
        else:
            final = [_median([r["final_return"] for r in rs]) for rs in (ours, theirs)]
            evaluated = [_median([r["eval_mean"] for r in rs]) for rs in (ours, theirs)]
            out.append(f"- {env_id}: median final return {final[0]:.0f} vs sb3-contrib's {final[1]:.0f}; "
                       f"median evaluation return {evaluated[0]:.0f} vs {evaluated[1]:.0f}.")
        for key, what in (("steps_per_s", "throughput"), ("steps_per_cpu_s", "steps per CPU second")):
            speed = _median([r[key] for r in ours]) / _median([r[key] for r in theirs])
            goal = f" (target >= 3x): {'met' if speed >= 3 else 'NOT met'}" if env_id in CLASSIC else ""
            out.append(f"- {env_id}: {what} {speed:.1f}x sb3-contrib's{goal}.")
    return out


def _steps_ratio(env_id: str, ours: list[dict], theirs: list[dict]) -> str:
    s_ours, s_theirs = (_median([r["steps_to_threshold"] for r in rs]) for rs in (ours, theirs))
    if s_ours is None or s_theirs is None:
        return f"- {env_id}: steps to threshold: a median is missing (runs that never reached it)."
    all_reach = all(r["steps_to_threshold"] is not None for r in ours)
    met = "met" if s_ours / s_theirs <= 0.55 and all_reach else "NOT met"
    return (f"- {env_id}: steps to threshold {s_ours / s_theirs:.2f}x sb3-contrib's (target <= 0.55x, "
            f"all seeds reaching: {all_reach}): {met}.")


def _packages(env_ids) -> tuple[str, ...]:
    """The packages whose versions a report on env_ids names."""
    return PACKAGES + (("mujoco",) if set(env_ids) & set(MUJOCO) else ())


def _shown(path: Path) -> str:
    """path relative to the working folder where it lies inside it (the report names it so)."""
    path = path.resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def run_once(runs_dir: Path, env_id: str, lib: str, seed: int, steps: int) -> dict:
    """One run's result: read from runs_dir when an earlier invocation finished it with today's settings,
    else trained now and written there at once (atomically), so a stopped benchmark keeps every finished
    run. A kept run made with other settings (a preset or ZOO entry changed since) is an error."""
    path = runs_dir / f"{env_id}_{lib}_seed{seed}_{steps}.json"
    if path.exists():
        kept = load_records(path)
        if kept["meta"].get("settings") != settings(env_id, lib):
            raise SystemExit(f"{path} was made with other settings than {lib}'s for {env_id} today "
                             f"({kept['meta'].get('settings')}); delete it (or its folder) to measure afresh")
        return kept["runs"][0]
    load_before = os.getloadavg()[0]
    limit = env_only(env_id, seed, steps) if lib == "trpo_lite" else None
    r = {"trpo_lite": run_trpo_lite, "sb3-contrib": run_sb3}[lib](env_id, seed, steps)
    if limit is not None:
        r["env_only_steps_per_s"], r["fraction_of_env_only"] = limit, r["steps_per_s"] / limit
    r["load_before"], r["load_after"] = load_before, os.getloadavg()[0]
    write_records(path, {"env_id": env_id, "library": lib, "seed": seed, "steps": steps,
                         "settings": settings(env_id, lib), "machine": machine(),
                         "versions": {p: version(p) for p in _packages([env_id])}}, [r])
    return r


def settings(env_id: str, lib: str) -> dict:
    """What a run of lib on env_id is trained with: trpo_lite's preset, or the zoo's settings for sb3."""
    return preset(env_id).to_dict() if lib == "trpo_lite" else dict(ZOO[env_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mujoco", action="store_true",
                        help=f"the MuJoCo comparison: {', '.join(MUJOCO)}, seeds 0-2, 300k steps, MUJOCO.md "
                             "(any of the options below still applies)")
    parser.add_argument("--envs", nargs="+", choices=CLASSIC + MUJOCO,
                        help=f"environments to run (default: {', '.join(CLASSIC)})")
    parser.add_argument("--seeds", nargs="+", type=int,
                        help="training seeds (default 0-4; 0-2 with --mujoco)")
    parser.add_argument("--steps", type=int,
                        help="environment steps per run (default 100k; 300k with --mujoco)")
    parser.add_argument("--libs", nargs="+", default=["trpo_lite", "sb3-contrib"],
                        choices=["trpo_lite", "sb3-contrib"], help="which libraries to run")
    parser.add_argument("--out", help="where to write the report (default: benchmarks/RESULTS.md, "
                                      "benchmarks/MUJOCO.md with --mujoco)")
    parser.add_argument("--runs", type=Path,
                        help="folder of finished runs, one JSON file each "
                             "(default: runs/<report name> beside the report)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile `python -m trpo_lite train` on CartPole-v1 with py-spy (seed 0, "
                             "100k steps; the PY_SPY variable names py-spy if it is not on the PATH)")
    parser.add_argument("--profile-baseline", nargs=2, metavar=("RAW", "NAME"),
                        help="a py-spy raw file recorded the same way on another version: column NAME")
    args = parser.parse_args()
    here = Path(__file__).parent
    args.envs = args.envs or list(MUJOCO if args.mujoco else CLASSIC)
    args.seeds = args.seeds or ([0, 1, 2] if args.mujoco else [0, 1, 2, 3, 4])
    args.steps = args.steps or (300_000 if args.mujoco else 100_000)
    args.out = Path(args.out or here / ("MUJOCO.md" if args.mujoco else "RESULTS.md"))
    args.runs = args.runs or args.out.parent / "runs" / args.out.stem
    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # pay the one-off optimizer import up front
    results = {}
    for env_id in args.envs:
        gym.make(env_id).close()  # warm the env's imports outside the timed runs
        for lib in args.libs:
            for seed in args.seeds:
                r = run_once(args.runs, env_id, lib, seed, args.steps)
                results.setdefault(env_id, {}).setdefault(lib, []).append(r)
                summary = ", ".join(f"{k} {_fmt(v, '.6g')}" for k, v in r.items())
                print(f"{env_id} {lib} seed {seed}: {summary}", flush=True)
    profile = None
    if args.profile:
        raw = os.path.join(tempfile.mkdtemp(), "profile.raw")
        load = os.getloadavg()[0]
        pyspy_profile.record(raw, 100_000, 0, PROFILE_RATE)
        columns = {}
        if args.profile_baseline is not None:
            baseline, name = args.profile_baseline
            columns[name] = pyspy_profile.aggregate(open(baseline).read().splitlines())
        columns["this version"] = pyspy_profile.aggregate(open(raw).read().splitlines())
        profile = (columns, load, os.getloadavg()[0])
    text = report(results, args, profile)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
