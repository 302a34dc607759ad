"""The notebook-02 checkers accept correct answers written independently of the package (float64, float32,
torch) and name each typical mistake in nu (E4), L (E5) and the gradient of J by the policy's table."""

import numpy as np
import pytest
import torch
from exercise_answers import nudged, numbers_differ

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.visitation import check_surrogate, check_table_gradient, check_visitation


def arrays(mdp, dtype=np.float64):
    P, R, start = (x.numpy().astype(dtype) for x in (mdp.P, mdp.R, mdp.start))
    return P, R, start, dtype(mdp.gamma)


def power_series_visitation(mdp, pi, start=None, first_t=0, factor=None, transpose=True, dtype=np.float64):
    """A learner's nu by summing (1 - gamma) gamma^t start^T P_pi^t, with knobs for each typical mistake."""
    P, _, mdp_start, gamma = arrays(mdp, dtype)
    P_pi = np.einsum("sa,sat->st", pi.astype(dtype), P)
    step = P_pi if transpose else P_pi.T  # transpose=False moves probability backwards
    d = mdp_start if start is None else start
    nu = np.zeros(len(d), dtype)
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


def torch_visitation(mdp, pi, dtype=torch.float64):
    """nu^T (I - gamma P_pi) = (1 - gamma) start^T, solved in torch."""
    P, start = mdp.P.to(dtype), mdp.start.to(dtype)
    P_pi = torch.einsum("sa,sat->st", torch.as_tensor(pi, dtype=dtype), P)
    return torch.linalg.solve((torch.eye(len(P), dtype=dtype) - mdp.gamma * P_pi).T, (1 - mdp.gamma) * start)


@pytest.mark.parametrize("right", [
    power_series_visitation,
    tabular.visitation,
    lambda mdp, pi: power_series_visitation(mdp, pi, dtype=np.float32),
    torch_visitation,
    lambda mdp, pi: torch_visitation(mdp, pi, torch.float32),
], ids=["power series", "package", "float32", "torch", "torch float32"])
def test_check_visitation_accepts_correct_answers(right):
    assert check_visitation(right).startswith("Correct")


@pytest.mark.parametrize(("dtype", "relative"), [(np.float64, 3e-8), (np.float32, 5e-5)])
def test_a_slightly_wrong_visitation_fails_with_two_different_numbers(dtype, relative):
    with pytest.raises(ExerciseError) as error:
        check_visitation(nudged(lambda mdp, pi: power_series_visitation(mdp, pi, dtype=dtype), relative))
    assert numbers_differ(str(error.value), r"nu should sum to {n} \(.*\); yours sums to {n}")
    # off in one state only, the sum still 1 up to rounding: the entry is named
    with pytest.raises(ExerciseError) as error:
        check_visitation(lambda mdp, pi: power_series_visitation(mdp, pi, dtype=dtype)
                         * dtype(1 + relative) ** np.eye(mdp.n_states, dtype=dtype)[2])
    assert numbers_differ(str(error.value), r"nu\[2\] should be {n}; yours is {n}")


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
        (lambda mdp, pi: 0.5 * tabular.visitation(mdp, pi), "should sum to 1 .* sums to 0.5 "),
        (
            lambda mdp, pi: power_series_visitation(mdp, np.roll(pi, 1, axis=1)),
            r"gamma = 0.6: nu\[\d\] should be .*; yours is .*. Check P_pi",
        ),
    ],
    ids=["no 1-gamma", "not transposed", "no t=0", "uniform start", "state-0 start", "shape", "sum", "other"],
)
def test_check_visitation_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_visitation(wrong)


def numpy_surrogate(mdp, pi_old, pi_new, dtype=np.float64):
    """L from linear solves in the learner's precision: V, Q, A of the old policy and its visitation."""
    P, R, start, gamma = arrays(mdp, dtype)
    old, new = pi_old.astype(dtype), pi_new.astype(dtype)
    I_minus = np.eye(len(P), dtype=dtype) - gamma * np.einsum("sa,sat->st", old, P)
    V = np.linalg.solve(I_minus, (old * R).sum(1))
    A = R + gamma * P @ V - V[:, None]
    nu = np.linalg.solve(I_minus.T, (1 - gamma) * start)
    return start @ V + nu @ (new * A).sum(1) / (1 - gamma)


@pytest.mark.parametrize("right", [
    loop_surrogate,
    tabular.surrogate,
    lambda mdp, old, new: numpy_surrogate(mdp, old, new, np.float32),
    lambda mdp, old, new: torch.tensor([numpy_surrogate(mdp, old, new)]),
    lambda mdp, old, new: torch.tensor(numpy_surrogate(mdp, old, new, np.float32)),
], ids=["loops", "package", "float32", "torch [1]", "torch float32"])
def test_check_surrogate_accepts_correct_answers(right):
    assert numpy_surrogate(*_one_case(), np.float32).dtype == np.float32
    assert check_surrogate(right).startswith("Correct")


def _one_case():
    rng = np.random.default_rng(1)
    mdp = tabular.FiniteMDP.random(rng)
    return mdp, mdp.random_policy(rng), mdp.random_policy(rng)


