"""From a direction to a safe step: the step scale (E9) and the backtracking line search (E12).

Conjugate gradient gives x ~ H^-1 g. The quadratic model of the KL says the
step beta x has KL 1/2 beta^2 x^T H x, so beta = sqrt(2 delta / x^T H x) puts
it on the trust-region boundary. The model is only local, so the line search
checks the real KL and the real surrogate and shrinks the step until both are
acceptable, or gives up and keeps theta.

Reference: Schulman, Levine, Moritz, Jordan and Abbeel, Trust Region Policy
Optimization, ICML 2015: section 6 and appendix C (the step scale from the
quadratic constraint, and the line search on the nonlinear constraint and
surrogate).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from trpo_lite._validate import check_positive
from trpo_lite.flat import flat_params, set_flat_params

BACKTRACK_COEF = 0.8
"""alpha, the default shrink factor of one backtrack (E12), used by ``line_search`` and ``TRPOConfig``.

0.8 tries the fractions 1, 0.8, 0.64, ...: finer than halving, so an accepted
step loses less of its length; the agent's presets were tuned with it."""


def natural_step_scale(x: torch.Tensor, Hx: torch.Tensor, max_kl: float) -> float:
    """beta = sqrt(2 delta / x^T H x) (E9, E11), from x [P] and H x [P]."""
    max_kl = check_positive("max_kl", max_kl)
    xHx = float(x @ Hx)
    if not xHx > 0:
        raise ValueError(
            f"x^T H x must be > 0 to scale the step (got {xHx:.3g}): x is zero or H is not "
            "positive definite along it; check the gradient and use damping > 0"
        )
    return math.sqrt(2 * max_kl / xHx)


@dataclass(frozen=True)
class LineSearchResult:
    """What the line search did (E12).

    accepted: whether a step was taken; if not, the parameters are unchanged.
    backtracks: how many times the step was shrunk (i in alpha^i); when not
        accepted, the number of shrinks tried.
    step_fraction: alpha^i of the accepted step, 0.0 when none was accepted.
    kl: mean KL of the accepted step (of the last one tried when rejected).
    surrogate_gain: L(theta') - L(theta) of that step.
    """

    accepted: bool
    backtracks: int
    step_fraction: float
    kl: float
    surrogate_gain: float


def line_search(
    params,
    full_step: torch.Tensor,
    surrogate_gain: Callable[[], torch.Tensor],
    kl: Callable[[], torch.Tensor],
    max_kl: float,
    backtrack_coef: float = BACKTRACK_COEF,
    max_backtracks: int = 10,
) -> LineSearchResult:
    """Backtracking line search (E12): theta' = theta + alpha^i full_step for the smallest i >= 0
    with mean KL <= max_kl and a positive surrogate gain.

    Args:
        params: the policy parameters theta (list of tensors), changed in place.
        full_step: [P] beta x, the step to the trust-region boundary (E9).
        surrogate_gain: evaluates L(theta') - L(theta) at the current parameters.
        kl: evaluates the mean KL from the old policy at the current parameters.
        max_kl: delta, the trust-region radius.
        backtrack_coef: alpha in (0, 1), the factor each backtrack shrinks by.
        max_backtracks: how many shrinks to try before giving up.
    Returns:
        LineSearchResult. When no step is accepted, theta is restored bit for bit.
    """
    max_kl = check_positive("max_kl", max_kl)
    if not 0 < backtrack_coef < 1:
        raise ValueError(f"backtrack_coef must lie in (0, 1); got {backtrack_coef!r}")
    if not (isinstance(max_backtracks, int) and max_backtracks >= 0):
        raise ValueError(f"max_backtracks must be an integer >= 0; got {max_backtracks!r}")
    params = list(params)
    theta = flat_params(params)
    for i in range(max_backtracks + 1):
        fraction = backtrack_coef**i
        set_flat_params(params, theta + fraction * full_step)
        with torch.no_grad():
            gain, step_kl = float(surrogate_gain()), float(kl())
        # NaN fails both comparisons, so a broken step is never accepted.
        if step_kl <= max_kl and gain > 0:
            return LineSearchResult(True, i, fraction, step_kl, gain)
    set_flat_params(params, theta)
    return LineSearchResult(False, max_backtracks, 0.0, step_kl, gain)
