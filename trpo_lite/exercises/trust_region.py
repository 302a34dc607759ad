"""Checkers for notebook 04 (the KL trust region): KL per state, the penalty C (E7), the mean KL (E8).

Each runs the learner's function on random inputs, compares with the package,
and when the answer is wrong, recognises the usual mistakes and names them.
"""

import numpy as np

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError, expect_shape, name_the_mistake, passed
from trpo_lite.tabular import mean_state_kl, state_kl

SEED = 0


def _number(name: str, result) -> float:
    """The learner's scalar answer as a float, or an explanation of what came back instead."""
    if result is None:
        raise ExerciseError(f"{name}: your function returned None; did you forget `return`?")
    return float(expect_shape(name, result, ()))


def _close(a, b) -> bool:
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


def check_kl(fn) -> str:
    """fn(p, q): p, q [B, A] rows of distributions -> [B] D_KL(p_b || q_b) in nats."""
    rng = np.random.default_rng(SEED)
    p, q = rng.dirichlet(np.ones(4), size=6), rng.dirichlet(np.ones(4), size=6)
    got = expect_shape("kl(p, q)", fn(p.copy(), q.copy()), (6,))
    want = state_kl(p, q)
    if not _close(got, want):
        if _close(got, state_kl(q, p)):
            raise ExerciseError("you computed D_KL(q || p): the KL is not symmetric; weight by p, the first "
                                "argument: sum_a p(a) log(p(a) / q(a))")
        if _close(got * np.log(2), want) or _close(got * np.log(10), want):
            raise ExerciseError("wrong log base: use the natural log (np.log), as torch and the package do")
        if _close(got, -want):
            raise ExerciseError("the sign is flipped: KL = sum_a p(a) log(p(a) / q(a)) is never negative")
        raise ExerciseError(f"wrong values: for p = {p[0].round(3)}, q = {q[0].round(3)} expected "
                            f"{want[0]:.6f}, got {got[0]:.6f}; KL(p || q) = sum_a p(a) log(p(a) / q(a))")
    # A policy that never takes an action: 0 log 0 counts as 0, not NaN.
    p[:, 0] = 0.0
    p /= p.sum(1, keepdims=True)
    got = expect_shape("kl(p, q)", fn(p.copy(), q.copy()), (6,))
    if not np.isfinite(got).all():
        raise ExerciseError("NaN or inf when p has a zero: an action p never takes adds nothing "
                            "(0 log 0 = 0); sum only over actions with p(a) > 0")
    if not _close(got, state_kl(p, q)):
        raise ExerciseError("right for full-support p but wrong when p has zeros: terms with p(a) = 0 "
                            "must contribute exactly 0")
    return passed("D_KL(p || q) per row, natural log, zeros handled.")


def check_penalty_coefficient(fn) -> str:
    """fn(mdp, pi_old) -> C = 4 eps gamma / (1 - gamma)^2 with eps = max |A^old| (E7)."""
    rng = np.random.default_rng(SEED)
    cases = []
    for gamma in (0.5, 0.9, 0.97):
        mdp = tabular.FiniteMDP.random(rng, gamma=gamma)
        # Negated rewards negate A: in one of the pair the largest |A| is a negative advantage.
        flipped = tabular.FiniteMDP(mdp.P, -mdp.R, gamma, mdp.start)
        pi = mdp.random_policy(rng)
        cases += [(mdp, pi), (flipped, pi)]
    for mdp, pi in cases:
        gamma = mdp.gamma
        got = _number("C", fn(mdp, pi.copy()))
        want = tabular.penalty_coefficient(mdp, pi)
        if np.isclose(got, want, rtol=1e-6):
            continue
        scale = 4 * gamma / (1 - gamma) ** 2
        adv = tabular.advantages(mdp, pi)
        mistakes = [
            (want * (1 - gamma), "(1 - gamma) must be squared: C = 4 eps gamma / (1 - gamma)^2"),
            (want / 4, "the factor 4 is missing: C = 4 eps gamma / (1 - gamma)^2"),
            (want / gamma, "the factor gamma is missing from the numerator"),
            (scale * np.abs(tabular.state_values(mdp, pi)).max(),
             "eps comes from the advantages A^old (E2), not from the values V"),
            (scale * np.abs(tabular.action_values(mdp, pi)).max(),
             "eps comes from the advantages A = Q - V, not from Q"),
            (scale * adv.max(), "eps is the largest |A^old|: take the absolute value, a very negative "
                                "advantage counts too"),
        ]
        name_the_mistake(got, mistakes, rtol=1e-6, atol=1e-8)
        raise ExerciseError(f"for gamma = {gamma} expected C = {want:.6g}, got {got:.6g}; "
                            "C = 4 eps gamma / (1 - gamma)^2 with eps = max_{s,a} |A^old(s, a)|")
    return passed("C = 4 eps gamma / (1 - gamma)^2, eps = max |A^old|.")


def check_mean_kl(fn) -> str:
    """fn(mdp, pi_old, pi_new) -> E_{s ~ nu^old}[D_KL(pi_old(.|s) || pi_new(.|s))] (E8)."""
    rng = np.random.default_rng(SEED)
    for gamma in (0.6, 0.9):
        mdp = tabular.FiniteMDP.random(rng, gamma=gamma)
        old, new = mdp.random_policy(rng), mdp.random_policy(rng)
        got = _number("the mean KL", fn(mdp, old.copy(), new.copy()))
        want = float(mean_state_kl(mdp, old, new))
        if np.isclose(got, want, rtol=1e-6):
            continue
        kl = state_kl(old, new)
        mistakes = [
            (kl @ tabular.visitation(mdp, new),
             "weighted by the new policy's visitation: the trust region averages over nu^old, "
             "the states the old policy's data visit"),
            (state_kl(new, old) @ tabular.visitation(mdp, old),
             "wrong KL direction: E8 uses D_KL(pi_old || pi_new), old first"),
            (kl.max(), "that is max_s KL, the E7 penalty's distance; E8 averages over s ~ nu^old"),
            (kl.mean(), "a plain mean over states; weight each state by nu^old(s) (tabular.visitation)"),
            (kl @ mdp.start.numpy(),
             "weighted by the start distribution; use the discounted visitation nu^old (E4), "
             "which counts every time step"),
        ]
        name_the_mistake(got, mistakes, rtol=1e-6, atol=1e-8)
        raise ExerciseError(f"for gamma = {gamma} expected {want:.6g}, got {got:.6g}; "
                            "mean KL = sum_s nu^old(s) D_KL(pi_old(.|s) || pi_new(.|s))")
    return passed("E_{s ~ nu^old} D_KL(pi_old || pi_new), the trust region's distance (E8).")