@pytest.mark.parametrize(("dtype", "relative"), [(np.float64, 3e-8), (np.float32, 5e-5)])
def test_a_slightly_wrong_surrogate_fails_with_two_different_numbers(dtype, relative):
    with pytest.raises(ExerciseError) as error:
        check_surrogate(nudged(lambda mdp, old, new: numpy_surrogate(mdp, old, new, dtype), relative))
    assert numbers_differ(str(error.value), "L should be {n}; yours is {n}")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, visitation_of=new), "equals J\\(new\\)"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, actions_of=old), "equals J\\(old\\) although"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, with_j_old=False), "add J\\(old\\)"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, scale=lambda g: 1.0), "lacks the factor"),
        (lambda mdp, old, new: loop_surrogate(mdp, old, new, scale=lambda g: 1 - g), "instead of divided"),
        (lambda mdp, old, new: tabular.surrogate(mdp, new, old), "swapped the policies"),
        (lambda mdp, old, new: np.array([tabular.surrogate(mdp, old, new)] * 2), r"L should be one number"),
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


def table_gradient(mdp, pi, dtype=np.float64, weight="nu", value="Q", extra_pi=False, factor=None):
    """A learner's dJ/dpi(a|s) from linear solves in the learner's precision, with knobs for each typical
    mistake: the state weight (nu, start, none), A in place of Q, an extra pi(a|s), the factor in front."""
    P, R, start, gamma = arrays(mdp, dtype)
    pi = pi.astype(dtype)
    I_minus = np.eye(len(P), dtype=dtype) - gamma * np.einsum("sa,sat->st", pi, P)
    V = np.linalg.solve(I_minus, (pi * R).sum(1))
    Q = R + gamma * P @ V
    states = {"nu": np.linalg.solve(I_minus.T, (1 - gamma) * start), "start": start,
              "none": np.ones_like(start)}[weight]
    grad = states[:, None] * (Q if value == "Q" else Q - V[:, None]) * (pi if extra_pi else 1)
    return grad * (1 / (1 - gamma) if factor is None else factor)


def autograd_table_gradient(mdp, pi, dtype=torch.float64):
    """dJ/dpi by autograd through a torch solve of the Bellman equation, in the learner's precision."""
    table = torch.tensor(pi, dtype=dtype, requires_grad=True)
    P, R, start = (x.to(dtype) for x in (mdp.P, mdp.R, mdp.start))
    V = torch.linalg.solve(torch.eye(len(P), dtype=dtype) - mdp.gamma * torch.einsum("sa,sat->st", table, P),
                           (table * R).sum(1))
    (grad,) = torch.autograd.grad(start @ V, table)
    return grad


@pytest.mark.parametrize("right", [
    table_gradient,
    lambda mdp, pi: table_gradient(mdp, pi, np.float32),
    autograd_table_gradient,
    lambda mdp, pi: autograd_table_gradient(mdp, pi, torch.float32),
], ids=["numpy", "float32", "torch autograd", "torch float32"])
def test_check_table_gradient_accepts_correct_answers(right):
    assert check_table_gradient(right).startswith("Correct")


@pytest.mark.parametrize(("dtype", "relative"), [(np.float64, 3e-8), (np.float32, 5e-5)])
def test_a_slightly_wrong_table_gradient_fails_with_two_different_numbers(dtype, relative):
    with pytest.raises(ExerciseError) as error:
        check_table_gradient(nudged(lambda mdp, pi: table_gradient(mdp, pi, dtype), relative))
    assert numbers_differ(str(error.value), r"dJ/dpi\[\d, \d\] should be {n}; yours is {n}")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda mdp, pi: table_gradient(mdp, pi, value="A"), "advantage A\\(s, a\\) where the action value"),
        (lambda mdp, pi: table_gradient(mdp, pi, value="A", extra_pi=True), "section 3's softmax gradient"),
        (lambda mdp, pi: table_gradient(mdp, pi, extra_pi=True), "extra factor pi\\(a\\|s\\)"),
        (lambda mdp, pi: table_gradient(mdp, pi, factor=1.0), "factor 1/\\(1 - gamma\\) is missing"),
        (lambda mdp, pi: table_gradient(mdp, pi, weight="start"), "by the start distribution"),
        (lambda mdp, pi: table_gradient(mdp, pi, weight="none"), "every state has the same weight"),
        (lambda mdp, pi: table_gradient(mdp, pi)[:, :2], r"dJ/dpi has shape \(6, 2\), expected \(6, 3\)"),
        (lambda mdp, pi: table_gradient(mdp, np.roll(pi, 1, axis=1)),
         r"gamma = 0.6: dJ/dpi\[.*Differentiate"),
    ],
    ids=["A for Q", "softmax gradient", "extra pi", "no 1/(1-g)", "start", "unweighted", "shape", "other"],
)
def test_check_table_gradient_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_table_gradient(wrong)


def test_table_gradient_mistakes_differ_from_the_answer_and_from_each_other():
    mdp, pi, _ = _one_case()
    answers = [table_gradient(mdp, pi), table_gradient(mdp, pi, value="A"),
               table_gradient(mdp, pi, value="A", extra_pi=True), table_gradient(mdp, pi, extra_pi=True),
               table_gradient(mdp, pi, factor=1.0), table_gradient(mdp, pi, weight="start"),
               table_gradient(mdp, pi, weight="none")]
    gaps = [np.abs(a - b).max() for i, a in enumerate(answers) for b in answers[i + 1 :]]
    assert min(gaps) > 1e-3
