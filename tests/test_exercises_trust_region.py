"""The notebook-04 checkers accept right answers and name the typical mistakes."""

import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.trust_region import check_kl, check_mean_kl, check_penalty_coefficient


def kl_loop(p, q):
    """Plain loops, the textbook sum with 0 log 0 = 0."""
    out = np.zeros(len(p))
    for b in range(len(p)):
        for a in range(p.shape[1]):
            if p[b, a] > 0:
                out[b] += p[b, a] * np.log(p[b, a] / q[b, a])
    return out


def test_check_kl_accepts_a_correct_answer(capsys):
    assert check_kl(kl_loop).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the 0 log 0 mistake divides by zero on purpose
@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda p, q: kl_loop(q, p), "not symmetric"),
        (lambda p, q: kl_loop(p, q) / np.log(2), "log base"),
        (lambda p, q: np.sum(p * np.log(p / q), axis=1), "0 log 0"),
        (lambda p, q: np.sum(p * np.log(p / q), axis=0), "shape"),
        (lambda p, q: -kl_loop(p, q), "sign"),
        (lambda p, q: np.sum(p * (p / q - 1), axis=1), "wrong values"),
    ],
)
def test_check_kl_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_kl(wrong)


def C_from(eps, gamma):
    return 4 * eps * gamma / (1 - gamma) ** 2


def eps(mdp, pi):
    return np.abs(tabular.advantages(mdp, pi)).max()


def test_check_penalty_coefficient_accepts_a_correct_answer():
    def answer(mdp, pi):
        return C_from(eps(mdp, pi), mdp.gamma)

    assert check_penalty_coefficient(answer).startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda m, pi: C_from(eps(m, pi), m.gamma) * (1 - m.gamma), "squared"),
        (lambda m, pi: C_from(eps(m, pi), m.gamma) / 4, "factor 4"),
        (lambda m, pi: C_from(np.abs(tabular.state_values(m, pi)).max(), m.gamma), "not from the values"),
        (lambda m, pi: C_from(np.abs(tabular.action_values(m, pi)).max(), m.gamma), "not from Q"),
        (lambda m, pi: C_from(tabular.advantages(m, pi).max(), m.gamma), "absolute value"),
        (lambda m, pi: C_from(eps(m, pi), m.gamma) / m.gamma, "gamma is missing"),
        (lambda m, pi: C_from(np.abs(tabular.advantages(m, pi)).mean(), m.gamma), "expected C"),
        (lambda m, pi: None, "forget `return`"),
    ],
)
def test_check_penalty_coefficient_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_penalty_coefficient(wrong)


def mean_kl_loop(mdp, old, new):
    nu = tabular.visitation(mdp, old)
    return sum(nu[s] * kl_loop(old[s : s + 1], new[s : s + 1])[0] for s in range(mdp.n_states))


def test_check_mean_kl_accepts_a_correct_answer():
    assert check_mean_kl(mean_kl_loop).startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda m, old, new: kl_loop(old, new) @ tabular.visitation(m, new), "new policy's visitation"),
        (lambda m, old, new: kl_loop(new, old) @ tabular.visitation(m, old), "direction"),
        (lambda m, old, new: kl_loop(old, new).max(), "max_s KL"),
        (lambda m, old, new: kl_loop(old, new).mean(), "plain mean"),
        (lambda m, old, new: kl_loop(old, new) @ m.start.numpy(), "start distribution"),
        (lambda m, old, new: 2 * mean_kl_loop(m, old, new), "expected"),
        (lambda m, old, new: kl_loop(old, new) * tabular.visitation(m, old), "shape"),
    ],
)
def test_check_mean_kl_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_mean_kl(wrong)
