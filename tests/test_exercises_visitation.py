"""The notebook-02 checkers accept correct answers written independently of the package and name
each typical mistake in nu (E4) and L (E5)."""

import numpy as np
import pytest

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.visitation import check_surrogate, check_visitation


def arrays(mdp):
    return mdp.P.numpy(), mdp.R.numpy(), mdp.start.numpy(), mdp.gamma


def power_series_visitation(mdp, pi, start=None, first_t=0, factor=None, transpose=True):
    """A learner's nu by summing (1 - gamma) gamma^t start^T P_pi^t, with knobs for each typical mistake."""
    P, _, mdp_start, gamma = arrays(mdp)
    P_pi = np.einsum("sa,sat->st", pi, P)
    step = P_pi if transpose else P_pi.T  # transpose=False moves probability backwards
    d = mdp_start if start is None else start
    nu = np.zeros(len(d))
    for t in range(3000):
        if t >= first_t:
            nu += (1 - gamma if factor is None else factor) * gamma**t * d
        d = d @ step
    return nu


def loop_surrogate(mdp, pi_old, pi_new, with_j_old=True, scale=None, visitation_of=None, actions_of=None):
    """A learner's L with plain loops over s and a, with knobs for each typical mistake."""
    gamma = mdp.gamma
    nu = tabular.visitation(mdp, pi_old if visitation_of is None else visitation_of)
    A = tabular.advantages(mdp, pi_old)
    acting = pi_new if actions_of is None else actions_of
    gain = sum(nu[s] * acting[s, a] * A[s, a] for s in range(mdp.n_states) for a in range(mdp.n_actions))
    base = tabular.objective(mdp, pi_old) if with_j_old else 0.0
    return base + gain * (1 / (1 - gamma) if scale is None else scale(gamma))


def test_check_visitation_accepts_correct_answers():
    assert check_visitation(power_series_visitation).startswith("Correct")
    assert check_visitation(tabular.visitation).startswith("Correct")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda mdp, pi: power_series_visitation(mdp, pi, factor=1.0), r"sums to .* = 1/\(1 - gamma\)"),
        (lambda mdp, pi: power_series_visitation(mdp, pi, transpose=False), "solve with the transpose"),
        (lambda mdp, pi: power_series_visitation(mdp, pi, first_t=1), "misses the t = 0 term"),
        (
            lambda mdp, pi: power_series_visitation(mdp, pi, start=np.full(mdp.n_states, 1 / mdp.n_states)),
            "starts from the uniform distribution",
        ),
        (
            lambda mdp, pi: power_series_visitation(mdp, pi, start=np.eye(mdp.n_states)[0]),
            "starts in state 0",
        ),
        (lambda mdp, pi: tabular.visitation(mdp, pi)[:-1], r"nu has shape \(5,\), expected \(6,\)"),
        (lambda mdp, pi: 0.5 * tabular.visitation(mdp, pi), "should sum to 1 .* sums to 0.5000"),
        (
            lambda mdp, pi: power_series_visitation(mdp, np.roll(pi, 1, axis=1)),
            r"nu is off at state \d: yours",
        ),
    ],
    ids=["no 1-gamma", "not transposed", "no t=0", "uniform start", "state-0 start", "shape", "sum", "other"],
)
def test_check_visitation_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_visitation(wrong)


def test_check_surrogate_accepts_correct_answers():
    assert check_surrogate(loop_surrogate).startswith("Correct")
    assert check_surrogate(tabular.surrogate).startswith("Correct")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, visitation_of=new), "equals J\\(new\\)"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, actions_of=old), "equals J\\(old\\) although"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, with_j_old=False), "add J\\(old\\)"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, scale=lambda g: 1.0), "lacks the factor"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, scale=lambda g: 1 - g), "instead of divided"),
        (lambda mdp, old, new: tabular.surrogate(mdp, new, old), "swapped the policies"),
        (lambda mdp, old, new: np.array([tabular.surrogate(mdp, old, new)]), r"L has shape \(1,\)"),
        (lambda mdp, old, new: 1.1 * tabular.surrogate(mdp, old, new), "Check its three parts"),
    ],
    ids=["J(new)", "old actions", "no J(old)", "no 1/(1-g)", "times 1-g", "swapped", "shape", "other"],
)
def test_check_surrogate_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_surrogate(wrong)


def test_visitation_mistakes_differ_from_the_answer_and_from_each_other():
    """Guard against a parametrized case that passes only because two answers coincide."""
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), size=(4, 2))
    mdp = tabular.FiniteMDP(P, rng.normal(size=(4, 2)), 0.8, rng.dirichlet(np.ones(4)))
    pi = mdp.random_policy(rng)
    answers = [
        power_series_visitation(mdp, pi),
        power_series_visitation(mdp, pi, factor=1.0),
        power_series_visitation(mdp, pi, transpose=False),
        power_series_visitation(mdp, pi, first_t=1),
        power_series_visitation(mdp, pi, start=np.full(4, 0.25)),
        power_series_visitation(mdp, pi, start=np.eye(4)[0]),
    ]
    gaps = [np.abs(a - b).max() for i, a in enumerate(answers) for b in answers[i + 1 :]]
    assert min(gaps) > 1e-3
