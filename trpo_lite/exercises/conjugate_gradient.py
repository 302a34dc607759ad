"""Checkers for notebook 06: conjugate gradient (E11) and the backtracking line search (E12).

Each checker runs the learner's function on problems drawn from a fixed seed,
compares it with the package (and CG with a direct solve), and when they
differ names the typical mistake the answer matches.

Shapes: P parameters.
"""

from dataclasses import dataclass

import numpy as np
import torch

from trpo_lite.cg import conjugate_gradient
from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    check_close,
    check_value,
    digits,
    is_close,
    mismatch,
    passed,
    quadratic_params,
    random_spd,
)
from trpo_lite.flat import flat_params
from trpo_lite.language import tr
from trpo_lite.step import BACKTRACK_COEF, line_search

SEED = 6
TOL = 1e-10  # conjugate_gradient's default stop, r^T r < TOL
# CG amplifies rounding by up to the condition number of H (11 to 43 on these problems), most in its last
# iterations, where the residual nears rounding level: a right float32 CG is off by up to 8e-6 there
SLACK = 10.0
CG_SLIPS = ("residual_plus", "stale_rr", "beta_over_curvature", "steepest_descent")


def _cg_message(slip: str) -> str:
    """What an answer that makes this CG slip (one of CG_SLIPS) got wrong."""
    return {
        "residual_plus": tr("the residual is updated the wrong way: r = b - H x, so when x grows by alpha p, "
                            "r shrinks by alpha H p: r = r - alpha * H p (you added it)"),
        "stale_rr": tr("alpha and gamma keep using the first residual's r^T r: after each iteration set rr = "
                       "rr_new, so the next alpha = r^T r / p^T H p uses the current residual"),
        "beta_over_curvature": tr("the direction coefficient gamma (beta in most CG texts) is wrong: it is "
                                  "the ratio of successive squared residuals, r_new^T r_new / r^T r, not "
                                  "r_new^T r_new / p^T H p"),
        "steepest_descent": tr("your directions are the residuals themselves (p = r): that is steepest "
                               "descent, which zig-zags; CG makes each direction H-conjugate to the last: p "
                               "= r_new + gamma * p"),
    }[slip]


def _faulty_cg(fvp, b: torch.Tensor, iters: int, slip: str) -> torch.Tensor:
    """CG (E11) with one of CG_SLIPS made on purpose, to recognise an answer that makes it."""
    x, r = torch.zeros_like(b), b.clone()
    p, rr = r.clone(), r @ r
    for _ in range(iters):
        if rr < TOL:
            break
        Hp = fvp(p)
        alpha = rr / (p @ Hp)
        x = x + alpha * p
        r = r + alpha * Hp if slip == "residual_plus" else r - alpha * Hp
        rr_new = r @ r
        beta = {"beta_over_curvature": rr_new / (p @ Hp), "steepest_descent": 0.0}.get(slip, rr_new / rr)
        p = r + beta * p
        rr = rr if slip == "stale_rr" else rr_new
    return x


def _vector(got, n: int) -> np.ndarray:
    answer = as_answer(tr("your x"), got, (n,))
    if not np.isfinite(answer).all():
        raise ExerciseError(tr("your x contains NaN or inf"))
    return answer


def check_conjugate_gradient(fn) -> str:
    """fn(fvp, b [P], iters) -> x [P] ~ H^-1 b after at most iters CG steps (E11), from x = 0, stopping
    early when r^T r < 1e-10. fvp(v) returns H v; b arrives as a float64 tensor."""
    rng = np.random.default_rng(SEED)
    for _ in range(3):
        n = int(rng.integers(5, 9))
        H, b = random_spd(rng, n)  # eigenvalues spread over two decades
        fvp = H.__matmul__
        alpha = float(b @ b / (b @ H @ b))
        if not is_close(_vector(fn(fvp, b.clone(), 1), n), alpha * b.numpy()):
            raise ExerciseError(tr("after one iteration x should be alpha * b with alpha = r^T r / p^T H p, "
                                   "starting from x = 0 and r = p = b (here alpha = {alpha:.4g}); check the "
                                   "first step and its direction", alpha=alpha))
        for iters in range(2, n + 1):
            answer = _vector(fn(fvp, b.clone(), iters), n)
            if is_close(answer, conjugate_gradient(fvp, b, iters).numpy(), slack=SLACK):
                continue
            for slip in CG_SLIPS:
                if is_close(answer, _faulty_cg(fvp, b, iters, slip).numpy(), slack=SLACK):
                    raise ExerciseError(tr("after {iters} iterations: {message}", iters=iters,
                                           message=_cg_message(slip)))
            raise mismatch(tr("x"), answer, conjugate_gradient(fvp, b, iters).numpy(), slack=SLACK,
                           where=tr("the first step is right but after {iters} iterations", iters=iters),
                           advice=tr("Check what changes between iterations: r = r - alpha H p, gamma = "
                                     "r_new^T r_new / r^T r, p = r_new + gamma p, rr = rr_new"))
        check_close(tr("x"), answer, torch.linalg.solve(H, b).numpy(), slack=SLACK,
                    where=tr("after P = {n} iterations x solves H x = b", n=n))
    _check_stops_at_tol(fn)
    return passed(tr("CG solves H x = b from products H v alone, exactly after P steps (E11)."))


