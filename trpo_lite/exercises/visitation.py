"""Checkers for notebook 02: the discounted state visitation nu (E4) and the surrogate L (E5).

Each checker calls the learner's function on a few random finite MDPs (random start
distribution, so starting from the wrong place shows), compares with ``trpo_lite.tabular``,
and when the answer is off, tests it against the typical mistakes to say which one it is.

Shapes: S states, A actions.
"""

from dataclasses import replace

import numpy as np

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError, expect_shape, name_the_mistake, passed

GAMMAS = (0.6, 0.9, 0.97)  # one random MDP per discount


def _cases(seed: int = 2):
    """(mdp, pi_old, pi_new) on random 6-state, 3-action MDPs, one per gamma in GAMMAS."""
    rng = np.random.default_rng(seed)
    for gamma in GAMMAS:
        mdp = tabular.FiniteMDP.random(rng, n_states=6, n_actions=3, gamma=gamma, concentration=0.5)
        yield mdp, mdp.random_policy(rng), mdp.random_policy(rng, concentration=0.5)


def _close(a, b) -> bool:
    return np.allclose(a, b, rtol=1e-6, atol=1e-9)


def check_visitation(fn) -> str:
    """Check ``fn(mdp, pi) -> nu``, [S]: nu^pi = (1 - gamma) sum_t gamma^t P(s_t = s | pi) (E4)."""
    for mdp, pi, _ in _cases():
        S, gamma = mdp.n_states, mdp.gamma
        got = expect_shape("nu", fn(mdp, pi.copy()), (S,))
        nu = tabular.visitation(mdp, pi)
        if _close(got, nu):
            continue
        start = mdp.start.numpy()
        P_pi = np.einsum("sa,sat->st", pi, mdp.P.numpy())
        not_transposed = (1 - gamma) * np.linalg.solve(np.eye(S) - gamma * P_pi, start)
        from_uniform = tabular.visitation(replace(mdp, start=np.full(S, 1.0 / S)), pi)
        from_state_0 = tabular.visitation(replace(mdp, start=np.eye(S)[0]), pi)
        name_the_mistake(got, [
            (nu / (1 - gamma), f"your nu sums to {got.sum():.3f} = 1/(1 - gamma), not 1: the factor "
             "(1 - gamma) is missing. It makes the weights (1 - gamma) gamma^t add up to 1, so that nu "
             "is a probability distribution over states."),
            (not_transposed, "you solved (I - gamma P_pi) x = (1 - gamma) start, which is the equation for "
             "values, not for a distribution. P_pi[s, s'] sends probability forward from s to s', so the "
             "distribution at step t is the row vector start^T P_pi^t and nu^T = (1 - gamma) start^T "
             "(I - gamma P_pi)^-1: solve with the transpose (I - gamma P_pi)^T."),
            (nu - (1 - gamma) * start, "your nu misses the t = 0 term (1 - gamma) start: the sum over t "
             "starts at 0, where s_0 is drawn from the start distribution."),
            (from_uniform, "your nu starts from the uniform distribution over states; use the MDP's start "
             "distribution mdp.start (here it is not uniform)."),
            (from_state_0, "your nu starts in state 0; use the MDP's start distribution mdp.start (here it "
             "is spread over all states)."),
        ], rtol=1e-6, atol=1e-9)
        if abs(got.sum() - 1) > 1e-6:
            raise ExerciseError(f"nu should sum to 1 (it is a probability distribution over states); yours "
                                f"sums to {got.sum():.4f} (gamma = {gamma}).")
        s = int(np.abs(got - nu).argmax())
        raise ExerciseError(f"nu is off at state {s}: yours {got[s]:.4f}, exact {nu[s]:.4f} "
                            f"(gamma = {gamma}). Check P_pi[s, s'] = sum_a pi(a|s) P[s, a, s'] and the "
                            "discount gamma^t.")
    return passed(f"nu = (1 - gamma) start^T (I - gamma P_pi)^-1 on {len(GAMMAS)} random MDPs.")


def check_surrogate(fn) -> str:
    """Check ``fn(mdp, pi_old, pi_new) -> L``, a number (E5).

    L = J(old) + 1/(1 - gamma) E_{s ~ nu^old} E_{a ~ new}[A^old(s, a)].
    """
    for mdp, old, new in _cases():
        gamma = mdp.gamma
        got = float(expect_shape("L", fn(mdp, old.copy(), new.copy()), ()))
        L = tabular.surrogate(mdp, old, new)
        if _close(got, L):
            continue
        J_old, J_new = tabular.objective(mdp, old), tabular.objective(mdp, new)
        gain = L - J_old
        name_the_mistake(got, [
            (J_new, "your L equals J(new), the true objective: you weighted the states with the NEW "
             "policy's visitation nu^new (that is E4, exact but unusable: it needs the new policy's data). "
             "The surrogate (E5) keeps the OLD policy's visitation nu^old."),
            (J_old, "your L equals J(old) although pi_new differs from pi_old: the gain term "
             "vanished. The actions must come from pi_new, scored by the OLD policy's advantages A^old; "
             "under pi_old, or with A^new under pi_new, advantages average to zero (E2)."),
            (gain, "your L is only the predicted improvement: add J(old). L = J(old) + 1/(1 - gamma) "
             "E_{s ~ nu^old} E_{a ~ new}[A^old(s, a)]."),
            (J_old + (1 - gamma) * gain, "the gain term lacks the factor 1/(1 - gamma): nu^old is a "
             "distribution (it sums to 1), so the discounted sum over time is 1/(1 - gamma) times an "
             "average over nu^old (E4)."),
            (J_old + (1 - gamma) ** 2 * gain, "the gain term is multiplied by (1 - gamma) instead of divided "
             "by it: L = J(old) + 1/(1 - gamma) E_{s ~ nu^old} E_{a ~ new}[A^old(s, a)]."),
            (tabular.surrogate(mdp, new, old), "you swapped the policies: this is L_new(old). The old "
             "policy supplies the visitation, the advantages and J(old); the new one only picks actions."),
        ], rtol=1e-6, atol=1e-9)
        raise ExerciseError(f"L = {got:.5f}, but the surrogate is {L:.5f} (J(old) = {J_old:.5f}, J(new) = "
                            f"{J_new:.5f}, gamma = {gamma}). Check its three parts: J(old), the average of "
                            "sum_a pi_new(a|s) A^old(s, a) over s ~ nu^old, and the factor 1/(1 - gamma).")
    return passed(f"L = J(old) + 1/(1 - gamma) E_(nu_old, pi_new)[A_old] on {len(GAMMAS)} random MDPs.")
