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
from trpo_lite.exercises._base import ExerciseError, name_the_mistake, passed
from trpo_lite.gae import discounted_returns

RTOL, ATOL = 1e-9, 1e-12


def _as_array(got, what: str) -> np.ndarray:
    """The learner's answer (number, list, numpy or torch) as a float array."""
    try:
        return np.asarray(got.detach() if isinstance(got, torch.Tensor) else got, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ExerciseError(f"{what} should be a number; got {type(got).__name__}") from exc


def _as_number(got, what: str) -> float:
    got = _as_array(got, what)
    if got.size != 1:
        raise ExerciseError(f"{what} should be one number; got an array of shape {got.shape}")
    return float(got.reshape(()))


def _discounted(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t for every t, [T] (E1 inside one episode)."""
    return discounted_returns(torch.from_numpy(rewards), gamma).numpy()


def check_discounted_return(fn, seed: int = 0, trials: int = 5) -> str:
    """Check ``fn(rewards [T], gamma) -> G_0 = sum_t gamma^t r_t`` (E1) on random episodes."""
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        rewards = rng.normal(size=int(rng.integers(3, 12))) + 1.0
        gamma = float(rng.uniform(0.5, 0.95))
        want_all = _discounted(rewards, gamma)
        got = _as_array(fn(rewards.copy(), gamma), "the discounted return")
        if got.size == len(rewards) > 1 and np.allclose(got.ravel(), want_all, rtol=RTOL, atol=ATOL):
            raise ExerciseError(f"you returned G_t for every step t (an array of {len(rewards)}); the return "
                                "of the episode is its first entry, G_0, one number")
        got = _as_number(got, "the discounted return")
        if np.isclose(got, want_all[0], rtol=RTOL, atol=ATOL):
            continue
        t = np.arange(len(rewards))
        name_the_mistake(got, [
            (rewards.sum(), "you forgot the discount: each reward r_t counts gamma^t times, not once"),
            (gamma * want_all[0], "the first reward got discounted too: r_0 counts fully (gamma^0 = 1), so "
                                  "use gamma^t, not gamma^(t+1)"),
            (gamma ** t[::-1] @ rewards, "you discounted from the wrong end: the LAST reward got weight 1 "
                                         "and the first gamma^(T-1); it is the first that counts fully"),
            (want_all[0] / len(rewards), "you averaged over the steps; the return is a sum, not a mean"),
            (want_all[-1], "you returned the last step's return G_(T-1) = r_(T-1); the episode's return "
                           "starts at t = 0"),
        ], RTOL, ATOL)
        raise ExerciseError(f"for rewards {np.round(rewards, 3).tolist()} and gamma = {gamma:.3f} (trial "
                            f"{trial + 1}), G_0 should be {want_all[0]:.6g}; yours is {got:.6g}")
    return passed(f"G_0 = sum_t gamma^t r_t on {trials} random episodes (E1).")


def _episodes(rng: np.random.Generator) -> list[np.ndarray]:
    # Lengths that differ a lot, so per-step and per-episode averages cannot coincide.
    return [rng.normal(size=int(n)) + 1.0 for n in rng.integers(1, 15, size=int(rng.integers(4, 9)))]


def check_monte_carlo_objective(fn, seed: int = 0, trials: int = 5) -> str:
    """Check ``fn(episodes, gamma) -> J estimate`` (E1): the mean over episodes of G_0 = sum_t gamma^t r_t.

    ``episodes`` is a list of B reward arrays [T_b] of different lengths, each from s_0 to the end.
    """
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        episodes, gamma = _episodes(rng), float(rng.uniform(0.5, 0.95))
        returns = episode_returns(episodes, gamma)
        got = _as_number(fn([e.copy() for e in episodes], gamma), "the estimate of J")
        if np.isclose(got, returns.mean(), rtol=RTOL, atol=ATOL):
            continue
        stream = np.concatenate(episodes)
        n_steps = len(stream)
        name_the_mistake(got, [
            (returns.sum(), f"you added up the {len(episodes)} episodes' returns; J is their average "
                            "(divide by the number of episodes)"),
            (returns.sum() / n_steps, "you divided by the number of steps; J averages per EPISODE: "
                                      "each episode's return G_0 counts once, however long the episode"),
            (np.mean([e.sum() for e in episodes]), "you forgot the discount: inside each episode the reward "
                                                   "r_t counts gamma^t times"),
            (gamma ** np.arange(n_steps) @ stream / len(episodes),
             "your discount kept running from one episode into the next; it restarts at gamma^0 = 1 at the "
             "start of every episode (t counts steps within the episode)"),
            (np.mean([gamma ** np.arange(1, len(e) + 1) @ e for e in episodes]),
             "the first reward of each episode got discounted too: use gamma^t with t = 0 at the first step"),
        ], RTOL, ATOL)
        raise ExerciseError(f"for these {len(episodes)} episodes and gamma = {gamma:.3f}, the estimate "
                            f"should be {returns.mean():.6g}; yours is {got:.6g}. Compute each episode's "
                            "G_0, then average")
    return passed(f"J = the mean of the episodes' discounted returns, on {trials} random batches (E1).")
