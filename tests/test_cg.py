"""Conjugate gradient (E11) against torch.linalg.solve."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trpo_lite import conjugate_gradient


def spd(n, seed, condition=10.0):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    eig = torch.logspace(0, torch.log10(torch.tensor(condition)), n, dtype=torch.float64)
    return Q @ torch.diag(eig) @ Q.T, torch.randn(n, generator=g, dtype=torch.float64)


def test_cg_matches_direct_solve():
    H, b = spd(20, 0, condition=100.0)
    # Exact arithmetic would need 20 steps; rounding costs a few more.
    x = conjugate_gradient(lambda v: H @ v, b, iters=30, tol=1e-30)
    torch.testing.assert_close(x, torch.linalg.solve(H, b), rtol=1e-10, atol=1e-12)


def test_cg_needs_one_step_per_distinct_eigenvalue():
    g = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(20, 20, generator=g, dtype=torch.float64))
    eig = torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64).repeat_interleave(torch.tensor([7, 7, 6]))
    H, b = Q @ torch.diag(eig) @ Q.T, torch.randn(20, generator=g, dtype=torch.float64)
    x = conjugate_gradient(lambda v: H @ v, b, iters=3, tol=1e-30)
    torch.testing.assert_close(x, torch.linalg.solve(H, b), rtol=1e-10, atol=1e-12)
    x2 = conjugate_gradient(lambda v: H @ v, b, iters=2, tol=1e-30)
    assert (x2 - torch.linalg.solve(H, b)).abs().max() > 1e-3


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 12))
def test_error_in_h_norm_never_grows(seed, n):
    """CG minimises ||x - x*||_H over a growing Krylov space, so the H-norm error is non-increasing."""
    H, b = spd(n, seed, condition=50.0)
    x_star = torch.linalg.solve(H, b)
    errors = []
    for k in range(1, n + 1):
        e = conjugate_gradient(lambda v: H @ v, b, iters=k, tol=0.0) - x_star
        errors.append((e @ H @ e).item())
    pairs = zip(errors, errors[1:], strict=False)
    assert all(later <= earlier * (1 + 1e-9) + 1e-18 for earlier, later in pairs)
    assert errors[-1] < 1e-12 * max(1.0, (x_star @ H @ x_star).item())


def test_zero_right_hand_side_gives_zero():
    H, _ = spd(5, 1)
    x = conjugate_gradient(lambda v: H @ v, torch.zeros(5, dtype=torch.float64))
    assert torch.equal(x, torch.zeros(5, dtype=torch.float64))


def test_non_positive_curvature_raises_instead_of_nan():
    H = torch.diag(torch.tensor([1.0, -2.0, 3.0]))
    with pytest.raises(ValueError, match="non-positive curvature.*use damping > 0"):
        conjugate_gradient(lambda v: H @ v, torch.tensor([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="non-positive curvature"):
        conjugate_gradient(lambda v: torch.zeros(3), torch.ones(3))


def test_bad_iteration_count_is_rejected():
    with pytest.raises(ValueError, match="iters must be an integer >= 1; got 0"):
        conjugate_gradient(lambda v: v, torch.ones(2), iters=0)
