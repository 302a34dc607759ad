"""Checkers for notebook 02: the discounted state visitation nu (E4), the surrogate L (E5), and the gradient
of J with respect to the policy's table (section 3's derivation, without the softmax).

Each checker calls the learner's function on a few random finite MDPs (random start
distribution, so starting from the wrong place shows), compares with ``trpo_lite.tabular``,
and when the answer is off, tests it against the typical mistakes to say which one it is.

Shapes: S states, A actions.
"""

from dataclasses import replace

import numpy as np
import torch

from trpo_lite import tabular
from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    check_close,
    digits,
    is_close,
    mismatch,
    name_the_mistake,
    passed,
)
from trpo_lite.language import tr

GAMMAS = (0.6, 0.9, 0.97)  # one random MDP per discount


def _cases(seed: int = 2):
    """(mdp, pi_old, pi_new) on random 6-state, 3-action MDPs, one per gamma in GAMMAS."""
    rng = np.random.default_rng(seed)
    for gamma in GAMMAS:
        mdp = tabular.FiniteMDP.random(rng, n_states=6, n_actions=3, gamma=gamma, concentration=0.5)
        yield mdp, mdp.random_policy(rng), mdp.random_policy(rng, concentration=0.5)


def _visitation_mistakes(mdp: tabular.FiniteMDP, pi: np.ndarray, total: float) -> list:
    """(wrong nu, message) for the usual slips in E4; total is the sum of the learner's nu."""
    S, gamma, start = mdp.n_states, mdp.gamma, mdp.start.numpy()
    nu = tabular.visitation(mdp, pi)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P.numpy())
    return [
        (nu / (1 - gamma), tr("your nu sums to {total:.3f} = 1/(1 - gamma), not 1: the factor (1 - gamma) is "
                              "missing. It makes the weights (1 - gamma) gamma^t add up to 1, so that nu is "
                              "a probability distribution over states.", total=total)),
        ((1 - gamma) * np.linalg.solve(np.eye(S) - gamma * P_pi, start),
         tr("you solved (I - gamma P_pi) x = (1 - gamma) start, which is the equation for values, not for a "
            "distribution. P_pi[s, s'] sends probability forward from s to s', so the distribution at step t "
            "is the row vector start^T P_pi^t and nu^T = (1 - gamma) start^T (I - gamma P_pi)^-1: solve with "
            "the transpose (I - gamma P_pi)^T.")),
        (nu - (1 - gamma) * start, tr("your nu misses the t = 0 term (1 - gamma) start: the sum over t "
                                      "starts at 0, where s_0 is drawn from the start distribution.")),
        (tabular.visitation(replace(mdp, start=np.full(S, 1.0 / S)), pi),
         tr("your nu starts from the uniform distribution over states; use the MDP's start distribution "
            "mdp.start (here it is not uniform).")),
        (tabular.visitation(replace(mdp, start=np.eye(S)[0]), pi),
         tr("your nu starts in state 0; use the MDP's start distribution mdp.start (here it is spread over "
            "all states).")),
    ]


def check_visitation(fn) -> str:
    """Check ``fn(mdp, pi) -> nu``, [S]: nu^pi = (1 - gamma) sum_t gamma^t P(s_t = s | pi) (E4)."""
    for mdp, pi, _ in _cases():
        gamma = mdp.gamma
        answer = as_answer(tr("nu"), fn(mdp, pi.copy()), (mdp.n_states,))
        nu = tabular.visitation(mdp, pi)
        if is_close(answer, nu):
            continue
        name_the_mistake(answer, _visitation_mistakes(mdp, pi, float(answer.sum())), scale=float(nu.max()))
        if not is_close(as_answer(tr("the sum of nu"), answer.sum()), 1.0):
            total = float(answer.sum())
            raise ExerciseError(tr("nu should sum to 1 (it is a probability distribution over states); yours "
                                   "sums to {total:.{digits}g} (gamma = {gamma}).", total=total,
                                   digits=digits(total, 1.0), gamma=gamma))
        raise mismatch(tr("nu"), answer, nu, where=tr("gamma = {gamma}", gamma=gamma),
                       advice=tr("Check P_pi[s, s'] = sum_a pi(a|s) P[s, a, s'] and the discount gamma^t"))
    return passed(tr("nu = (1 - gamma) start^T (I - gamma P_pi)^-1 on {n} random MDPs.", n=len(GAMMAS)))


def _surrogate_mistakes(mdp: tabular.FiniteMDP, old: np.ndarray, new: np.ndarray) -> list:
    """(wrong L, message) for the usual slips in E5."""
    gamma = mdp.gamma
    J_old = tabular.objective(mdp, old)
    gain = tabular.surrogate(mdp, old, new) - J_old
    return [
        (tabular.objective(mdp, new),
         tr("your L equals J(new), the true objective: you weighted the states with the NEW policy's "
            "visitation nu^new (that is E4, exact but unusable: it needs the new policy's data). The "
            "surrogate (E5) keeps the OLD policy's visitation nu^old.")),
        (J_old, tr("your L equals J(old) although pi_new differs from pi_old: the gain term vanished. The "
                   "actions must come from pi_new, scored by the OLD policy's advantages A^old; under "
                   "pi_old, or with A^new under pi_new, advantages average to zero (E2).")),
        (gain, tr("your L is only the predicted improvement: add J(old). L = J(old) + 1/(1 - gamma) "
                  "E_(s ~ nu^old) E_(a ~ new)[A^old(s, a)].")),
        (J_old + (1 - gamma) * gain, tr("the gain term lacks the factor 1/(1 - gamma): nu^old is a "
                                        "distribution (it sums to 1), so the discounted sum over time is "
                                        "1/(1 - gamma) times an average over nu^old (E4).")),
        (J_old + (1 - gamma) ** 2 * gain, tr("the gain term is multiplied by (1 - gamma) instead of divided "
                                             "by it: L = J(old) + 1/(1 - gamma) E_(s ~ nu^old) "
                                             "E_(a ~ new)[A^old(s, a)].")),
        (tabular.surrogate(mdp, new, old), tr("you swapped the policies: this is L_new(old). The old policy "
                                              "supplies the visitation, the advantages and J(old); the new "
                                              "one only picks actions.")),
    ]


