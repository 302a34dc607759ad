"""Checkers for notebook 03 (importance sampling, E6), in one state s with A actions.

Each checker draws random policies and advantages, compares the learner's
answer with a reference, and when they differ names the typical mistake the
answer matches.

Shapes: A actions, B sampled actions.
"""

import numpy as np
import torch

from trpo_lite.exercises._base import check_close, passed
from trpo_lite.importance import surrogate
from trpo_lite.language import tr

SEED = 3
N_TRIALS = 5


def _random_case(rng):
    """Old and new action distributions [A] (full support), advantages [A] and actions [B] ~ pi_old."""
    n_actions, n_samples = int(rng.integers(3, 7)), int(rng.integers(8, 40))
    pi_old, pi_new = rng.dirichlet(np.ones(n_actions), size=2)
    advantages = rng.normal(size=n_actions)
    actions = rng.choice(n_actions, size=n_samples, p=pi_old)
    return actions, advantages, pi_old, pi_new


def _estimate_mistakes(actions, adv, pi_old, pi_new) -> list:
    """(wrong estimate, message) for the usual slips in E6."""
    rho = pi_new / pi_old
    return [
        ((adv[actions] / rho[actions]).mean(),
         tr("the ratio is upside down: rho = pi_new(a) / pi_old(a), the new policy's probability on top "
            "(we want an expectation under pi_new from samples of pi_old)")),
        (adv[actions].mean(),
         tr("you averaged the advantages without the ratio: that estimates E_(a ~ pi_old)[A], the old "
            "policy's value, not the new one's; weight each sample by rho(a_b)")),
        ((rho * adv)[actions].sum(),
         tr("you summed over the samples; the estimate is the mean, so divide by the number of samples B")),
        (pi_new @ adv,
         tr("you computed the exact sum_a pi_new(a) A(a) instead of estimating it from the sampled actions; "
            "the point of E6 is that only old-policy samples are available")),
        ((rho * adv).mean(),
         tr("you averaged rho(a) A(a) over the action set; average over the sampled actions "
            "(index by `actions`), so that frequent actions count more often")),
    ]


def check_importance_estimate(fn) -> str:
    """fn(actions [B] int, advantages [A], pi_old_probs [A], pi_new_probs [A]) -> scalar estimate (E6).

    The estimate of E_(a ~ pi_new)[A(s, a)] from actions a_b ~ pi_old:
    mean_b rho(a_b) A(s, a_b) with rho = pi_new / pi_old.
    """
    rng = np.random.default_rng(SEED)
    for _ in range(N_TRIALS):
        actions, adv, pi_old, pi_new = _random_case(rng)
        got = fn(actions.copy(), adv.copy(), pi_old.copy(), pi_new.copy())
        log_new, log_old = (torch.as_tensor(np.log(p[actions])) for p in (pi_new, pi_old))
        expected = surrogate(log_new, log_old, torch.as_tensor(adv[actions])).item()
        # a mean of terms of size max|rho A|, which can cancel: judged at that size
        check_close(tr("the estimate"), got, expected, scale=float(np.abs(pi_new / pi_old * adv).max()),
                    mistakes=_estimate_mistakes(actions, adv, pi_old, pi_new))
    return passed(tr("mean_b rho(a_b) A(a_b), with rho = pi_new / pi_old, is the E6 estimate."))


def _variance_mistakes(adv, pi_old, pi_new, n_samples: int) -> list:
    """(wrong variance, message) for the usual slips in Var[mean_b rho(a_b) A(a_b)]."""
    one_draw = pi_new / pi_old * adv
    mean, second = pi_old @ one_draw, pi_old @ one_draw**2
    flipped = adv * pi_old / pi_new
    return [
        (second / n_samples,
         tr("you returned the second moment E_old[(rho A)^2] / B; subtract the squared mean (E_new[A])^2 "
            "first: Var X = E[X^2] - (E X)^2")),
        (second - mean**2,
         tr("you returned the variance of one sample; the estimate averages B = n_samples independent draws, "
            "which divides the variance by B")),
        (np.sqrt((second - mean**2) / n_samples),
         tr("you returned a standard deviation (the square root of the variance); return the variance")),
        ((pi_new @ adv**2 - mean**2) / n_samples,
         tr("this is the variance when sampling from pi_new itself; the actions come from pi_old, so each "
            "squared term carries rho^2: E_old[rho^2 A^2] = sum_a pi_new(a)^2 / pi_old(a) A(a)^2")),
        ((second - (pi_old @ adv) ** 2) / n_samples,
         tr("the mean of rho A under pi_old is E_new[A] = sum_a pi_new(a) A(a), not E_old[A]")),
        ((pi_old @ flipped**2 - (pi_old @ flipped) ** 2) / n_samples,
         tr("the ratio is upside down: rho = pi_new / pi_old")),
    ]


def check_estimator_variance(fn) -> str:
    """fn(advantages [A], pi_old_probs [A], pi_new_probs [A], n_samples) -> exact Var of the E6 estimate.

    The estimate is mean_b rho(a_b) A(a_b) over n_samples actions a_b ~ pi_old, i.i.d.
    """
    rng = np.random.default_rng(SEED + 1)
    for _ in range(N_TRIALS):
        _, adv, pi_old, pi_new = _random_case(rng)
        n_samples = int(rng.integers(2, 50))
        got = fn(adv.copy(), pi_old.copy(), pi_new.copy(), n_samples)
        one_draw = pi_new / pi_old * adv  # the value of rho A for each action
        mean = pi_old @ one_draw  # = E_new[A]
        expected = pi_old @ (one_draw - mean) ** 2 / n_samples  # the definition, not the shortcut
        # E[X^2] - (E X)^2 cancels terms of size E[X^2] / B: judged at that size
        check_close(tr("the variance"), got, expected, scale=float(pi_old @ one_draw**2) / n_samples,
                    mistakes=_variance_mistakes(adv, pi_old, pi_new, n_samples))
    return passed(tr("Var = (sum_a pi_new(a)^2 / pi_old(a) A(a)^2 - (sum_a pi_new(a) A(a))^2) / B."))
