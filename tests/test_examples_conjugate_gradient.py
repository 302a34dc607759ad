"""Notebook 06's trust-region problem: the explicit Fisher matrix against the closed-form categorical
Fisher matrix, and the precomputed CG iterates against CG and direct solves on that explicit matrix."""

import inspect

import numpy as np
import pytest
import torch
from torch import nn

from trpo_lite import TRPOConfig, conjugate_gradient
from trpo_lite.examples.conjugate_gradient import (
    DEFAULT_TOL,
    SWEEP_TOL,
    collect_cartpole_batch,
    condition_bounds,
    fisher_spectrum,
    gain_fractions,
    make_cg_demo,
)


@pytest.fixture(scope="module")
def demo():
    return make_cg_demo()


def damped(demo, damping):
    return demo.fisher + damping * torch.eye(len(demo.g), dtype=demo.g.dtype)


def test_batch_is_reproducible_and_advantages_standardised():
    torch.manual_seed(3)
    policy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    first, second = collect_cartpole_batch(policy, 200, seed=1), collect_cartpole_batch(policy, 200, seed=1)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
    obs, actions, advantages = first
    assert obs.shape == (200, 4) and set(actions.tolist()) == {0, 1}
    assert abs(float(advantages.mean())) < 1e-12 and abs(float(advantages.std()) - 1) < 1e-12
    assert not torch.equal(collect_cartpole_batch(policy, 200, seed=2)[0], obs)


def test_fisher_is_the_categorical_fisher_formula(demo):
    # Independent of autograd's Hessian: F = mean_s J_s^T (diag p_s - p_s p_s^T) J_s,
    # with J_s = d logits(s) / d theta.
    sizes = [p.numel() for p in demo.params]

    def logits_at(theta):
        w1, b1, w2, b2 = (t.view_as(p) for t, p in zip(torch.split(theta, sizes), demo.params, strict=True))
        return torch.tanh(demo.obs @ w1.T + b1) @ w2.T + b2

    J = torch.autograd.functional.jacobian(logits_at, demo.theta_old, vectorize=True)  # [B, A, P]
    p = torch.softmax(demo.old_logits, -1)
    middle = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    F = torch.einsum("bap,bac,bcq->pq", J, middle, J) / len(p)
    assert torch.allclose(demo.fisher, F, rtol=0, atol=1e-12)
    eigenvalues = torch.linalg.eigvalsh(demo.fisher)
    assert eigenvalues.min() > -1e-12  # positive semi-definite
    # The softmax ignores a common shift of the logits: H is singular, damping is needed for a direct solve.
    assert eigenvalues.abs().min() < 1e-12
    # The spectrum the notebook draws: F's eigenvalues (numpy's solver), largest first.
    assert np.allclose(fisher_spectrum(demo), np.linalg.eigvalsh(F.numpy())[::-1], rtol=0, atol=1e-12)


def test_products_are_damped_fisher_times_iterates(demo):
    for m, damping in enumerate(demo.dampings):
        expected = demo.iterates[m] @ damped(demo, damping)  # [K, P], H symmetric
        assert torch.allclose(demo.products[m], expected, rtol=0, atol=1e-12)


def test_iterates_are_cg_runs_on_the_explicit_matrix(demo):
    # Products by autograd and by the explicit H differ by rounding (1e-16); CG amplifies that in its
    # middle iterations when H + lambda I is ill conditioned, so compare where rounding cannot have grown:
    # the first iterations, and the converged end.
    for m, damping in enumerate(demo.dampings):
        A = damped(demo, damping)
        assert torch.allclose(A @ demo.solutions[m], demo.g, rtol=0, atol=1e-12)
        for k, rtol in ((1, 1e-12), (2, 1e-12), (3, 1e-12), (demo.max_iters, 1e-8)):
            x = conjugate_gradient(A.__matmul__, demo.g, iters=k, tol=SWEEP_TOL)
            assert float((demo.iterates[m, k - 1] - x).norm()) < rtol * float(x.norm())


