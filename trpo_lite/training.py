"""train: the TRPO loop (E14) from collecting a batch to logging one row of history.

    repeat until total_steps:
        collect T steps on N copies with pi_theta          (rollout.Sampler)
        V(s_t), V(s_{t+1}); GAE advantages                 (E13)
        policy update: g, CG on H, step scale, line search (E6, E9-E12)
        fit V to the GAE returns
        update the observation statistics; log a row
"""

import contextlib
import dataclasses
import math
import os
import signal
import threading
import time

import torch
from tqdm.auto import tqdm

from trpo_lite.agent import Agent, update_policy
from trpo_lite.config import TRPOConfig, check_field_names, preset
from trpo_lite.persistence import load_agent
from trpo_lite.rollout import Sampler, estimate_advantages, make_vector_env, standardise
from trpo_lite.run_folder import CHECKPOINT_EVERY, RunFolder
from trpo_lite.value import Adam, fit_value


class History(list):
    """One dict per iteration (keys explained in the README), plus ``episodes``: every finished
    training episode in order, {"return", "length", "env_steps", "wall", "unix_time"} (``Sampler.collect``);
    and ``status``: "finished", or "interrupted" (Ctrl-C, the notebook's stop button, SIGTERM), with
    ``reason``."""

    def __init__(self, rows=(), episodes=()):
        super().__init__(rows)
        self.episodes: list[dict] = list(episodes)
        self.status, self.reason = "running", ""

    def check_finished(self, what: str) -> None:
        """Raise KeyboardInterrupt naming ``what`` was trained when training was interrupted: for callers that
        keep a run only whole (saved results, sweep trials, benchmarks), never a part of it as the run."""
        if self.status != "finished":
            raise KeyboardInterrupt(f"{what}: training was interrupted after {len(self)} iterations "
                                    f"({self.reason}); the run is not recorded")


class TrainingFailed(RuntimeError):
    """Training stopped on an error. ``agent`` and ``history`` hold the completed iterations (the agent
    as it was after the last of them); with a run folder they are on disk too. The error that stopped
    training is the ``__cause__``."""

    def __init__(self, message: str, agent, history: History):
        super().__init__(message)
        self.agent, self.history = agent, history


def train(config: TRPOConfig | str, seed: int = 0, callback=None, progress: bool = True, run_dir=None,
          **overrides):
    """Train a TRPO agent (E14); returns (agent, history).

    Args:
        config: a TRPOConfig, or an env id whose preset (``config.preset``) is used.
        seed: seeds torch (networks, sampling, minibatches) and the environments (see ``rollout.Sampler``).
        callback: called as callback(row) after every iteration, e.g. to redraw a live plot.
        progress: show a tqdm progress bar (renders in notebooks too).
        run_dir: a new (or empty) folder to keep the run in as it goes (``run_folder.RunFolder``): every
            completed iteration is on disk, whatever stops training; ``resume`` continues it.
        overrides: TRPOConfig fields to replace, e.g. total_steps=30_000.
    Returns:
        (agent, history). Ctrl-C (or a notebook's stop button, or SIGTERM) ends training early and
        returns the agent and history of the iterations completed so far (history.status
        "interrupted"). An error raises TrainingFailed, which carries them.
    """
    config = preset(config) if isinstance(config, str) else config
    check_field_names(overrides)
    config = dataclasses.replace(config, **overrides)
    run = None if run_dir is None else RunFolder.create(run_dir, config, seed)
    start = time.perf_counter()
    torch.manual_seed(seed)
    envs = make_vector_env(config.env_id, config.num_envs, config.vectorization)
    agent = Agent(envs.single_observation_space, envs.single_action_space, config)
    value_optimizer = _value_optimizer(agent, config)
    sampler = Sampler(envs, config.steps_per_env, seed, start)
    if run is not None:
        run.checkpoint(agent, value_optimizer, 0)  # so that even a run killed at once can be resumed
    return _loop(agent, value_optimizer, sampler, History(), run, callback, progress)


def resume(run_dir, callback=None, progress: bool = True):
    """Continue the run kept in run_dir (by ``train(..., run_dir=...)`` or the CLI) up to its step budget,
    from its last checkpoint. Returns (agent, history) as ``train`` does, the saved iterations included.

    The networks, the value optimizer, the observation statistics and torch's random stream continue
    where the checkpoint left them, but the environments start new episodes (seeded from the seed and
    the iteration), so a resumed run does not match an uninterrupted one bit for bit.
    """
    run = RunFolder(run_dir)
    config, seed = run.config()
    agent = load_agent(run.path / "agent.pt")
    value_optimizer = _value_optimizer(agent, config)
    rows, episodes = run.truncate(run.restore_state(value_optimizer))
    steps = rows[-1]["time/env_steps"] if rows else 0
    history = History(rows, episodes)
    start = time.perf_counter() - (rows[-1]["time/wall"] if rows else 0.0)
    (run.path / "eval.json").unlink(missing_ok=True)  # it described the agent before this resume
    envs = make_vector_env(config.env_id, config.num_envs, config.vectorization)
    sampler = Sampler(envs, config.steps_per_env, [seed, len(rows)], start)
    sampler.env_steps = steps
    run.set_status("running", iterations=len(rows), env_steps=steps)
    return _loop(agent, value_optimizer, sampler, history, run, callback, progress)


