"""The notebook-01 checkers accept right answers (float64, float32, torch) and name the typical wrong ones
(E2, E3, E4).

The learners' answers here are written with plain numpy (explicit matrix
inverses), independent of trpo_lite.tabular, which the checkers use.
"""

import numpy as np
import pytest
import torch
from exercise_answers import nudged, numbers_differ

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.advantage import check_advantages, check_performance_difference
from trpo_lite.tabular import FiniteMDP

DTYPE = [np.float64]  # the learner's working precision: the float32 tests switch it


@pytest.fixture
def in_float32():
    DTYPE[0] = np.float32
    yield
    DTYPE[0] = np.float64


def _numpy_mdp(mdp):
    dtype = DTYPE[0]
    P, R, start = (x.numpy().astype(dtype) for x in (mdp.P, mdp.R, mdp.start))
    return P, R, dtype(mdp.gamma), start


def _values(mdp, pi):
    P, R, gamma, _ = _numpy_mdp(mdp)
    pi = pi.astype(P.dtype)
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.inv(np.eye(len(P), dtype=P.dtype) - gamma * P_pi) @ (pi * R).sum(1)


def _q(mdp, pi, discount=None):
    P, R, gamma, _ = _numpy_mdp(mdp)
    return R + (gamma if discount is None else P.dtype.type(discount)) * P @ _values(mdp, pi)


def right_advantages(mdp, pi):
    return _q(mdp, pi) - _values(mdp, pi)[:, None]


def _visitation(mdp, pi):
    P, _, gamma, start = _numpy_mdp(mdp)
    P_pi = np.einsum("sa,sat->st", pi.astype(P.dtype), P)
    return (1 - gamma) * start @ np.linalg.inv(np.eye(len(P), dtype=P.dtype) - gamma * P_pi)


def right_difference(mdp, pi_old, pi_new):
    _, _, gamma, _ = _numpy_mdp(mdp)
    nu, A = _visitation(mdp, pi_new), right_advantages(mdp, pi_old)
    return nu @ (pi_new.astype(nu.dtype) * A).sum(1) / (1 - gamma)


def torch_advantages(mdp, pi):
    """The same in torch: V from a linear solve, Q = R + gamma P V."""
    P, R = mdp.P.to(TORCH[DTYPE[0]]), mdp.R.to(TORCH[DTYPE[0]])
    pi = torch.as_tensor(pi, dtype=P.dtype)
    P_pi = torch.einsum("sa,sat->st", pi, P)
    V = torch.linalg.solve(torch.eye(len(P), dtype=P.dtype) - mdp.gamma * P_pi, (pi * R).sum(1))
    return R + mdp.gamma * P @ V - V[:, None]


TORCH = {np.float64: torch.float64, np.float32: torch.float32}


def test_check_advantages_accepts_numpy_and_torch_answers():
    assert check_advantages(right_advantages).startswith("Correct")
    assert check_advantages(torch_advantages).startswith("Correct")


@pytest.mark.usefixtures("in_float32")
def test_check_advantages_accepts_float32_answers():
    assert right_advantages(*_mdp_and_policy()).dtype == np.float32
    assert check_advantages(right_advantages).startswith("Correct")
    assert check_advantages(torch_advantages).startswith("Correct")


def _mdp_and_policy():
    rng = np.random.default_rng(0)
    mdp = FiniteMDP.random(rng)
    return mdp, mdp.random_policy(rng)


@pytest.mark.parametrize(("precision", "relative"), [(np.float64, 3e-8), (np.float32, 5e-5)])
def test_slightly_wrong_advantages_fail_with_two_different_numbers(precision, relative):
    DTYPE[0] = precision
    try:
        with pytest.raises(ExerciseError) as error:
            # off in a direction that still averages to 0 under pi, so the cell-by-cell message speaks
            check_advantages(lambda mdp, pi: right_advantages(mdp, pi) + (relative * np.abs(_q(mdp, pi)).max()
                             * (np.eye(mdp.n_actions)[0] - pi[:, :1])).astype(precision))
    finally:
        DTYPE[0] = np.float64
    assert numbers_differ(str(error.value), r"A\^pi\[\d, \d\] should be {n}; yours is {n}")


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
         r"A\^pi\[\d, \d\] should be"),
        (lambda mdp, pi: None, "your advantages: your function returned None"),
    ],
)
def test_check_advantages_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_advantages(wrong)


def test_check_performance_difference_accepts_a_right_answer():
    assert check_performance_difference(right_difference).startswith("Correct")
    as_array = check_performance_difference(lambda *args: np.array([right_difference(*args)]))
    assert as_array.startswith("Correct")
    as_tensor = check_performance_difference(lambda *args: torch.tensor(right_difference(*args)))
    assert as_tensor.startswith("Correct")


@pytest.mark.usefixtures("in_float32")
def test_check_performance_difference_accepts_a_float32_answer():
    mdp, pi = _mdp_and_policy()
    assert right_difference(mdp, pi, pi).dtype == np.float32
    assert check_performance_difference(right_difference).startswith("Correct")
    as_tensor = check_performance_difference(lambda *args: torch.tensor(right_difference(*args)))
    assert as_tensor.startswith("Correct")


@pytest.mark.parametrize(("precision", "relative"), [(np.float64, 3e-8), (np.float32, 5e-5)])
def test_a_slightly_wrong_difference_fails_with_two_different_numbers(precision, relative):
    DTYPE[0] = precision
    try:
        with pytest.raises(ExerciseError) as error:
            check_performance_difference(nudged(right_difference, relative))
    finally:
        DTYPE[0] = np.float64
    assert numbers_differ(str(error.value), r"J\(new\) - J\(old\) should be {n}; yours is {n}")


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
        (lambda mdp, old, new: right_difference(mdp, old, new) + 0.01, "J\\(new\\) - J\\(old\\) should be"),
    ],
)
def test_check_performance_difference_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_performance_difference(wrong)