def test_cg_error_shrinks_every_iteration_and_converges(demo):
    for m, damping in enumerate(demo.dampings):
        A = damped(demo, damping)
        e = demo.iterates[m] - demo.solutions[m]
        a_norm = torch.sqrt(torch.einsum("kp,pq,kq->k", e, A, e)).numpy()
        x_star_a = float(torch.sqrt(demo.solutions[m] @ A @ demo.solutions[m]))
        assert np.allclose(demo.energy_errors[m], a_norm / x_star_a, rtol=1e-6, atol=1e-13)
        # CG minimises the A-norm error over a growing Krylov space, and the Euclidean error follows
        # (Hestenes and Stiefel 1952, theorem 6:1); both until rounding (1e-9 of the start) takes over.
        assert np.all(np.diff(a_norm) <= 1e-9 * a_norm[0])
        assert np.all(np.diff(demo.errors[m]) <= 1e-9)
        residual = (demo.g - demo.iterates[m] @ A).norm(dim=-1) / demo.g.norm()
        assert np.allclose(demo.residuals[m], residual.numpy(), rtol=1e-6, atol=1e-13)
        # The residual is not monotone (notebook 06 says so): above rounding, it rises at least once for every
        # damping below the package's default.
        rises = (np.diff(demo.residuals[m]) > 0) & (demo.residuals[m][1:] > 1e-9)
        assert rises.any() or damping >= 0.1
        assert demo.errors[m, -1] < (1e-6 if damping < 1e-3 else 1e-8)
    # More damping, smaller condition number, faster convergence: iterations to reach 1e-6.
    reach = [int(np.argmax(errors < 1e-6)) for errors in demo.energy_errors]
    assert reach == sorted(reach, reverse=True) and reach[0] > reach[-1]


def test_condition_bounds_hold_and_use_the_spectrum(demo):
    cond, bounds = condition_bounds(demo)
    h = np.linalg.eigvalsh(demo.fisher.numpy())  # numpy's solver, not torch's
    for m, damping in enumerate(demo.dampings):
        assert cond[m] == pytest.approx((h.max() + damping) / damping, rel=1e-9)  # h.min() is 0 up to 1e-16
        rate = (np.sqrt(cond[m]) - 1) / (np.sqrt(cond[m]) + 1)
        assert bounds[m, 4] == pytest.approx(2 * rate**5, rel=1e-12)
        # the bound holds, with room to spare: CG beats it by a wide margin (the notebook's claim)
        assert np.all(demo.energy_errors[m] <= bounds[m] + 1e-11)  # until rounding (3e-12) takes over
        reached = int(np.argmax(demo.energy_errors[m] < 1e-6)) + 1
        needed = int(np.ceil(np.log(1e-6 / 2) / np.log(rate)))  # where the bound first promises 1e-6
        assert 2 * reached <= needed


def test_the_package_default_damping_is_a_slider_value(demo):
    assert TRPOConfig().damping in demo.dampings


def test_gain_fractions_are_at_most_one_and_reach_one(demo):
    fractions = gain_fractions(demo)
    assert np.all(fractions <= 1 + 1e-12) and np.all(fractions > 0)
    assert np.allclose(fractions[:, -1], 1, atol=1e-8)
    for m, damping in enumerate(demo.dampings):
        # g^T beta x_3 with beta = sqrt(2 delta / x^T A x), over sqrt(2 delta g^T x*), with the explicit A
        A, x = damped(demo, damping), demo.iterates[m, 2]
        beta = np.sqrt(2 * 0.02 / float(x @ A @ x))
        best = np.sqrt(2 * 0.02 * float(demo.g @ demo.solutions[m]))
        assert np.isclose(beta * float(demo.g @ x) / best, fractions[m, 2], rtol=1e-9)


def test_default_stop_is_where_conjugate_gradient_stops(demo):
    # conjugate_gradient stops when r^T r < tol: at |r| / |g| < sqrt(tol) / |g| with its default tol.
    assert inspect.signature(conjugate_gradient).parameters["tol"].default == DEFAULT_TOL
    assert demo.default_stop == pytest.approx(np.sqrt(DEFAULT_TOL) / float(demo.g.norm()), rel=1e-15)


def test_bad_slider_values_are_named(demo):
    with pytest.raises(ValueError, match="iters must be an integer in 1..30; got 0"):
        demo.index(0, 1e-2)
    valid = r"damping must be one of the precomputed values \(0.0001, 0.001, 0.01, 0.1, 1.0\); got 0.5"
    with pytest.raises(ValueError, match=valid):
        demo.index(5, 0.5)
    assert demo.index(5, 1e-2) == (2, 4) and demo.index(30, 1.0) == (4, 29)
    with pytest.raises(ValueError, match="damping must be a finite number > 0"):
        make_cg_demo(dampings=(0.0, 0.1), max_iters=2)
