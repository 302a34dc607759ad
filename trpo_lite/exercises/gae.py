"""Checkers for the GAE notebook (E13): TD residuals and the GAE recursion on a vector-env batch.

The learner's function gets torch tensors: rewards, values, next_values
(float64) and terminated, truncated (bool), each [T, N] (and once [T]).
Known mistakes are recognised by computing them with the package and
comparing; anything else is reported at the step where the error starts.
"""

import numpy as np
import torch

from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    close_entries,
    digits,
    is_close,
    name_the_mistake,
    passed,
)
from trpo_lite.gae import discounted_cumsum, gae, td_residuals
from trpo_lite.language import tr


def _batch(rng: np.random.Generator, n_steps: int, n_envs: int | None) -> dict:
    """Random [T, N] (or [T] when n_envs is None) batch where every env has a termination and a truncation."""
    shape = (n_steps, n_envs or 1)
    terminated, truncated = np.zeros(shape, bool), np.zeros(shape, bool)
    for n in range(shape[1]):
        # both ends strictly inside the batch, so cutting (or not) at them changes earlier steps
        term, trunc = rng.choice(np.arange(1, n_steps - 2), size=2, replace=False)
        terminated[term, n], truncated[trunc, n] = True, True
    values = rng.uniform(1, 3, size=shape)
    # inside an episode V(s_{t+1}) is the next row's value; where an episode ends (and at the
    # batch end) it is V of the last observation, which no row holds
    next_values = np.vstack([values[1:], rng.uniform(1, 3, size=(1, shape[1]))])
    ends = terminated | truncated
    next_values[ends] = rng.uniform(1, 3, size=ends.sum())
    arrays = {"rewards": rng.normal(size=shape), "values": values, "next_values": next_values,
              "terminated": terminated, "truncated": truncated}
    squeeze = (lambda x: x[:, 0]) if n_envs is None else (lambda x: x)
    return {name: torch.as_tensor(squeeze(x)) for name, x in arrays.items()}


def _latest_wrong(answer: np.ndarray, expected: np.ndarray, batch: dict, what: str, scale: float) -> str:
    """Where the learner's answer goes wrong: the latest wrong step of the first env that has one.

    A mistake in a backward recursion spreads to earlier steps, so the latest
    wrong step is where it starts.
    """
    wrong = ~close_entries(answer, expected, scale=scale)
    columns = wrong.reshape(wrong.shape[0], -1)
    n = int(np.argmax(columns.any(0)))
    t = int(np.flatnonzero(columns[:, n])[-1])
    index = (t, n) if wrong.ndim == 2 else (t,)
    flags = [name for name in ("terminated", "truncated") if bool(batch[name][index])]
    at = (tr("a step where terminated is True") if flags == ["terminated"] else
          tr("a step where truncated is True") if flags == ["truncated"] else
          tr("an ordinary step (no episode end)"))
    got, want = float(answer[index]), float(expected[index])
    return tr("{what}{index} is {got:.{digits}g}, expected {want:.{digits}g}: the latest wrong step of "
              "that env, where the error starts; it is {at}. {n_wrong} of {n_all} entries are "
              "off.", what=what, index=list(index),
              got=got, want=want, digits=digits(got, want), at=at, n_wrong=int(wrong.sum()),
              n_all=wrong.size)


def _diagnose(got, expected: torch.Tensor, mistakes: list, batch: dict, what: str) -> None:
    """Raise ExerciseError naming the mistake got matches, or the first wrong entry; return if right."""
    answer = as_answer(what, got, tuple(expected.shape))
    # rewards and values are of size 1 to 3: every entry is judged at that size
    scale = float(batch["values"].abs().max())
    if is_close(answer, expected.numpy(), scale=scale):
        return
    name_the_mistake(answer, [(wrong.numpy(), message) for message, wrong in mistakes], scale=scale)
    raise ExerciseError(_latest_wrong(answer, expected.numpy(), batch, what, scale))


