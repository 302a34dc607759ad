"""Checkers for notebook 01: the advantage (E2) and the performance-difference identity (E3, E4).

Each checker runs the learner's function on random finite MDPs and policies,
compares it with ``trpo_lite.tabular``, and on a mismatch tests the answer
against the usual mistakes so that the message can say which one was made.

Shapes: S states, A actions.
"""

from functools import partial

import numpy as np

from trpo_lite import tabular
from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    check_close,
    is_close,
    mismatch,
    name_the_mistake,
    passed,
)
from trpo_lite.language import tr
from trpo_lite.tabular import FiniteMDP


def check_advantages(fn, seed: int = 0, trials: int = 3) -> str:
    """Check ``fn(mdp, pi) -> A^pi`` [S, A] (E2: A = Q - V) on random MDPs and policies."""
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        mdp = FiniteMDP.random(rng, gamma=float(rng.uniform(0.5, 0.95)))
        pi = mdp.random_policy(rng)
        got = fn(mdp, pi.copy())
        shape = (mdp.n_states, mdp.n_actions)
        if np.ndim(got) == 1 and np.size(got) == mdp.n_states:
            raise ExerciseError(tr("your answer has one number per state (shape ({n},)), like V^pi; the "
                                   "advantage A^pi(s, a) needs one per state and action: shape {shape}",
                                   n=mdp.n_states, shape=shape))
        answer = as_answer(tr("your advantages"), got, shape)
        want = tabular.advantages(mdp, pi)
        # A = Q - V subtracts numbers of size max|Q|: their rounding is what an answer carries
        scale = float(np.abs(tabular.action_values(mdp, pi)).max())
        if not is_close(answer, want, scale=scale):
            _explain_advantages(mdp, pi, answer, want, scale)
    return passed(tr("A^pi(s, a) = Q^pi(s, a) - V^pi(s) on {trials} random MDPs (E2).", trials=trials))


def _explain_advantages(mdp: FiniteMDP, pi: np.ndarray, answer: np.ndarray, want: np.ndarray, scale: float):
    v = tabular.state_values(mdp, pi)
    q = tabular.action_values(mdp, pi)
    P, R = mdp.P.numpy(), mdp.R.numpy()
    name_the_mistake(answer, [
        (q, tr("you returned Q^pi(s, a); the advantage subtracts the state's value: A = Q - V (E2)")),
        (np.broadcast_to(v[:, None], q.shape),
         tr("every action in a state got the same number, V^pi(s); A(s, a) = Q(s, a) - V(s) says how much "
            "better action a is than the policy's average in s")),
        (R + P @ v - v[:, None],
         tr("you forgot the discount: A(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) V(s') - V(s); the next "
            "state's value counts gamma times")),
        (-want, tr("the sign is flipped: A = Q - V (positive for an action better than average), not V - Q")),
        (R - v[:, None],
         tr("you left out the future: Q(s, a) = R(s, a) + gamma * E[V(s')], not just R(s, a)")),
    ], scale=scale)
    average = (pi * answer).sum(1).astype(answer.dtype)  # judged at the answer's precision
    s = int(np.abs(average).argmax())
    if not is_close(as_answer(tr("the average advantage"), average[s]), 0.0, scale=scale):
        raise ExerciseError(tr("under pi the advantages of a state must average to 0 (sum_a pi(a|s) "
                               "A(s, a) = 0, because V is the pi-average of Q); yours average to "
                               "{average:.4g} in state {s}", average=average[s], s=s))
    raise mismatch(tr("A^pi"), answer, want, scale=scale)


def _performance_mistakes(mdp: FiniteMDP, pi_old: np.ndarray, pi_new: np.ndarray, want: float) -> list:
    """(wrong right-hand side of E4, message) for the usual slips."""
    gamma = mdp.gamma
    return [
        (tabular.surrogate(mdp, pi_old, pi_new) - tabular.objective(mdp, pi_old),
         tr("you weighted the states by nu of the OLD policy; that is the surrogate's gain (E5, next "
            "notebook), only an approximation. E3/E4 average over the states the NEW policy visits: nu^new")),
        (want * (1 - gamma),
         tr("the factor 1/(1 - gamma) is missing: nu sums to 1, so turning sum_t gamma^t into an average "
            "over nu leaves 1/(1 - gamma) in front (E4)")),
        (want / (1 - gamma),
         tr("your answer is 1/(1 - gamma) times too large: tabular.visitation already includes the "
            "(1 - gamma) that makes nu a distribution, so divide by (1 - gamma) only once")),
        (-want, tr("the sign is flipped: the identity gives J(new) - J(old), the gain of the new policy")),
        (0.0, tr("your answer is 0: averaging a policy's advantages over that same policy's actions always "
                 "gives 0 (E2). Use the OLD policy's advantages A^old with the NEW policy's actions pi_new")),
    ]


def check_performance_difference(fn, seed: int = 0, trials: int = 3) -> str:
    """Check ``fn(mdp, pi_old, pi_new)`` -> the right side of E4, 1/(1-gamma) E_(nu^new, pi_new)[A^old].

    The reference is the left side, J(new) - J(old) (E1), which E3 says it must equal.
    """
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        mdp = FiniteMDP.random(rng, gamma=float(rng.uniform(0.5, 0.95)))
        pi_old, pi_new = mdp.random_policy(rng), mdp.random_policy(rng)
        got = fn(mdp, pi_old.copy(), pi_new.copy())
        J_old, J_new = tabular.objective(mdp, pi_old), tabular.objective(mdp, pi_new)
        # a difference of two values of size |J|: judged at that size
        check_close(tr("J(new) - J(old)"), got, J_new - J_old, scale=max(abs(J_old), abs(J_new)),
                    mistakes=partial(_performance_mistakes, mdp, pi_old, pi_new, J_new - J_old))
    return passed(tr("1/(1-gamma) E_(s~nu_new, a~pi_new)[A_old(s, a)] = J(new) - J(old) on {trials} random "
                     "MDPs (E3, E4).", trials=trials))
