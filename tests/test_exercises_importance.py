"""The notebook-03 checkers accept right answers written as plain loops and name typical mistakes."""

import numpy as np
import pytest
import torch

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.importance import check_estimator_variance, check_importance_estimate


def loop_estimate(actions, advantages, pi_old_probs, pi_new_probs):
    total = 0.0
    for a in actions:
        total += pi_new_probs[a] / pi_old_probs[a] * advantages[a]
    return total / len(actions)


def loop_variance(advantages, pi_old_probs, pi_new_probs, n_samples):
    # Var of one draw by enumerating the actions, then divided by the number of independent draws.
    mean = sum(p * a for p, a in zip(pi_new_probs, advantages, strict=True))
    var_one = 0.0
    for a in range(len(advantages)):
        x = pi_new_probs[a] / pi_old_probs[a] * advantages[a]
        var_one += pi_old_probs[a] * (x - mean) ** 2
    return var_one / n_samples


def test_estimate_checker_accepts_a_loop_and_a_torch_answer(capsys):
    assert check_importance_estimate(loop_estimate).startswith("Correct")

    def torch_answer(actions, advantages, pi_old_probs, pi_new_probs):
        idx = torch.as_tensor(actions)
        rho = torch.as_tensor(pi_new_probs)[idx] / torch.as_tensor(pi_old_probs)[idx]
        return (rho * torch.as_tensor(advantages)[idx]).mean()

    assert check_importance_estimate(torch_answer).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda act, adv, old, new: np.mean(old[act] / new[act] * adv[act]), "upside down"),
        (lambda act, adv, old, new: np.mean(adv[act]), "without the ratio"),
        (lambda act, adv, old, new: np.sum(new[act] / old[act] * adv[act]), "divide by the number"),
        (lambda act, adv, old, new: new @ adv, "exact sum_a pi_new"),
        (lambda act, adv, old, new: np.mean(new / old * adv), "over the action set"),
        (lambda act, adv, old, new: new[act] / old[act] * adv[act], "shape"),
        (lambda act, adv, old, new: np.mean(np.log(new[act] / old[act]) * adv[act]), "the estimate is wrong"),
    ],
)
def test_estimate_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_importance_estimate(wrong)


def test_variance_checker_accepts_a_loop():
    assert check_estimator_variance(loop_variance).startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda adv, old, new, n: np.sum(new**2 / old * adv**2) / n, "subtract the squared mean"),
        (lambda adv, old, new, n: np.sum(new**2 / old * adv**2) - (new @ adv) ** 2, "divides the variance"),
        (lambda adv, old, new, n: np.sqrt(loop_variance(adv, old, new, n)), "standard deviation"),
        (lambda adv, old, new, n: (new @ adv**2 - (new @ adv) ** 2) / n, "sampling from pi_new itself"),
        (lambda adv, old, new, n: (np.sum(new**2 / old * adv**2) - (old @ adv) ** 2) / n, "not E_old"),
        (lambda adv, old, new, n: 2 * loop_variance(adv, old, new, n), "the variance is wrong"),
    ],
)
def test_variance_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_estimator_variance(wrong)


def test_variance_checker_catches_the_upside_down_ratio():
    def upside_down(adv, old, new, n):
        x = old / new * adv
        return (old @ x**2 - (old @ x) ** 2) / n

    with pytest.raises(ExerciseError, match="upside down"):
        check_estimator_variance(upside_down)


def test_checkers_do_not_share_state_between_calls():
    # A learner's function that mutates its inputs must not change the next trial's reference.
    def mutating(actions, advantages, pi_old_probs, pi_new_probs):
        result = loop_estimate(actions, advantages, pi_old_probs, pi_new_probs)
        advantages[:] = 0.0
        return result

    assert check_importance_estimate(mutating).startswith("Correct")
