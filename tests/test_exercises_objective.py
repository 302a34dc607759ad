"""The notebook-00 checkers accept right answers (float64, float32, torch) and name the typical wrong ones
(E1).

The learners' answers are plain Python loops, independent of the package's
``discounted_returns``, which the checkers use.
"""

import numpy as np
import pytest
import torch
from exercise_answers import in_float32, in_torch, nudged, numbers_differ

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.objective import _episodes, check_discounted_return, check_monte_carlo_objective


def loop_return(rewards, gamma):
    total = 0.0
    for t, r in enumerate(rewards):
        total += gamma**t * r
    return total


def backward_return(rewards, gamma):
    g = 0.0
    for r in reversed(list(rewards)):
        g = r + gamma * g
    return g


@pytest.mark.parametrize("right", [
    loop_return,
    backward_return,
    lambda rewards, gamma: np.array([loop_return(rewards, gamma)]),  # one number in an array is fine
    in_float32(backward_return),
    in_float32(lambda rewards, gamma: float(loop_return(rewards, gamma))),  # float32 work, a Python float
    in_torch(loop_return),
    in_torch(in_float32(lambda rewards, gamma: (gamma ** torch.arange(len(rewards)) * rewards).sum())),
], ids=["loop", "backward", "array", "float32", "float32 as float", "torch", "torch float32"])
def test_check_discounted_return_accepts_right_answers(right):
    assert check_discounted_return(right).startswith("Correct")


def all_returns(rewards, gamma):
    return [backward_return(rewards[t:], gamma) for t in range(len(rewards))]


@pytest.mark.parametrize(("wrong", "message"), [
    (lambda rewards, gamma: sum(rewards), "forgot the discount"),
    (lambda rewards, gamma: sum(gamma ** (t + 1) * r for t, r in enumerate(rewards)), r"not gamma\^\(t\+1\)"),
    (lambda rewards, gamma: loop_return(rewards[::-1], gamma), "wrong end"),
    (lambda rewards, gamma: loop_return(rewards, gamma) / len(rewards), "averaged over the steps"),
    (lambda rewards, gamma: rewards[-1], r"last step's return G_\(T-1\)"),
    (all_returns, r"G_t for every step t"),
    (in_float32(lambda rewards, gamma: sum(rewards)), "forgot the discount"),
    (lambda rewards, gamma: np.ones(2), r"one number; got an array of shape \(2,\)"),
    (lambda rewards, gamma: "2.5", "should be numbers; got str"),
    (lambda rewards, gamma: None, "did you forget `return`"),
    (lambda rewards, gamma: loop_return(rewards, gamma) + 0.01,
     r"for rewards \[.*\] and gamma = 0.\d+ \(trial 1\): G_0 should be .*; yours is"),
])
def test_check_discounted_return_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_discounted_return(wrong)


@pytest.mark.parametrize(("answer", "relative"), [
    (backward_return, 3e-8),  # float64: just past 1e-8
    (in_float32(backward_return), 5e-5),  # float32: just past 1e-5
    (in_torch(in_float32(backward_return)), 5e-5),
])
def test_a_slightly_wrong_return_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_discounted_return(nudged(answer, relative))
    assert numbers_differ(str(error.value), "G_0 should be {n}; yours is {n}")


def mean_return(episodes, gamma):
    return sum(loop_return(e, gamma) for e in episodes) / len(episodes)


@pytest.mark.parametrize("right", [
    mean_return,
    lambda eps, gamma: torch.tensor([mean_return(eps, gamma)]),
    in_float32(mean_return),
    in_torch(in_float32(mean_return)),
], ids=["loop", "torch [1]", "float32", "torch float32"])
def test_check_monte_carlo_objective_accepts_right_answers(right):
    assert check_monte_carlo_objective(right).startswith("Correct")


def running_discount(episodes, gamma):
    # one discount clock over the concatenated stream of steps
    stream = [r for e in episodes for r in e]
    return loop_return(stream, gamma) / len(episodes)


@pytest.mark.parametrize(("wrong", "message"), [
    (lambda episodes, gamma: sum(loop_return(e, gamma) for e in episodes), "added up the"),
    (lambda episodes, gamma: sum(loop_return(e, gamma) for e in episodes) / sum(len(e) for e in episodes),
     "per EPISODE"),
    (lambda episodes, gamma: mean_return(episodes, 1.0), "forgot the discount"),
    (running_discount, "restarts at gamma"),
    (lambda episodes, gamma: gamma * mean_return(episodes, gamma), "first reward of each episode"),
    (in_float32(running_discount), "restarts at gamma"),
    (lambda episodes, gamma: [loop_return(e, gamma) for e in episodes], "one number; got an array"),
    (lambda episodes, gamma: mean_return(episodes, gamma) + 0.01, "the estimate of J should be"),
])
def test_check_monte_carlo_objective_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_monte_carlo_objective(wrong)


@pytest.mark.parametrize(("answer", "relative"), [(mean_return, 3e-8), (in_float32(mean_return), 5e-5)])
def test_a_slightly_wrong_estimate_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_monte_carlo_objective(nudged(answer, relative))
    assert numbers_differ(str(error.value), "the estimate of J should be {n}; yours is {n}")


def test_checkers_use_inputs_where_the_mistakes_differ():
    # A mistake could pass unnoticed if, on the checker's inputs, it happened to give the right number:
    # e.g. one-step episodes make per-step and per-episode averages equal.
    rng = np.random.default_rng(0)
    for _ in range(5):
        episodes = _episodes(rng)
        assert len({len(e) for e in episodes}) > 1
        assert not np.isclose(mean_return(episodes, 0.9), running_discount(episodes, 0.9))
