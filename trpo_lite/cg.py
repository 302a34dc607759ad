"""Conjugate gradient (E11): solve H x = g using only products H v.

For a symmetric positive-definite H with P rows, CG reaches the exact x in at
most P steps in exact arithmetic; TRPO stops after about 10, which already
gives a good natural-gradient direction at the cost of 10 Fisher-vector
products (E10) instead of forming and inverting H.

Reference: Hestenes and Stiefel, Methods of Conjugate Gradients for Solving
Linear Systems, 1952 (the method); Nocedal and Wright, Numerical Optimization,
2nd ed., 2006, section 5.1, Algorithm 5.2 (the form used here); Schulman et al.,
Trust Region Policy Optimization, 2015, appendix C (its use in TRPO).
"""

from collections.abc import Callable

import torch


def conjugate_gradient(
    fvp: Callable[[torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    iters: int = 10,
    tol: float = 1e-10,
) -> torch.Tensor:
    """Approximate x = H^-1 b, [P] (E11), from the product function fvp(v) = H v.

    Starts at x = 0 and stops after ``iters`` steps or when the squared
    residual |b - H x|^2 falls below ``tol``.

    Args:
        fvp: maps a [P] vector v to H v; H symmetric positive definite.
        b: [P] right-hand side (the surrogate gradient g in TRPO).
        iters: maximum number of steps, >= 1.
        tol: stop when r^T r < tol.
    Returns:
        [P] x (the step direction).
    Raises:
        ValueError: if a search direction p has p^T H p <= 0, i.e. H is not
            positive definite along it (add damping), instead of dividing by
            it and returning NaN or a step the wrong way.
    """
    if not (isinstance(iters, int) and iters >= 1):
        raise ValueError(f"iters must be an integer >= 1; got {iters!r}")
    x = torch.zeros_like(b)
    r = b.clone()  # residual b - H x at x = 0
    p = r.clone()  # search direction, H-conjugate to the previous ones
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Hp = fvp(p)
        curvature = p @ Hp
        if not curvature > 0:
            raise ValueError(
                f"conjugate_gradient met a direction of non-positive curvature (p^T H p = "
                f"{curvature.item():.3g}): H must be positive definite; use damping > 0"
            )
        alpha = rr / curvature
        x = x + alpha * p
        r = r - alpha * Hp
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x