def _check_stops_at_tol(fn) -> None:
    """On H = 2 I, b = 1 the first step is exact and r = 0: the next p^T H p is 0, so an answer must stop."""
    n, calls = 6, []

    def fvp(v):
        calls.append(1)
        return 2 * v

    try:
        answer = as_answer(tr("your x"), fn(fvp, torch.ones(n, dtype=torch.float64), n), (n,))
    except ZeroDivisionError as exc:
        raise ExerciseError(tr("on H = 2 I the first step already solves H x = b and r = 0; you kept going "
                               "and divided by p^T H p = 0. Stop when r^T r < 1e-10")) from exc
    if not np.isfinite(answer).all():
        raise ExerciseError(tr("on H = 2 I the first step already solves H x = b and r = 0, yet you called "
                               "fvp {calls} times and returned NaN (0 / 0 in alpha): stop when r^T r < "
                               "1e-10, before the next product", calls=len(calls)))
    if len(calls) > 2:
        raise ExerciseError(tr("on H = 2 I the first step already solves H x = b and r = 0, yet you called "
                               "fvp {calls} times: stop when r^T r < 1e-10, before the next product",
                               calls=len(calls)))


@dataclass(frozen=True)
class _Case:
    """A toy trust-region problem for the line search: what it must teach, and how it is shaped.

    kl = q + kl_quartic q^2 / delta with q = 1/2 d^T H d, d = theta - theta_old (above the quadratic
    model when kl_quartic > 0); gain = g^T d - gain_curvature (q / delta) g^T beta x (turns negative
    along long steps when gain_curvature > 0); full_step = sign * step_scale * beta x with x = H^-1 g.
    """

    name: str
    kl_quartic: float
    gain_curvature: float
    step_scale: float
    sign: float


CASES = (
    _Case("the full step is inside the trust region and improves L", 0.0, 0.0, 0.9, 1.0),
    _Case("the full step's KL is far above max_kl (the quadratic model underestimates it)",
          20.0, 0.0, 1.0, 1.0),
    _Case("the full step is inside the trust region but lowers L", 0.0, 1.5, 0.9, 1.0),
    _Case("no step improves L (the step points downhill)", 0.0, 0.0, 1.0, -1.0),
)


def _build(case: _Case, rng, max_kl: float):
    """(params [W (2, 2), b (2,)], full_step [P], surrogate_gain, kl) for one case; closures read params."""
    H, g = random_spd(rng, 6)
    theta_old = torch.as_tensor(rng.normal(size=6))
    x = torch.linalg.solve(H, g)
    beta = float(torch.sqrt(2 * max_kl / (x @ H @ x)))
    params, q = quadratic_params(H, theta_old)

    def kl():
        quad, _ = q()
        return quad + case.kl_quartic * quad**2 / max_kl

    def surrogate_gain():
        quad, d = q()
        return g @ d - case.gain_curvature * quad / max_kl * beta * (g @ x)

    return params, case.sign * case.step_scale * beta * x, surrogate_gain, kl


def check_line_search(fn) -> str:
    """fn(params, full_step [P], surrogate_gain, kl, max_kl) -> f: set params to theta + f full_step for the
    first f in 1, alpha, alpha^2, ... (alpha = BACKTRACK_COEF = 0.8, the agent's; at most 10 shrinks) with
    kl() <= max_kl and surrogate_gain() > 0 and return f; if none passes, restore theta bit for bit and
    return 0.0 (E12)."""
    max_kl = 0.01
    for i, case in enumerate(CASES):
        params, full_step, surrogate_gain, kl = _build(case, np.random.default_rng([SEED, i]), max_kl)
        theta = flat_params(params)
        got = fn(params, full_step.clone(), surrogate_gain, kl, max_kl)
        if isinstance(got, bool) or not isinstance(got, int | float | np.number | torch.Tensor | np.ndarray):
            raise ExerciseError(tr("return the accepted step fraction as a float (0.0 if none); got {got!r}",
                                   got=got))
        fraction = as_answer(tr("the step fraction"), got)
        with torch.no_grad():
            state = flat_params(params), float(kl()), float(surrogate_gain())
        reference, _, gain_ref, kl_ref = _build(case, np.random.default_rng([SEED, i]), max_kl)
        expected = line_search(reference, full_step, gain_ref, kl_ref, max_kl)
        _judge(tr("When {case}", case=tr(case.name)), fraction, state, theta, full_step, expected, max_kl)
    return passed(tr("backtracking keeps the KL limit and improves L, or leaves theta untouched (E12)."))


