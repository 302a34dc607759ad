"""The notebook-00 checkers accept right answers and name the typical wrong ones (E1).

The learners' answers are plain Python loops, independent of the package's
``discounted_returns``, which the checkers use.
"""

import numpy as np
import pytest
import torch

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
    lambda rewards, gamma: torch.tensor(loop_return(rewards, gamma)),
])
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
    (lambda rewards, gamma: np.ones(2), r"one number; got an array of shape \(2,\)"),
    (lambda rewards, gamma: loop_return(rewards, gamma) + 0.01, r"G_0 should be .*; yours is"),
])
def test_check_discounted_return_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_discounted_return(wrong)


def mean_return(episodes, gamma):
    return sum(loop_return(e, gamma) for e in episodes) / len(episodes)


def test_check_monte_carlo_objective_accepts_a_right_answer():
    assert check_monte_carlo_objective(mean_return).startswith("Correct")
    as_tensor = check_monte_carlo_objective(lambda eps, gamma: torch.tensor([mean_return(eps, gamma)]))
    assert as_tensor.startswith("Correct")


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
    (lambda episodes, gamma: [loop_return(e, gamma) for e in episodes], "one number; got an array"),
    (lambda episodes, gamma: mean_return(episodes, gamma) + 0.01, "the estimate should be"),
])
def test_check_monte_carlo_objective_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_monte_carlo_objective(wrong)


def test_checkers_use_inputs_where_the_mistakes_differ():
    # A mistake could pass unnoticed if, on the checker's inputs, it happened to give the right number:
    # e.g. one-step episodes make per-step and per-episode averages equal.
    rng = np.random.default_rng(0)
    for _ in range(5):
        episodes = _episodes(rng)
        assert len({len(e) for e in episodes}) > 1
        assert not np.isclose(mean_return(episodes, 0.9), running_discount(episodes, 0.9))