def _loop(agent, value_optimizer, sampler: Sampler, history: History, run: RunFolder | None, callback,
          progress: bool):
    """The E14 iterations from where history ends to the config's step budget, with everything that
    stops them handled: the state of the last completed iteration is what is returned and saved."""
    config, envs = agent.config, sampler.envs
    batch_size = config.num_envs * config.steps_per_env
    iterations = math.ceil(config.total_steps / batch_size)  # whole iterations: total_steps rounded up
    bar = tqdm(total=iterations * batch_size, initial=len(history) * batch_size, disable=not progress,
               unit="step")
    snapshot = _snapshot(agent, value_optimizer)  # as of the last completed iteration
    try:
        with _sigterm_as_interrupt():
            for _ in range(len(history), iterations):
                row, episodes = _iteration(agent, value_optimizer, sampler, history)
                snapshot = _snapshot(agent, value_optimizer)
                history.append(row)
                history.episodes += episodes
                if run is not None:
                    run.append(row, episodes)
                    if len(history) % CHECKPOINT_EVERY == 0:
                        run.checkpoint(agent, value_optimizer, len(history))
                bar.update(batch_size)
                bar.set_postfix(return_last10=f"{row['rollout/return_last10']:.1f}")
                if callback is not None:
                    callback(row)
        history.status = "finished"
    except KeyboardInterrupt as stop:
        # An update cut short may sit on an untested line-search step: go back to the last
        # completed iteration, so the agent matches the history.
        _restore(snapshot, agent, value_optimizer)
        history.status, history.reason = "interrupted", str(stop) or "Ctrl-C"
    except Exception as error:
        _restore(snapshot, agent, value_optimizer)
        history.status, history.reason = "failed", f"{type(error).__name__}: {' '.join(str(error).split())}"
        where = f"; they are saved in {run.path}" if run is not None else ""
        raise TrainingFailed(f"training stopped in iteration {len(history) + 1} ({history.reason}); the "
                             f"agent and history of the {len(history)} completed iterations are kept{where}",
                             agent, history) from error
    finally:
        bar.close()
        envs.close()
        if run is not None:
            run.checkpoint(agent, value_optimizer, len(history))
            steps = history[-1]["time/env_steps"] if history else 0
            run.set_status(history.status, history.reason, len(history), steps)
    return agent, history


def _iteration(agent, value_optimizer, sampler: Sampler, history: History) -> tuple[dict, list[dict]]:
    """One E14 iteration: collect, advantages, policy update, value fit; its history row and episodes."""
    config = agent.config
    batch, episodes = sampler.collect(agent)
    values, advantages = estimate_advantages(agent, batch, config.gamma, config.lam)
    targets = (advantages + values).flatten()  # GAE returns: what V should predict
    obs = agent.normalize(batch.obs).flatten(0, 1)
    advantages = advantages.flatten()
    if config.normalize_advantages:
        advantages = standardise(advantages)
    policy_stats = update_policy(agent.policy, obs, batch.actions.flatten(0, 1), advantages, config)
    value_stats = fit_value(agent.value_fn, value_optimizer, obs, targets, config.value_epochs,
                            config.value_batch_size)
    if agent.obs_norm is not None:  # after the update, so one batch sees one normalisation
        agent.obs_norm.update(batch.obs)
    recent = [e["return"] for e in history.episodes + episodes][-10:]
    row = {
        "rollout/return_mean": _mean([e["return"] for e in episodes]),
        "rollout/return_last10": _mean(recent),
        "rollout/length_mean": _mean([e["length"] for e in episodes]),
        "rollout/episodes": len(episodes),
        **policy_stats,
        **value_stats,
        "time/iteration": len(history) + 1,
        "time/env_steps": sampler.env_steps,
        "time/wall": time.perf_counter() - sampler.start_time,
    }
    return row, episodes


def use_threads(n: int = 1) -> None:
    """Set how many CPU threads torch uses in this process (``torch.set_num_threads``).

    The course's networks and batches are tiny, so threads cost more in start-up and
    synchronisation than they save: one thread trains CartPole fastest on the 2-core course
    machine (measured about 10x faster than the default under load). The thread count also
    changes the last bits of matrix products, so a run reproduces a saved one bit for bit only
    with the thread count it was recorded with (one, for the course's saved results).
    Importing trpo_lite changes nothing; the CLI, the benchmark scripts and the notebooks'
    set-up cells call this.
    """
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        raise ValueError(f"n must be an integer >= 1 (torch CPU threads); got {n!r}")
    torch.set_num_threads(n)


def _value_optimizer(agent, config: TRPOConfig):
    return Adam(agent.value_fn.parameters(), lr=config.value_lr)


def _snapshot(agent, value_optimizer) -> dict:
    """Copies of everything an iteration changes: the agent, the optimizer's state, torch's random state."""
    return {"agent": {k: v.clone() for k, v in agent.state_dict().items()},
            "optimizer": value_optimizer.state_dict(),  # value.Adam's state_dict holds copies already
            "rng": torch.get_rng_state()}


def _restore(snapshot: dict, agent, value_optimizer) -> None:
    agent.load_state_dict(snapshot["agent"])
    value_optimizer.load_state_dict(snapshot["optimizer"])
    torch.set_rng_state(snapshot["rng"])


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler or `kill` stopping the run) ends training as Ctrl-C does. Only the main
    thread of a POSIX process can catch it; elsewhere a killed run keeps what its run folder holds
    (every completed iteration, and the agent of the last checkpoint)."""
    if os.name != "posix" or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _mean(xs) -> float:
    return sum(xs) / len(xs) if xs else math.nan
