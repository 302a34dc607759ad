"""Checkers for notebook 08: one TRPO update assembled from the package's pieces (E9-E12, E14) and
the value function's explained variance.

Each checker runs the learner's function on problems drawn from a fixed seed,
compares it with the package, and when they differ names the typical mistake
the answer matches (found by making that mistake on purpose and comparing).

Shapes: P parameters, B samples.
"""

from dataclasses import dataclass

import numpy as np
import torch

from trpo_lite.cg import conjugate_gradient
from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    check_close,
    is_close,
    passed,
    quadratic_params,
    random_spd,
)
from trpo_lite.flat import flat_params
from trpo_lite.language import tr
from trpo_lite.step import line_search, natural_step_scale
from trpo_lite.value import explained_variance

SEED = 8
MAX_KL = 0.01
SLACK = 1e3  # float64's 1e-8 times SLACK: float32's 1e-5, for steps built in float32 (see check_trpo_step)
G_SCALE = 0.05  # g = G_SCALE z, z ~ N(0, I)

STEP_SLIPS = ("direction_g", "direction_Hg", "no_sqrt", "no_scale", "no_two")


def _step_message(slip: str) -> str:
    """What an update that makes this slip (one of STEP_SLIPS) got wrong."""
    return {
        "direction_g": tr("your step points along g, the plain gradient. TRPO's direction is x = H^-1 g: "
                          "solve H x = g with conjugate_gradient(fvp, g) (E11), then scale x, not g"),
        "direction_Hg": tr("your step points along H g: you multiplied g by H (fvp(g)). TRPO needs H^-1 g: "
                           "solve H x = g with conjugate_gradient(fvp, g) (E11)"),
        "no_sqrt": tr("your step scale is 2 delta / x^T H x; the scale is its square root, beta = "
                      "sqrt(2 delta / x^T H x) = natural_step_scale(x, fvp(x), max_kl) (E9)"),
        "no_scale": tr("you stepped by x itself, unscaled: x only gives the direction. Scale it to the trust "
                       "region, beta = sqrt(2 delta / x^T H x) = natural_step_scale(x, fvp(x), max_kl) (E9)"),
        "no_two": tr("your step scale is sqrt(delta / x^T H x); the quadratic model of the KL is 1/2 beta^2 "
                     "x^T H x, so setting it to delta gives beta = sqrt(2 delta / x^T H x) (E9)"),
    }[slip]


def _direction_and_scale(fvp, g: torch.Tensor, max_kl: float, mistake: str | None):
    """The full step TRPO builds from g (E9, E11), or the one a mistake builds."""
    if mistake == "direction_g":
        return natural_step_scale(g, fvp(g), max_kl) * g
    if mistake == "direction_Hg":
        Hg = fvp(g)
        return natural_step_scale(Hg, fvp(Hg), max_kl) * Hg
    x = conjugate_gradient(fvp, g)
    xHx = float(x @ fvp(x))
    beta = {"no_sqrt": 2 * max_kl / xHx, "no_scale": 1.0, "no_two": (max_kl / xHx) ** 0.5}
    return beta.get(mistake, natural_step_scale(x, fvp(x), max_kl)) * x


def _reference_step(params, g, fvp, max_kl, surrogate_gain, kl, mistake: str | None = None):
    """The update the learner should write (mistake None), or one with a mistake made on purpose."""
    return line_search(params, _direction_and_scale(fvp, g, max_kl, mistake), surrogate_gain, kl, max_kl)


@dataclass(frozen=True)
class _Case:
    """A toy trust-region problem with an explicit H: what it teaches, and how its KL and L are shaped.

    With d = theta - theta_old, q = 1/2 d^T H d and x = H^-1 g, beta = sqrt(2 delta / x^T H x):
    kl = kl_scale q + kl_quartic q^2 / delta (the model H is exact when kl_scale = 1, kl_quartic = 0);
    gain = g^T d - kink sqrt(q / delta) g^T beta x (with kink > 1 every step along x lowers L).
    """

    name: str
    kl_scale: float
    kl_quartic: float
    kink: float


CASES = (
    _Case("the full step lies inside the trust region and improves L", 0.9, 0.0, 0.0),
    _Case("the full step's true KL is far above delta (the quadratic model underestimates it)",
          1.0, 20.0, 0.0),
    _Case("every step along x lowers L", 0.9, 0.0, 1.5),
)