def _judge(where: str, fraction: np.ndarray, state, theta, full_step, expected, max_kl: float) -> None:
    """Compare the learner's fraction and final (theta [P], kl, gain) with the package's LineSearchResult."""
    now, kl_now, gain_now = state
    got = float(fraction)
    if not expected.accepted:
        if got != 0.0:
            raise ExerciseError(tr("{where}, every fraction fails, so return 0.0; you returned {got:.6g}",
                                   where=where, got=got))
        if not torch.equal(now, theta):
            worst = float((now - theta).abs().max())
            hint = (tr("subtracting the step again is not exact in floating point: write back a copy of "
                       "theta saved before the loop") if worst < 1e-9
                    else tr("you left them at the last step tried"))
            raise ExerciseError(tr("{where}, the parameters must be restored bit for bit; they differ by up "
                                   "to {worst:.3g}: {hint}", where=where, worst=worst, hint=hint))
        return
    if got == 0.0:
        raise ExerciseError(tr("{where}, the fraction {fraction:.6g} passes both tests (KL {kl:.4g} <= "
                               "{max_kl}, gain {gain:.3g} > 0), but you returned 0.0 (no step)", where=where,
                               fraction=expected.step_fraction, kl=expected.kl, max_kl=max_kl,
                               gain=expected.surrogate_gain))
    if kl_now > max_kl:
        raise ExerciseError(tr("{where}: you accepted a step with mean KL {kl:.4g} > max_kl = {max_kl}; the "
                               "trust region must hold at the step you keep, so shrink until kl() <= max_kl",
                               where=where, kl=kl_now, max_kl=max_kl))
    if not gain_now > 0:
        raise ExerciseError(tr("{where}: you accepted a step with surrogate gain {gain:.3g} <= 0; a step "
                               "must also improve L, so shrink until surrogate_gain() > 0",
                               where=where, gain=gain_now))
    if not is_close(as_answer(tr("theta"), now, now.shape), (theta + got * full_step).numpy()):
        raise ExerciseError(tr("{where}: you returned f = {got:.6g}, but the parameters are not at theta + f "
                               "* full_step; leave them at the step you accept", where=where, got=got))
    if not is_close(fraction, expected.step_fraction):
        raise ExerciseError(tr("{where}: the first of 1, {coef:g}, {coef2:g}, ... passing both tests is "
                               "{expected:.{digits}g}, you returned {got:.{digits}g}; start at the full "
                               "step, shrink it by alpha = BACKTRACK_COEF = {coef:g} each time and take the "
                               "first fraction that passes", where=where, coef=BACKTRACK_COEF,
                               coef2=BACKTRACK_COEF**2,
                               expected=expected.step_fraction, got=got,
                               digits=digits(got, expected.step_fraction)))


def check_cg_bound_iterations(got) -> str:
    """Derivation (notebook 06, exercise 4): got is the fewest CG iterations k for which the condition-number
    bound 2 ((sqrt(cond) - 1) / (sqrt(cond) + 1))^k promises an A-norm error of at most 1e-6 when
    cond(A) = 100 (E11; the model answer is in teachers/solutions.py)."""
    cond, target = 100.0, 1e-6

    def solution(rate: float, factor: float = 2.0) -> float:  # k solving factor * rate^k = target
        return float(np.log(target / factor) / np.log(rate))

    rate = (np.sqrt(cond) - 1) / (np.sqrt(cond) + 1)
    k = float(np.ceil(solution(rate)))
    return check_value(
        tr("k"), got, k,
        hint=tr("Solve 2 r^k = 1e-6 for k with r = (sqrt(cond) - 1) / (sqrt(cond) + 1), and round up"),
        mistakes=[
            (solution(rate), tr("k counts iterations: round the solution up to a whole number")),
            (k - 1, tr("one short: after that many iterations the bound is still above 1e-6; round up, not "
                       "down")),
            (float(np.ceil(solution(rate, 1.0))), tr("you dropped the factor 2 in front of the bound")),
            (float(np.ceil(solution((cond - 1) / (cond + 1)))),
             tr("the rate (cond - 1) / (cond + 1) is steepest descent's; CG's bound uses sqrt(cond)")),
        ])
