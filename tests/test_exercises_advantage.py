"""The notebook-01 checkers accept right answers and name the typical wrong ones (E2, E3, E4).

The learners' answers here are written with plain numpy (explicit matrix
inverses), independent of trpo_lite.tabular, which the checkers use.
"""

import numpy as np
import pytest
import torch

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.advantage import check_advantages, check_performance_difference


def _numpy_mdp(mdp):
    return mdp.P.numpy(), mdp.R.numpy(), mdp.gamma, mdp.start.numpy()


def _values(mdp, pi):
    P, R, gamma, _ = _numpy_mdp(mdp)
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.inv(np.eye(len(P)) - gamma * P_pi) @ (pi * R).sum(1)


def _q(mdp, pi, discount=None):
    P, R, gamma, _ = _numpy_mdp(mdp)
    return R + (gamma if discount is None else discount) * P @ _values(mdp, pi)


def right_advantages(mdp, pi):
    return _q(mdp, pi) - _values(mdp, pi)[:, None]


def _visitation(mdp, pi):
    P, _, gamma, start = _numpy_mdp(mdp)
    P_pi = np.einsum("sa,sat->st", pi, P)
    return (1 - gamma) * start @ np.linalg.inv(np.eye(len(P)) - gamma * P_pi)


def right_difference(mdp, pi_old, pi_new):
    return _visitation(mdp, pi_new) @ (pi_new * right_advantages(mdp, pi_old)).sum(1) / (1 - mdp.gamma)


def test_check_advantages_accepts_numpy_and_torch_answers():
    assert check_advantages(right_advantages).startswith("Correct")
    assert check_advantages(lambda mdp, pi: torch.as_tensor(right_advantages(mdp, pi))).startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda mdp, pi: _q(mdp, pi), "returned Q"),
        (lambda mdp, pi: _q(mdp, pi, discount=1.0) - _values(mdp, pi)[:, None], "forgot the discount"),
        (lambda mdp, pi: np.repeat(_values(mdp, pi)[:, None], mdp.n_actions, 1), "the same number, V"),
        (lambda mdp, pi: _values(mdp, pi), r"one number per state \(shape \(5,\)\)"),
        (lambda mdp, pi: -right_advantages(mdp, pi), "sign is flipped"),
        (lambda mdp, pi: right_advantages(mdp, pi).T, r"has shape \(3, 5\), expected \(5, 3\)"),
        (lambda mdp, pi: right_advantages(mdp, pi) + 0.1, "average to 0.1 in state"),
        # Off in a direction that still averages to 0 under pi: only the cell-by-cell message fits.
        (lambda mdp, pi: right_advantages(mdp, pi) + 1e-3 * (np.eye(mdp.n_actions)[0] - pi[:, :1]),
         r"A\^pi\(\d, \d\) should be"),
    ],
)
def test_check_advantages_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_advantages(wrong)


def test_check_performance_difference_accepts_a_right_answer():
    assert check_performance_difference(right_difference).startswith("Correct")
    as_array = check_performance_difference(lambda *args: np.array([right_difference(*args)]))
    assert as_array.startswith("Correct")


def old_visitation(mdp, pi_old, pi_new):
    return _visitation(mdp, pi_old) @ (pi_new * right_advantages(mdp, pi_old)).sum(1) / (1 - mdp.gamma)


def new_advantages(mdp, pi_old, pi_new):
    # A of the new policy averaged over the new policy's actions: 0 by E2.
    return _visitation(mdp, pi_new) @ (pi_new * right_advantages(mdp, pi_new)).sum(1) / (1 - mdp.gamma)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (old_visitation, "nu of the OLD policy"),
        (lambda mdp, old, new: right_difference(mdp, old, new) * (1 - mdp.gamma), r"1/\(1 - gamma\) is miss"),
        (lambda mdp, old, new: right_difference(mdp, old, new) / (1 - mdp.gamma), "times too large"),
        (lambda mdp, old, new: -right_difference(mdp, old, new), "sign is flipped"),
        (new_advantages, "answer is 0"),
        (lambda mdp, old, new: np.full(3, right_difference(mdp, old, new)), "one number"),
        (lambda mdp, old, new: right_difference(mdp, old, new) + 0.01, "expected J\\(new\\) - J\\(old\\) ="),
    ],
)
def test_check_performance_difference_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_performance_difference(wrong)
