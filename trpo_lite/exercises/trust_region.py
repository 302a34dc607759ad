"""Checkers for notebook 04 (the KL trust region): KL per state, the penalty C (E7), the mean KL (E8).

Each runs the learner's function on random inputs, compares with the package,
and when the answer is wrong, recognises the usual mistakes and names them.
"""

import numpy as np

from trpo_lite import tabular
from trpo_lite.exercises._base import ExerciseError, as_answer, check_close, is_close, passed
from trpo_lite.language import tr
from trpo_lite.tabular import mean_state_kl, state_kl

SEED = 0


def check_kl(fn) -> str:
    """fn(p, q): p, q [B, A] rows of distributions -> [B] D_KL(p_b || q_b) in nats."""
    rng = np.random.default_rng(SEED)
    p, q = rng.dirichlet(np.ones(4), size=6), rng.dirichlet(np.ones(4), size=6)
    want = state_kl(p, q)
    check_close(tr("kl(p, q)"), fn(p.copy(), q.copy()), want, mistakes=[
        (state_kl(q, p), tr("you computed D_KL(q || p): the KL is not symmetric; weight by p, the first "
                            "argument: sum_a p(a) log(p(a) / q(a))")),
        (want / np.log(2), tr("wrong log base: use the natural log (np.log), as torch and the package do")),
        (want / np.log(10), tr("wrong log base: use the natural log (np.log), as torch and the package do")),
        (-want, tr("the sign is flipped: KL = sum_a p(a) log(p(a) / q(a)) is never negative")),
    ], advice=tr("row b is KL(p_b || q_b) = sum_a p_b(a) log(p_b(a) / q_b(a))"))
    # A policy that never takes an action: 0 log 0 counts as 0, not NaN.
    p[:, 0] = 0.0
    p /= p.sum(1, keepdims=True)
    answer = as_answer(tr("kl(p, q)"), fn(p.copy(), q.copy()), (6,))
    if not np.isfinite(answer).all():
        raise ExerciseError(tr("NaN or inf when p has a zero: an action p never takes adds nothing "
                               "(0 log 0 = 0); sum only over actions with p(a) > 0"))
    if not is_close(answer, state_kl(p, q)):
        raise ExerciseError(tr("right for full-support p but wrong when p has zeros: terms with p(a) = 0 "
                               "must contribute exactly 0"))
    return passed(tr("D_KL(p || q) per row, natural log, zeros handled."))


def _penalty_mistakes(mdp: tabular.FiniteMDP, pi: np.ndarray, want: float) -> list:
    """(wrong C, message) for the usual slips in E7."""
    gamma = mdp.gamma
    scale = 4 * gamma / (1 - gamma) ** 2
    return [
        (want * (1 - gamma), tr("(1 - gamma) must be squared: C = 4 A_max gamma / (1 - gamma)^2")),
        (want / 4, tr("the factor 4 is missing: C = 4 A_max gamma / (1 - gamma)^2")),
        (want / gamma, tr("the factor gamma is missing from the numerator")),
        (scale * np.abs(tabular.state_values(mdp, pi)).max(),
         tr("A_max comes from the advantages A^old (E2), not from the values V")),
        (scale * np.abs(tabular.action_values(mdp, pi)).max(),
         tr("A_max comes from the advantages A = Q - V, not from Q")),
        (scale * tabular.advantages(mdp, pi).max(),
         tr("A_max is the largest |A^old|: take the absolute value, a very negative advantage counts too")),
    ]


def check_penalty_coefficient(fn) -> str:
    """fn(mdp, pi_old) -> C = 4 A_max gamma / (1 - gamma)^2 with A_max = max |A^old| (E7)."""
    rng = np.random.default_rng(SEED)
    cases = []
    for gamma in (0.5, 0.9, 0.97):
        mdp = tabular.FiniteMDP.random(rng, gamma=gamma)
        # Negated rewards negate A: in one of the pair the largest |A| is a negative advantage.
        flipped = tabular.FiniteMDP(mdp.P, -mdp.R, gamma, mdp.start)
        pi = mdp.random_policy(rng)
        cases += [(mdp, pi), (flipped, pi)]
    for mdp, pi in cases:
        want = tabular.penalty_coefficient(mdp, pi)
        # A = Q - V subtracts numbers of size max|Q|: judged at C computed from that size
        scale = 4 * mdp.gamma / (1 - mdp.gamma) ** 2 * float(np.abs(tabular.action_values(mdp, pi)).max())
        check_close(tr("C"), fn(mdp, pi.copy()), want, scale=scale, mistakes=_penalty_mistakes(mdp, pi, want),
                    where=tr("for gamma = {gamma}", gamma=mdp.gamma),
                    advice=tr("C = 4 A_max gamma / (1 - gamma)^2 with A_max = max_(s,a) |A^old(s, a)|"))
    return passed(tr("C = 4 A_max gamma / (1 - gamma)^2, A_max = max |A^old|."))


def _mean_kl_mistakes(mdp: tabular.FiniteMDP, old: np.ndarray, new: np.ndarray) -> list:
    """(wrong mean KL, message) for the usual slips in E8."""
    kl = state_kl(old, new)
    return [
        (kl @ tabular.visitation(mdp, new), tr("weighted by the new policy's visitation: the trust region "
                                               "averages over nu^old, the states the old policy's data "
                                               "visit")),
        (state_kl(new, old) @ tabular.visitation(mdp, old),
         tr("wrong KL direction: E8 uses D_KL(pi_old || pi_new), old first")),
        (kl.max(), tr("that is max_s KL, the E7 penalty's distance; E8 averages over s ~ nu^old")),
        (kl.mean(), tr("a plain mean over states; weight each state by nu^old(s) (tabular.visitation)")),
        (kl @ mdp.start.numpy(), tr("weighted by the start distribution; use the discounted visitation "
                                    "nu^old (E4), which counts every time step")),
    ]


def check_mean_kl(fn) -> str:
    """fn(mdp, pi_old, pi_new) -> E_(s ~ nu^old)[D_KL(pi_old(.|s) || pi_new(.|s))] (E8)."""
    rng = np.random.default_rng(SEED)
    for gamma in (0.6, 0.9):
        mdp = tabular.FiniteMDP.random(rng, gamma=gamma)
        old, new = mdp.random_policy(rng), mdp.random_policy(rng)
        check_close(tr("the mean KL"), fn(mdp, old.copy(), new.copy()), float(mean_state_kl(mdp, old, new)),
                    mistakes=_mean_kl_mistakes(mdp, old, new), where=tr("for gamma = {gamma}", gamma=gamma),
                    advice=tr("mean KL = sum_s nu^old(s) D_KL(pi_old(.|s) || pi_new(.|s))"))
    return passed(tr("E_(s ~ nu^old) D_KL(pi_old || pi_new), the trust region's distance (E8)."))
