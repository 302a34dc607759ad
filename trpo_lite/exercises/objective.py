"""Checkers for notebook 00: the discounted return of one episode and the Monte Carlo estimate of J (E1).

The references are the package's ``discounted_returns`` (one backward pass
G_t = r_t + gamma G_{t+1}) and ``examples.objective.episode_returns``. On a
mismatch the answer is compared with the usual mistakes, so the message can
say which one was made.

Shapes: T time steps, B episodes.
"""

import numpy as np
import torch

from trpo_lite.examples.objective import episode_returns
from trpo_lite.exercises._base import ExerciseError, as_answer, check_close, is_close, passed
from trpo_lite.gae import discounted_returns
from trpo_lite.language import tr


def _discounted(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t for every t, [T] (E1 inside one episode)."""
    return discounted_returns(torch.from_numpy(rewards), gamma).numpy()


def _return_mistakes(rewards: np.ndarray, gamma: float) -> list:
    """(wrong G_0, message) for the usual slips in E1 on one episode."""
    returns, t = _discounted(rewards, gamma), np.arange(len(rewards))
    return [
        (rewards.sum(), tr("you forgot the discount: each reward r_t counts gamma^t times, not once")),
        (gamma * returns[0], tr("the first reward got discounted too: r_0 counts fully (gamma^0 = 1), so use "
                                "gamma^t, not gamma^(t+1)")),
        (gamma ** t[::-1] @ rewards, tr("you discounted from the wrong end: the LAST reward got weight 1 and "
                                        "the first gamma^(T-1); it is the first that counts fully")),
        (returns[0] / len(rewards), tr("you averaged over the steps; the return is a sum, not a mean")),
        (returns[-1], tr("you returned the last step's return G_(T-1) = r_(T-1); the episode's return starts "
                         "at t = 0")),
    ]


def check_discounted_return(fn, seed: int = 0, trials: int = 5) -> str:
    """Check ``fn(rewards [T], gamma) -> G_0 = sum_t gamma^t r_t`` (E1) on random episodes."""
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        rewards = rng.normal(size=int(rng.integers(3, 12))) + 1.0
        gamma = float(rng.uniform(0.5, 0.95))
        returns = _discounted(rewards, gamma)
        got = fn(rewards.copy(), gamma)
        if np.size(got) == len(rewards) > 1 and is_close(as_answer(tr("G_t"), got, returns.shape), returns):
            raise ExerciseError(tr("you returned G_t for every step t (an array of {n}); the return of the "
                                   "episode is its first entry, G_0, one number", n=len(rewards)))
        check_close(tr("G_0"), got, returns[0], mistakes=_return_mistakes(rewards, gamma),
                    where=tr("for rewards {rewards} and gamma = {gamma:.3f} (trial {trial})",
                             rewards=np.round(rewards, 3).tolist(), gamma=gamma, trial=trial + 1))
    return passed(tr("G_0 = sum_t gamma^t r_t on {trials} random episodes (E1).", trials=trials))


def _episodes(rng: np.random.Generator) -> list[np.ndarray]:
    # Lengths that differ a lot, so per-step and per-episode averages cannot coincide.
    return [rng.normal(size=int(n)) + 1.0 for n in rng.integers(1, 15, size=int(rng.integers(4, 9)))]


def _objective_mistakes(episodes: list[np.ndarray], gamma: float) -> list:
    """(wrong estimate of J, message) for the usual slips in averaging returns over episodes."""
    returns, stream = episode_returns(episodes, gamma), np.concatenate(episodes)
    return [
        (returns.sum(), tr("you added up the {n} episodes' returns; J is their average (divide by the number "
                           "of episodes)", n=len(episodes))),
        (returns.sum() / len(stream), tr("you divided by the number of steps; J averages per EPISODE: each "
                                         "episode's return G_0 counts once, however long the episode")),
        (np.mean([e.sum() for e in episodes]),
         tr("you forgot the discount: inside each episode the reward r_t counts gamma^t times")),
        (gamma ** np.arange(len(stream)) @ stream / len(episodes),
         tr("your discount kept running from one episode into the next; it restarts at gamma^0 = 1 at the "
            "start of every episode (t counts steps within the episode)")),
        (np.mean([gamma ** np.arange(1, len(e) + 1) @ e for e in episodes]),
         tr("the first reward of each episode got discounted too: use gamma^t with t = 0 at the first step")),
    ]


def check_monte_carlo_objective(fn, seed: int = 0, trials: int = 5) -> str:
    """Check ``fn(episodes, gamma) -> J estimate`` (E1): the mean over episodes of G_0 = sum_t gamma^t r_t.

    ``episodes`` is a list of B reward arrays [T_b] of different lengths, each from s_0 to the end.
    """
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        episodes, gamma = _episodes(rng), float(rng.uniform(0.5, 0.95))
        check_close(tr("the estimate of J"), fn([e.copy() for e in episodes], gamma),
                    episode_returns(episodes, gamma).mean(), mistakes=_objective_mistakes(episodes, gamma),
                    where=tr("for these {n} episodes and gamma = {gamma:.3f}", n=len(episodes), gamma=gamma),
                    advice=tr("Compute each episode's G_0, then average"))
    return passed(tr("J = the mean of the episodes' discounted returns, on {trials} random batches (E1).",
                     trials=trials))