def _build(case: _Case, index: int):
    """(params [W (2, 2), b (2,)], g [P], fvp, surrogate_gain, kl) for one case; the closures read params."""
    rng = np.random.default_rng([SEED, index])
    H, g = random_spd(rng, 6)  # P = 6, eigenvalues over two decades
    # |g| about 0.1, as on notebook 08's CartPole batch: beta = sqrt(2 delta / x^T H x) is then near 1, as
    # there, and x itself (unscaled) is a step the line search accepts at a different length than beta x
    g = G_SCALE * g
    theta_old = torch.as_tensor(rng.normal(size=6))
    x = torch.linalg.solve(H, g)
    beta_gx = float(torch.sqrt(2 * MAX_KL / (x @ H @ x))) * float(g @ x)
    params, q = quadratic_params(H, theta_old)

    def kl():
        quad, _ = q()
        return case.kl_scale * quad + case.kl_quartic * quad**2 / MAX_KL

    def surrogate_gain():
        quad, d = q()
        return g @ d - case.kink * torch.sqrt(quad / MAX_KL) * beta_gx

    return params, g, H.__matmul__, surrogate_gain, kl


def _after(fn, case: _Case, index: int, mistake: str | None = None):
    """Run fn (or the reference with a mistake) on a fresh copy of the case: (theta before, theta after,
    kl, gain after)."""
    params, g, fvp, surrogate_gain, kl = _build(case, index)
    theta = flat_params(params)
    if fn is None:
        _reference_step(params, g, fvp, MAX_KL, surrogate_gain, kl, mistake)
    else:
        fn(params, g.clone(), fvp, MAX_KL, surrogate_gain, kl)
    with torch.no_grad():
        return theta, flat_params(params), float(kl()), float(surrogate_gain())


def check_trpo_step(fn) -> str:
    """fn(params, g [P], fvp, max_kl, surrogate_gain, kl) updates params in place as TRPO does (E9-E12):
    x = conjugate_gradient(fvp, g), full step natural_step_scale(x, fvp(x), max_kl) * x, then
    line_search(params, full_step, surrogate_gain, kl, max_kl) with its defaults."""
    for index, case in enumerate(CASES):
        theta, got, kl_got, gain_got = _after(fn, case, index)
        _, expected, _, _ = _after(None, case, index)
        rejected = torch.equal(expected, theta)
        # A rejection must restore theta bit for bit; an accepted step may differ by rounding: the learner's
        # own CG, perhaps in float32, where the float64 parameters cannot show it. So the step taken is
        # judged at float32's tolerance (SLACK times float64's).
        answer = as_answer(tr("the step"), got - theta, tuple(got.shape))
        if torch.equal(got, expected) or (not rejected and is_close(answer, (expected - theta).numpy(),
                                                                     slack=SLACK)):
            continue
        where = tr("When {case}", case=tr(case.name))
        if rejected:
            worst = float((got - theta).abs().max())
            if worst < 1e-9:
                hint = tr("subtracting the step again is not exact in floating point: write back a copy "
                          "of theta")
            elif gain_got <= 0:
                hint = tr("you kept a step with surrogate gain {gain:.3g} <= 0 instead of restoring theta",
                          gain=gain_got)
            else:
                hint = tr("your step is not along x = H^-1 g, the direction TRPO scales and searches along")
            raise ExerciseError(tr("{where}, no fraction of the step improves L, so the line search must "
                                   "leave theta exactly as it was; it moved by up to {worst:.3g}: {hint}",
                                   where=where, worst=worst, hint=hint))
        for slip in STEP_SLIPS:
            slipped = (_after(None, case, index, slip)[1] - theta).numpy()
            if is_close(answer, slipped, slack=SLACK) and not torch.equal(got, theta):
                raise ExerciseError(tr("{where}: {message}", where=where, message=_step_message(slip)))
        if torch.equal(got, theta):
            raise ExerciseError(tr("{where}, a step is accepted, but theta is unchanged: set the parameters "
                                   "(line_search does it in place). If you did, your full step was too long "
                                   "for every fraction the line search tries: scale x to the trust region, "
                                   "beta = sqrt(2 delta / x^T H x) = natural_step_scale(x, fvp(x), max_kl) "
                                   "(E9)", where=where))
        if kl_got > MAX_KL:
            raise ExerciseError(tr("{where}: your step has mean KL {kl:.4g} > max_kl = {max_kl}. The "
                                   "quadratic model only puts the full step on the boundary; run line_search "
                                   "on it, which shrinks it until the true KL is <= max_kl (E12)",
                                   where=where, kl=kl_got, max_kl=MAX_KL))
        raise ExerciseError(tr("{where}: your parameters end up {distance:.3g} away from TRPO's step. Chain "
                               "the package's pieces in order: conjugate_gradient(fvp, g), "
                               "natural_step_scale(x, fvp(x), max_kl), then line_search on the scaled step "
                               "with its default arguments", where=where,
                               distance=float((got - expected).norm())))
    return passed(tr("x = H^-1 g by CG, scaled to the trust region, then the line search: one TRPO update "
                     "(E14)."))