def check_surrogate(fn) -> str:
    """Check ``fn(mdp, pi_old, pi_new) -> L``, a number (E5).

    L = J(old) + 1/(1 - gamma) E_(s ~ nu^old) E_(a ~ new)[A^old(s, a)].
    """
    for mdp, old, new in _cases():
        J_old, J_new = tabular.objective(mdp, old), tabular.objective(mdp, new)
        check_close(tr("L"), fn(mdp, old.copy(), new.copy()), tabular.surrogate(mdp, old, new),
                    mistakes=_surrogate_mistakes(mdp, old, new),
                    where=tr("J(old) = {J_old:.5f}, J(new) = {J_new:.5f}, gamma = {gamma}", J_old=J_old,
                             J_new=J_new, gamma=mdp.gamma),
                    advice=tr("Check its three parts: J(old), the average of sum_a pi_new(a|s) A^old(s, a) "
                              "over s ~ nu^old, and the factor 1/(1 - gamma)"))
    return passed(tr("L = J(old) + 1/(1 - gamma) E_(nu_old, pi_new)[A_old] on {n} random MDPs.",
                     n=len(GAMMAS)))


def _table_gradient_mistakes(mdp: tabular.FiniteMDP, pi: np.ndarray) -> list:
    """(wrong dJ/dpi, message) for the usual slips in deriving nu(s) Q(s, a) / (1 - gamma)."""
    gamma, start = mdp.gamma, mdp.start.numpy()[:, None]
    nu, Q = tabular.visitation(mdp, pi)[:, None], tabular.action_values(mdp, pi)
    A = tabular.advantages(mdp, pi)
    return [
        (nu * A / (1 - gamma),
         tr("you have the advantage A(s, a) where the action value Q(s, a) belongs. In E3's derivation "
            "sum_a pi'(a|s) A(s, a) stands for sum_a pi'(a|s) Q(s, a) - V(s) only when pi'(.|s) sums to 1; "
            "an entry of the table that moves alone breaks that, and its derivative keeps all of Q(s, a). "
            "(Through a softmax, which keeps every row a distribution, the chain rule takes V(s) off again: "
            "section 3.)")),
        (nu * pi * A / (1 - gamma),
         tr("this is section 3's softmax gradient dJ/dtheta[s, a] = nu(s) pi(a|s) A(s, a) / (1 - gamma), "
            "not dJ/dpi(a|s): here the table entry itself is the parameter, with no softmax in between.")),
        (nu * pi * Q / (1 - gamma),
         tr("your gradient carries an extra factor pi(a|s). grad pi = pi grad log pi is for a parametrised "
            "policy; here the entry pi(a|s) is itself the parameter, and its derivative by itself is 1.")),
        (nu * Q, tr("the factor 1/(1 - gamma) is missing: nu sums to 1, while a change of pi(a|s) pays off "
                    "at every visit to s, sum_t gamma^t P(s_t = s) = nu(s) / (1 - gamma) (E4).")),
        (start * Q / (1 - gamma),
         tr("you weighted the states by the start distribution; a change of pi(a|s) pays off at every visit "
            "to s, discounted: nu(s) / (1 - gamma) = sum_t gamma^t P(s_t = s) (E4).")),
        (Q / (1 - gamma), tr("every state has the same weight in yours; weight state s by how often the "
                             "agent is there, discounted: nu(s) / (1 - gamma) (E4).")),
    ]


def check_table_gradient(fn) -> str:
    """Check ``fn(mdp, pi) -> dJ/dpi``, [S, A]: the gradient of J with every entry pi(a|s) a parameter of
    its own (rows not renormalised), nu(s) Q(s, a) / (1 - gamma), against autograd through
    ``tabular.objective``."""
    for mdp, pi, _ in _cases():
        table = torch.tensor(pi, requires_grad=True)
        (gradient,) = torch.autograd.grad(tabular.objective(mdp, table), table)
        check_close(tr("dJ/dpi"), fn(mdp, pi.copy()), gradient.numpy(),
                    mistakes=lambda mdp=mdp, pi=pi: _table_gradient_mistakes(mdp, pi),
                    where=tr("gamma = {gamma}", gamma=mdp.gamma),
                    advice=tr("Differentiate V' - V = (I - gamma P_pi')^-1 (r_pi' + gamma P_pi' V - V) at "
                              "pi' = pi, one entry pi(a|s) at a time"))
    return passed(tr("dJ/dpi(a|s) = nu(s) Q(s, a) / (1 - gamma) on {n} random MDPs.", n=len(GAMMAS)))
