"""Checkers for notebook 01: the advantage (E2) and the performance-difference identity (E3, E4).

Each checker runs the learner's function on random finite MDPs and policies,
compares it with ``trpo_lite.tabular``, and on a mismatch tests the answer
against the usual mistakes so that the message can say which one was made.

Shapes: S states, A actions.
"""

import numpy as np

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError, expect_shape, name_the_mistake, passed
from trpo_lite.tabular import FiniteMDP

RTOL, ATOL = 1e-7, 1e-10


def _close(got, want) -> bool:
    return bool(np.allclose(got, want, rtol=RTOL, atol=ATOL))


def check_advantages(fn, seed: int = 0, trials: int = 3) -> str:
    """Check ``fn(mdp, pi) -> A^pi`` [S, A] (E2: A = Q - V) on random MDPs and policies."""
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        mdp = FiniteMDP.random(rng, gamma=float(rng.uniform(0.5, 0.95)))
        pi = mdp.random_policy(rng)
        got = fn(mdp, pi.copy())
        shape = (mdp.n_states, mdp.n_actions)
        if np.ndim(got) == 1 and np.size(got) == mdp.n_states:
            raise ExerciseError(
                f"your answer has one number per state (shape ({mdp.n_states},)), like V^pi; the advantage "
                f"A^pi(s, a) needs one per state and action: shape {shape}"
            )
        got = expect_shape("your advantages", got, shape)
        want = tabular.advantages(mdp, pi)
        if not _close(got, want):
            _explain_advantages(mdp, pi, got, want)
    return passed(f"A^pi(s, a) = Q^pi(s, a) - V^pi(s) on {trials} random MDPs (E2).")


def _explain_advantages(mdp: FiniteMDP, pi: np.ndarray, got: np.ndarray, want: np.ndarray):
    v = tabular.state_values(mdp, pi)
    q = tabular.action_values(mdp, pi)
    P, R = mdp.P.numpy(), mdp.R.numpy()
    mistakes = [
        (q, "you returned Q^pi(s, a); the advantage subtracts the state's value: A = Q - V (E2)"),
        (np.broadcast_to(v[:, None], q.shape),
         "every action in a state got the same number, V^pi(s); A(s, a) = Q(s, a) - V(s) says how much "
         "better action a is than the policy's average in s"),
        (R + P @ v - v[:, None],
         "you forgot the discount: A(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) V(s') - V(s); "
         "the next state's value counts gamma times"),
        (-want, "the sign is flipped: A = Q - V (positive for an action better than average), not V - Q"),
        (R - v[:, None], "you left out the future: Q(s, a) = R(s, a) + gamma * E[V(s')], not just R(s, a)"),
    ]
    name_the_mistake(got, mistakes, RTOL, ATOL)
    average = (pi * got).sum(1)
    s = int(np.abs(average).argmax())
    if abs(average[s]) > 1e-6:
        raise ExerciseError(
            f"under pi the advantages of a state must average to 0 (sum_a pi(a|s) A(s, a) = 0, because V "
            f"is the pi-average of Q); yours average to {average[s]:.4g} in state {s}"
        )
    s, a = np.unravel_index(np.abs(got - want).argmax(), got.shape)
    raise ExerciseError(f"A^pi({s}, {a}) should be {want[s, a]:.6g}; yours is {got[s, a]:.6g}")


def _as_number(got) -> float:
    if np.size(got) != 1:
        raise ExerciseError(f"the answer should be one number (J(new) - J(old)); got shape {np.shape(got)}")
    try:
        return float(np.asarray(got, dtype=float).reshape(()))
    except (TypeError, ValueError) as exc:
        raise ExerciseError(f"the answer should be a number; got {type(got).__name__}") from exc


def check_performance_difference(fn, seed: int = 0, trials: int = 3) -> str:
    """Check ``fn(mdp, pi_old, pi_new)`` -> the right side of E4, 1/(1-gamma) E_{nu^new, pi_new}[A^old].

    The reference is the left side, J(new) - J(old) (E1), which E3 says it must equal.
    """
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        mdp = FiniteMDP.random(rng, gamma=float(rng.uniform(0.5, 0.95)))
        pi_old, pi_new = mdp.random_policy(rng), mdp.random_policy(rng)
        got = _as_number(fn(mdp, pi_old.copy(), pi_new.copy()))
        want = tabular.objective(mdp, pi_new) - tabular.objective(mdp, pi_old)
        if not _close(got, want):
            _explain_performance_difference(mdp, pi_old, pi_new, got, want)
    return passed(
        f"1/(1-gamma) E_(s~nu_new, a~pi_new)[A_old(s, a)] = J(new) - J(old) on {trials} random MDPs (E3, E4)."
    )


def _explain_performance_difference(mdp, pi_old, pi_new, got: float, want: float):
    gamma = mdp.gamma
    surrogate_gain = tabular.surrogate(mdp, pi_old, pi_new) - tabular.objective(mdp, pi_old)
    mistakes = [
        (surrogate_gain,
         "you weighted the states by nu of the OLD policy; that is the surrogate's gain (E5, next notebook), "
         "only an approximation. E3/E4 average over the states the NEW policy visits: nu^new"),
        (want * (1 - gamma),
         "the factor 1/(1 - gamma) is missing: nu sums to 1, so turning sum_t gamma^t into an average over "
         "nu leaves 1/(1 - gamma) in front (E4)"),
        (want / (1 - gamma),
         "your answer is 1/(1 - gamma) times too large: tabular.visitation already includes the (1 - gamma) "
         "that makes nu a distribution, so divide by (1 - gamma) only once"),
        (-want, "the sign is flipped: the identity gives J(new) - J(old), the gain of the new policy"),
        (0.0,
         "your answer is 0: averaging a policy's advantages over that same policy's actions always gives 0 "
         "(E2). Use the OLD policy's advantages A^old with the NEW policy's actions pi_new"),
    ]
    name_the_mistake(got, mistakes, RTOL, ATOL)
    raise ExerciseError(f"expected J(new) - J(old) = {want:.6g}; got {got:.6g}")