def _residual_variance(values, targets) -> torch.Tensor:
    return (targets - values).var()


def _ev_mistakes(v: torch.Tensor, y: torch.Tensor) -> list:
    """(wrong explained variance, message) for the usual slips; both variance formulas where both occur."""
    both = (False, True)
    return [
        (1 - _residual_variance(v, y) / v.var(),
         tr("you divided by Var[values]; the denominator is Var[targets], how much there is to explain "
            "(check the argument order: fn(values, targets))")),
        (_residual_variance(v, y) / y.var() - 1,
         tr("your sign is flipped: you return Var[targets - values] / Var[targets] - 1; it is 1 - "
            "Var[targets - values] / Var[targets]")),
        (_residual_variance(v, y) / y.var(),
         tr("you return Var[targets - values] / Var[targets], the fraction left *unexplained*; explained "
            "variance is 1 minus that")),
        *[(1 - (y - v).pow(2).mean() / y.var(unbiased=unbiased),
           tr("you used the mean squared error mean((targets - values)^2) (that gives R^2, the "
              "coefficient of determination); explained variance uses the variance of the residual, so a "
              "constant offset in V is not counted: 1 - Var[targets - values] / Var[targets]"))
          for unbiased in both],
        *[(1 - (y - v).var(unbiased=unbiased) / y.var(unbiased=not unbiased),
           tr("the numerator and denominator use different variance formulas (one divides by B, the "
              "other by B - 1); use the same for both")) for unbiased in both],
        (1 - v.var() / y.var(),
         tr("you compared the spreads of V and of the targets, 1 - Var[values] / Var[targets]; explained "
            "variance is about the residual: 1 - Var[targets - values] / Var[targets]")),
    ]


def check_explained_variance(fn) -> str:
    """fn(values [B], targets [B]) -> 1 - Var[targets - values] / Var[targets], a float.

    values and targets arrive as float64 torch tensors; ``.var()`` is the sample variance.
    """
    rng = np.random.default_rng(SEED)
    for B, quality, offset in ((64, 0.8, 0.5), (200, 0.3, -2.0), (31, -0.5, 1.0)):
        targets = torch.as_tensor(rng.normal(3.0, 2.0, size=B))
        # V = a noisy, shrunk, shifted copy of the targets: partly explained, with a constant bias
        values = quality * targets + offset + torch.as_tensor(rng.normal(0.0, 1.0, size=B))
        # 1 minus a ratio: judged at the size of 1
        check_close(tr("the explained variance"), fn(values.clone(), targets.clone()),
                    float(explained_variance(values, targets)), scale=1.0,
                    mistakes=[(float(wrong), message) for wrong, message in _ev_mistakes(values, targets)],
                    where=tr("On a batch of {B} samples", B=B))
    mean = torch.full_like(targets, float(targets.mean()))
    for name, values in ((tr("V equal to the targets"), targets),
                         (tr("V constant at the targets' mean"), mean)):
        check_close(tr("the explained variance"), fn(values.clone(), targets.clone()),
                    float(explained_variance(values, targets)), scale=1.0, where=tr("With {name}", name=name))
    return passed(tr("1 - Var[targets - V] / Var[targets]: 1 for a perfect V, 0 for the mean, below 0 for "
                     "worse."))