def check_td_residuals(fn, seed: int = 0) -> str:
    """Check fn(rewards, values, next_values, terminated, gamma) -> Delta [T] or [T, N] (E13).

    Delta_t = r_t + gamma V(s_{t+1}) - V(s_t), with V(s_{t+1}) = 0 when s_{t+1} is terminal.
    """
    rng = np.random.default_rng(seed)
    for n_envs, gamma in ((4, 0.9), (None, 0.97)):
        b = _batch(rng, 10, n_envs)
        r, v, v_next, term = b["rewards"], b["values"], b["next_values"], b["terminated"]
        mistakes = [
            (tr("You bootstrapped through a terminal state: where terminated is True, s_(t+1) is terminal "
                "and its value is 0, so Delta_t = r_t - V(s_t) there."), r + gamma * v_next - v),
            (tr("You forgot the discount: the next state's value is multiplied by gamma."),
             r + v_next * ~term - v),
            (tr("The sign is flipped: Delta_t = r_t + gamma V(s_(t+1)) - V(s_t), reward plus next value "
                "minus current value."), -td_residuals(r, v, v_next, term, gamma)),
            (tr("You used values[t + 1] for V(s_(t+1)); use next_values[t]: where an episode ends, row t + 1 "
                "holds the first state of a new episode."),
             r + gamma * torch.cat([v[1:], v_next[-1:]]) * ~term - v),
        ]
        got = fn(r.clone(), v.clone(), v_next.clone(), term.clone(), gamma)
        _diagnose(got, td_residuals(r, v, v_next, term, gamma), mistakes, b, tr("Delta"))
    return passed(tr("TD residuals match on a [T, N] batch and on a single env [T]."))


def check_gae(fn, seed: int = 0) -> str:
    """Check fn(rewards, values, next_values, terminated, truncated, gamma, lam) -> advantages (E13).

    A_t = Delta_t + gamma lam A_{t+1}, run backwards and cut at every episode
    end; a truncated step bootstraps from next_values, a terminal one does not.
    """
    rng = np.random.default_rng(seed)
    for n_envs, gamma, lam in ((4, 0.9, 0.8), (None, 0.97, 0.6)):
        b = _batch(rng, 12, n_envs)
        r, v, v_next, term, trunc = b.values()  # _batch's order
        residuals, done, coef = td_residuals(r, v, v_next, term, gamma), term | trunc, gamma * lam
        done_before = torch.cat([torch.zeros_like(done[:1]), done[:-1]])
        forwards = tr("You ran the recursion forwards in time: A_t depends on the future, so start at the "
                      "last step and go backwards (A_(T-1) = Delta_(T-1)).")
        mistakes = [
            (tr("The recursion runs across episode ends: A_t must not add gamma lam A_(t+1) when the episode "
                "ends at step t (terminated or truncated); the next row is a new episode."),
             discounted_cumsum(residuals, coef)),
            (tr("You cut the recursion only at terminations: a truncated step also ends its episode, so "
                "A_(t+1) there belongs to the next episode."), discounted_cumsum(residuals, coef, term)),
            (tr("You treated truncation as termination: a truncated episode did not really end, so its last "
                "step still bootstraps from next_values (only the recursion is cut)."),
             gae(r, v, v_next, done, trunc, gamma, lam)),
            (tr("The recursion uses gamma; it should use gamma * lam: A_t = Delta_t + gamma lam A_(t+1)."),
             discounted_cumsum(residuals, gamma, done)),
            (tr("The recursion uses lam; it should use gamma * lam: A_t = Delta_t + gamma lam A_(t+1)."),
             discounted_cumsum(residuals, lam, done)),
            # forwards, resetting at the episode end either at its last step or one step later
            (forwards, discounted_cumsum(residuals.flip(0), coef, done.flip(0)).flip(0)),
            (forwards, discounted_cumsum(residuals.flip(0), coef, done_before.flip(0)).flip(0)),
        ]
        got = fn(r.clone(), v.clone(), v_next.clone(), term.clone(), trunc.clone(), gamma, lam)
        _diagnose(got, gae(r, v, v_next, term, trunc, gamma, lam), mistakes, b, tr("advantages"))
    return passed(tr("GAE matches on a [T, N] batch and a single env [T], across terminations and "
                     "truncations."))
