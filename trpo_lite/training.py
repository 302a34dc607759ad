"""train: the TRPO loop (E14) from collecting a batch to logging one row of history.

    repeat until total_steps:
        collect T steps on N copies with pi_theta          (rollout.Sampler)
        V(s_t), V(s_{t+1}); GAE advantages                 (E13)
        policy update: g, CG on H, step scale, line search (E6, E9-E12)
        fit V to the GAE returns
        update the observation statistics; log a row
"""

import dataclasses
import math
import time

import torch
from tqdm.auto import tqdm

from trpo_lite.agent import Agent, update_policy
from trpo_lite.config import TRPOConfig, check_field_names, preset
from trpo_lite.rollout import Sampler, estimate_advantages, make_vector_env
from trpo_lite.value import fit_value


class History(list):
    """One dict per iteration (keys explained in the README), plus ``episodes``: every finished
    training episode in order, {"return", "length", "env_steps", "wall"}."""

    def __init__(self):
        super().__init__()
        self.episodes: list[dict] = []


def train(config: TRPOConfig | str, seed: int = 0, callback=None, progress: bool = True, **overrides):
    """Train a TRPO agent (E14); returns (agent, history).

    Args:
        config: a TRPOConfig, or an env id whose preset (``config.preset``) is used.
        seed: seeds torch (networks, sampling, minibatches) and the environments (see ``rollout.Sampler``).
        callback: called as callback(row) after every iteration, e.g. to redraw a live plot.
        progress: show a tqdm progress bar (renders in notebooks too).
        overrides: TRPOConfig fields to replace, e.g. total_steps=30_000.
    Returns:
        (agent, history). Ctrl-C (or a notebook's stop button) ends training early and
        returns the agent and history of the iterations completed so far.
    """
    config = preset(config) if isinstance(config, str) else config
    check_field_names(overrides)
    config = dataclasses.replace(config, **overrides)
    start = time.perf_counter()
    torch.manual_seed(seed)
    envs = make_vector_env(config.env_id, config.num_envs, config.vectorization)
    agent = Agent(envs.single_observation_space, envs.single_action_space, config)
    value_optimizer = torch.optim.Adam(agent.value_fn.parameters(), lr=config.value_lr, fused=True)
    sampler = Sampler(envs, config.steps_per_env, seed, start)
    history, recent = History(), []
    snapshot = _copy_state(agent)  # the agent as of the last completed iteration
    batch_size = config.num_envs * config.steps_per_env
    iterations = math.ceil(config.total_steps / batch_size)  # whole iterations: total_steps rounded up
    bar = tqdm(total=iterations * batch_size, disable=not progress, unit="step")
    try:
        for _ in range(iterations):
            batch, episodes = sampler.collect(agent)
            values, advantages = estimate_advantages(agent, batch, config.gamma, config.lam)
            targets = (advantages + values).flatten()  # GAE returns: what V should predict
            obs = agent.normalize(batch.obs).flatten(0, 1)
            advantages = advantages.flatten()
            if config.normalize_advantages:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            policy_stats = update_policy(agent.policy, obs, batch.actions.flatten(0, 1), advantages, config)
            value_stats = fit_value(agent.value_fn, value_optimizer, obs, targets, config.value_epochs,
                                    config.value_batch_size)
            if agent.obs_norm is not None:  # after the update, so one batch sees one normalisation
                agent.obs_norm.update(batch.obs)
            history.episodes += episodes
            recent = (recent + [e["return"] for e in episodes])[-10:]
            row = {
                "rollout/return_mean": _mean([e["return"] for e in episodes]),
                "rollout/return_last10": _mean(recent),
                "rollout/length_mean": _mean([e["length"] for e in episodes]),
                "rollout/episodes": len(episodes),
                **policy_stats,
                **value_stats,
                "time/iteration": len(history) + 1,
                "time/env_steps": sampler.env_steps,
                "time/wall": time.perf_counter() - start,
            }
            snapshot = _copy_state(agent)
            history.append(row)
            bar.update(batch_size)
            bar.set_postfix(return_last10=f"{row['rollout/return_last10']:.1f}")
            if callback is not None:
                callback(row)
    except KeyboardInterrupt:
        # An update cut short may sit on an untested line-search step: go back to the last
        # completed iteration, so the agent matches the history.
        agent.load_state_dict(snapshot)
    finally:
        bar.close()
        envs.close()
    return agent, history


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


def _copy_state(agent) -> dict:
    return {k: v.clone() for k, v in agent.state_dict().items()}


def _mean(xs) -> float:
    return sum(xs) / len(xs) if xs else math.nan
