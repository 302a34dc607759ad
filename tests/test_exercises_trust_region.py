"""The notebook-04 checkers accept right answers (float64, float32, torch) and name the typical mistakes."""

import numpy as np
import pytest
import torch
from exercise_answers import in_float32, nudged, numbers_differ

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.trust_region import check_kl, check_mean_kl, check_penalty_coefficient


def kl_loop(p, q):
    """Plain loops, the textbook sum with 0 log 0 = 0, in the inputs' precision."""
    out = np.zeros(len(p), p.dtype)
    for b in range(len(p)):
        for a in range(p.shape[1]):
            if p[b, a] > 0:
                out[b] += p[b, a] * np.log(p[b, a] / q[b, a])
    return out


def kl_torch(p, q):
    p, q = torch.as_tensor(p), torch.as_tensor(q)
    return torch.where(p > 0, p * (p / q).log(), 0.0).sum(1)


def test_check_kl_accepts_a_correct_answer(capsys):
    assert check_kl(kl_loop).startswith("Correct")
    assert check_kl(in_float32(kl_loop)).startswith("Correct")
    assert check_kl(kl_torch).startswith("Correct")
    assert check_kl(in_float32(kl_torch)).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "relative"), [
    (kl_loop, 3e-8), (in_float32(kl_loop), 5e-5), (in_float32(kl_torch), 5e-5)])
def test_a_slightly_wrong_kl_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_kl(nudged(answer, relative))
    assert numbers_differ(str(error.value), r"kl\(p, q\)\[\d\] should be {n}; yours is {n}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the 0 log 0 mistake divides by zero on purpose
@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda p, q: kl_loop(q, p), "not symmetric"),
        (lambda p, q: kl_loop(p, q) / np.log(2), "log base"),
        (lambda p, q: np.sum(p * np.log(p / q), axis=1), "0 log 0"),
        (lambda p, q: np.sum(p * np.log(p / q), axis=0), "shape"),
        (lambda p, q: -kl_loop(p, q), "sign"),
        (lambda p, q: np.sum(p * (p / q - 1), axis=1), r"kl\(p, q\)\[\d\] should be .*; yours is .*\. row b"),
        (in_float32(lambda p, q: kl_loop(q, p)), "not symmetric"),
    ],
)
def test_check_kl_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_kl(wrong)


def C_from(a_max, gamma):
    return 4 * a_max * gamma / (1 - gamma) ** 2


def a_max(mdp, pi):
    return np.abs(tabular.advantages(mdp, pi)).max()


def float32_penalty(mdp, pi):
    """C with every step in float32: V from a float32 solve, A = Q - V, then E7."""
    P, R, gamma = mdp.P.numpy().astype(np.float32), mdp.R.numpy().astype(np.float32), np.float32(mdp.gamma)
    pi = pi.astype(np.float32)
    V = np.linalg.solve(np.eye(len(P), dtype=np.float32) - gamma * np.einsum("sa,sat->st", pi, P),
                        (pi * R).sum(1))
    A = R + gamma * P @ V - V[:, None]
    return C_from(np.abs(A).max(), gamma)


def test_check_penalty_coefficient_accepts_a_correct_answer():
    assert check_penalty_coefficient(lambda mdp, pi: C_from(a_max(mdp, pi), mdp.gamma)).startswith("Correct")
    assert check_penalty_coefficient(float32_penalty).startswith("Correct")
    as_tensor = check_penalty_coefficient(lambda mdp, pi: torch.tensor(float32_penalty(mdp, pi)))
    assert as_tensor.startswith("Correct")


@pytest.mark.parametrize(("answer", "relative"), [
    (lambda mdp, pi: C_from(a_max(mdp, pi), mdp.gamma), 3e-8), (float32_penalty, 5e-5)])
def test_a_slightly_wrong_penalty_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_penalty_coefficient(nudged(answer, relative))
    assert numbers_differ(str(error.value), "C should be {n}; yours is {n}")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda m, pi: C_from(a_max(m, pi), m.gamma) * (1 - m.gamma), "squared"),
        (lambda m, pi: C_from(a_max(m, pi), m.gamma) / 4, "factor 4"),
        (lambda m, pi: C_from(np.abs(tabular.state_values(m, pi)).max(), m.gamma), "not from the values"),
        (lambda m, pi: C_from(np.abs(tabular.action_values(m, pi)).max(), m.gamma), "not from Q"),
        (lambda m, pi: C_from(tabular.advantages(m, pi).max(), m.gamma), "absolute value"),
        (lambda m, pi: C_from(a_max(m, pi), m.gamma) / m.gamma, "gamma is missing"),
        (lambda m, pi: C_from(np.abs(tabular.advantages(m, pi)).mean(), m.gamma),
         "for gamma = 0.5: C should be"),
        (lambda m, pi: float32_penalty(m, pi) / 4, "the factor 4 is missing"),
        (lambda m, pi: None, "forget `return`"),
    ],
)
def test_check_penalty_coefficient_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_penalty_coefficient(wrong)


def mean_kl_loop(mdp, old, new):
    nu = tabular.visitation(mdp, old)
    return sum(nu[s] * kl_loop(old[s : s + 1], new[s : s + 1])[0] for s in range(mdp.n_states))


def float32_mean_kl(mdp, old, new):
    """The mean KL with nu from a float32 solve of nu^T (I - gamma P_old) = (1 - gamma) start^T."""
    P, start = mdp.P.numpy().astype(np.float32), mdp.start.numpy().astype(np.float32)
    gamma = np.float32(mdp.gamma)
    old, new = old.astype(np.float32), new.astype(np.float32)
    I_minus = np.eye(len(P), dtype=np.float32) - gamma * np.einsum("sa,sat->st", old, P)
    return np.linalg.solve(I_minus.T, (1 - gamma) * start) @ kl_loop(old, new)


def test_check_mean_kl_accepts_a_correct_answer():
    assert check_mean_kl(mean_kl_loop).startswith("Correct")
    assert check_mean_kl(float32_mean_kl).startswith("Correct")
    assert check_mean_kl(lambda *args: torch.as_tensor(float32_mean_kl(*args))).startswith("Correct")


@pytest.mark.parametrize(("answer", "relative"), [(mean_kl_loop, 3e-8), (float32_mean_kl, 5e-5)])
def test_a_slightly_wrong_mean_kl_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_mean_kl(nudged(answer, relative))
    assert numbers_differ(str(error.value), "the mean KL should be {n}; yours is {n}")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda m, old, new: kl_loop(old, new) @ tabular.visitation(m, new), "new policy's visitation"),
        (lambda m, old, new: kl_loop(new, old) @ tabular.visitation(m, old), "direction"),
        (lambda m, old, new: kl_loop(old, new).max(), "max_s KL"),
        (lambda m, old, new: kl_loop(old, new).mean(), "plain mean"),
        (lambda m, old, new: kl_loop(old, new) @ m.start.numpy(), "start distribution"),
        (lambda m, old, new: 2 * mean_kl_loop(m, old, new), "for gamma = 0.6: the mean KL should be"),
        (lambda m, old, new: 2 * float32_mean_kl(m, old, new), "the mean KL should be"),
        (lambda m, old, new: kl_loop(old, new) * tabular.visitation(m, old), "shape"),
    ],
)
def test_check_mean_kl_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_mean_kl(wrong)
