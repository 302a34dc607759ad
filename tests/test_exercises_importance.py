"""The notebook-03 checkers accept right answers written as plain loops (float64, float32, torch) and name
typical mistakes."""

import numpy as np
import pytest
import torch
from exercise_answers import in_float32, in_torch, nudged, numbers_differ

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
    assert check_importance_estimate(in_float32(torch_answer)).startswith("Correct")
    assert check_importance_estimate(in_float32(loop_estimate)).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "relative"), [
    (loop_estimate, 3e-8), (in_float32(loop_estimate), 5e-5), (in_torch(in_float32(loop_estimate)), 5e-5)])
def test_a_slightly_wrong_estimate_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_importance_estimate(nudged(answer, relative))
    assert numbers_differ(str(error.value), "the estimate should be {n}; yours is {n}")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda act, adv, old, new: np.mean(old[act] / new[act] * adv[act]), "upside down"),
        (lambda act, adv, old, new: np.mean(adv[act]), "without the ratio"),
        (lambda act, adv, old, new: np.sum(new[act] / old[act] * adv[act]), "divide by the number"),
        (lambda act, adv, old, new: new @ adv, "exact sum_a pi_new"),
        (lambda act, adv, old, new: np.mean(new / old * adv), "over the action set"),
        (lambda act, adv, old, new: new[act] / old[act] * adv[act], "shape"),
        (lambda act, adv, old, new: np.mean(np.log(new[act] / old[act]) * adv[act]),
         "the estimate should be"),
        (in_float32(lambda act, adv, old, new: np.mean(adv[act])), "without the ratio"),
    ],
)
def test_estimate_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_importance_estimate(wrong)


def torch_variance(advantages, pi_old_probs, pi_new_probs, n_samples):
    x = pi_new_probs / pi_old_probs * advantages  # rho A for each action
    return (pi_old_probs * x**2).sum() / n_samples - (pi_old_probs * x).sum() ** 2 / n_samples


def test_variance_checker_accepts_float64_float32_and_torch_answers():
    assert check_estimator_variance(loop_variance).startswith("Correct")
    assert check_estimator_variance(in_float32(loop_variance)).startswith("Correct")
    assert check_estimator_variance(in_torch(torch_variance)).startswith("Correct")
    assert check_estimator_variance(in_torch(in_float32(torch_variance))).startswith("Correct")


@pytest.mark.parametrize(("answer", "relative"), [
    (loop_variance, 3e-8), (in_float32(loop_variance), 5e-5), (in_torch(in_float32(torch_variance)), 5e-5)])
def test_a_slightly_wrong_variance_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_estimator_variance(nudged(answer, relative))
    assert numbers_differ(str(error.value), "the variance should be {n}; yours is {n}")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda adv, old, new, n: np.sum(new**2 / old * adv**2) / n, "subtract the squared mean"),
        (lambda adv, old, new, n: np.sum(new**2 / old * adv**2) - (new @ adv) ** 2, "divides the variance"),
        (lambda adv, old, new, n: np.sqrt(loop_variance(adv, old, new, n)), "standard deviation"),
        (lambda adv, old, new, n: (new @ adv**2 - (new @ adv) ** 2) / n, "sampling from pi_new itself"),
        (lambda adv, old, new, n: (np.sum(new**2 / old * adv**2) - (old @ adv) ** 2) / n, "not E_old"),
        (lambda adv, old, new, n: 2 * loop_variance(adv, old, new, n), "the variance should be"),
        (in_float32(lambda adv, old, new, n: np.sqrt(loop_variance(adv, old, new, n))), "standard deviation"),
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
