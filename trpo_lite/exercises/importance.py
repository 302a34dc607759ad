"""Checkers for notebook 03 (importance sampling, E6), in one state s with A actions.

Each checker draws random policies and advantages, compares the learner's
answer with a reference, and when they differ names the typical mistake the
answer matches.

Shapes: A actions, B sampled actions.
"""

import numpy as np
import torch

from trpo_lite.exercises._base import ExerciseError, expect_shape, name_the_mistake, passed
from trpo_lite.importance import surrogate

SEED = 3
N_TRIALS = 5


def _random_case(rng):
    """Old and new action distributions [A] (full support), advantages [A] and actions [B] ~ pi_old."""
    n_actions, n_samples = int(rng.integers(3, 7)), int(rng.integers(8, 40))
    pi_old, pi_new = rng.dirichlet(np.ones(n_actions), size=2)
    advantages = rng.normal(size=n_actions)
    actions = rng.choice(n_actions, size=n_samples, p=pi_old)
    return actions, advantages, pi_old, pi_new


def _diagnose(got: float, expected: float, mistakes: dict, what: str) -> None:
    """Raise with the message of the first mistake whose value matches got, else a plain mismatch."""
    name_the_mistake(got, [(value, message) for message, value in mistakes.items()], rtol=1e-6, atol=1e-12)
    raise ExerciseError(f"{what}: expected {expected:.6g}, got {got:.6g}")


def check_importance_estimate(fn) -> str:
    """fn(actions [B] int, advantages [A], pi_old_probs [A], pi_new_probs [A]) -> scalar estimate (E6).

    The estimate of E_{a ~ pi_new}[A(s, a)] from actions a_b ~ pi_old:
    mean_b rho(a_b) A(s, a_b) with rho = pi_new / pi_old.
    """
    rng = np.random.default_rng(SEED)
    for _ in range(N_TRIALS):
        actions, adv, pi_old, pi_new = _random_case(rng)
        got = expect_shape("your estimate", fn(actions.copy(), adv.copy(), pi_old.copy(), pi_new.copy()), ())
        log_new, log_old = (torch.as_tensor(np.log(p[actions])) for p in (pi_new, pi_old))
        expected = surrogate(log_new, log_old, torch.as_tensor(adv[actions])).item()
        if np.isclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        rho = pi_new / pi_old
        _diagnose(float(got), expected, {
            "the ratio is upside down: rho = pi_new(a) / pi_old(a), the new policy's probability on top "
            "(we want an expectation under pi_new from samples of pi_old)":
                (adv[actions] / rho[actions]).mean(),
            "you averaged the advantages without the ratio: that estimates E_{a ~ pi_old}[A], the old "
            "policy's value, not the new one's; weight each sample by rho(a_b)":
                adv[actions].mean(),
            "you summed over the samples; the estimate is the mean, so divide by the number of samples B":
                (rho * adv)[actions].sum(),
            "you computed the exact sum_a pi_new(a) A(a) instead of estimating it from the sampled "
            "actions; the point of E6 is that only old-policy samples are available":
                pi_new @ adv,
            "you averaged rho(a) A(a) over the action set; average over the sampled actions "
            "(index by `actions`), so that frequent actions count more often":
                (rho * adv).mean(),
        }, "the estimate is wrong")
    return passed("mean_b rho(a_b) A(a_b), with rho = pi_new / pi_old, is the E6 estimate.")


def check_estimator_variance(fn) -> str:
    """fn(advantages [A], pi_old_probs [A], pi_new_probs [A], n_samples) -> exact Var of the E6 estimate.

    The estimate is mean_b rho(a_b) A(a_b) over n_samples actions a_b ~ pi_old, i.i.d.
    """
    rng = np.random.default_rng(SEED + 1)
    for _ in range(N_TRIALS):
        _, adv, pi_old, pi_new = _random_case(rng)
        n_samples = int(rng.integers(2, 50))
        got = expect_shape("your variance", fn(adv.copy(), pi_old.copy(), pi_new.copy(), n_samples), ())
        one_draw = pi_new / pi_old * adv  # the value of rho A for each action
        mean = pi_old @ one_draw  # = E_new[A]
        expected = pi_old @ (one_draw - mean) ** 2 / n_samples  # the definition, not the shortcut
        if np.isclose(got, expected, rtol=1e-9, atol=1e-14):
            continue
        second = pi_old @ one_draw**2
        _diagnose(float(got), expected, {
            "you returned the second moment E_old[(rho A)^2] / B; subtract the squared mean "
            "(E_new[A])^2 first: Var X = E[X^2] - (E X)^2":
                second / n_samples,
            "you returned the variance of one sample; the estimate averages B = n_samples independent "
            "draws, which divides the variance by B":
                second - mean**2,
            "you returned a standard deviation (the square root of the variance); return the variance":
                np.sqrt((second - mean**2) / n_samples),
            "this is the variance when sampling from pi_new itself; the actions come from pi_old, so each "
            "squared term carries rho^2: E_old[rho^2 A^2] = sum_a pi_new(a)^2 / pi_old(a) A(a)^2":
                (pi_new @ adv**2 - mean**2) / n_samples,
            "the mean of rho A under pi_old is E_new[A] = sum_a pi_new(a) A(a), not E_old[A]":
                (second - (pi_old @ adv) ** 2) / n_samples,
            "the ratio is upside down: rho = pi_new / pi_old":
                (pi_old @ (adv * pi_old / pi_new) ** 2 - (pi_old @ (adv * pi_old / pi_new)) ** 2) / n_samples,
        }, "the variance is wrong")
    return passed("Var = (sum_a pi_new(a)^2 / pi_old(a) A(a)^2 - (sum_a pi_new(a) A(a))^2) / B.")
