"""Notebook 06's views: CG iterates against explicit matrices, the step and line search against
hand-computed KLs and surrogate gains, over the sliders' ranges."""

import functools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from redraw import assert_redraws_in_place
from torch import nn

from trpo_lite import conjugate_gradient, flat_params
from trpo_lite.views import conjugate_gradient as cgv
from trpo_lite.views.conjugate_gradient import (
    MAX_KLS,
    SWEEP_TOL,
    along_step,
    cg_view,
    collect_cartpole_batch,
    convergence_figure,
    gain_fractions,
    make_cg_demo,
    step_report,
)
from trpo_lite.widgets import to_png


@pytest.fixture(scope="module")
def demo():
    return make_cg_demo()


def damped(demo, damping):
    return demo.fisher + damping * torch.eye(len(demo.g), dtype=demo.g.dtype)


def by_hand(demo, theta):
    """Mean KL(pi_old || pi_theta) and surrogate gain at theta [P], from log-softmaxes written out."""
    sizes = [p.numel() for p in demo.params]
    w1, b1, w2, b2 = (t.view_as(p) for t, p in zip(torch.split(theta, sizes), demo.params, strict=True))
    log_new = torch.log_softmax(torch.tanh(demo.obs @ w1.T + b1) @ w2.T + b2, -1)
    log_old = torch.log_softmax(demo.old_logits, -1)
    kl = (log_old.exp() * (log_old - log_new)).sum(-1).mean()
    rows = torch.arange(len(demo.actions))
    ratio = torch.exp(log_new[rows, demo.actions] - log_old[rows, demo.actions])
    return float(kl), float((ratio * demo.advantages).mean() - demo.advantages.mean())


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
        # CG minimises the A-norm error over a growing Krylov space, and the Euclidean error follows
        # (Hestenes and Stiefel 1952); both until rounding (1e-9 of the start) takes over.
        assert np.all(np.diff(a_norm) <= 1e-9 * a_norm[0])
        assert np.all(np.diff(demo.errors[m]) <= 1e-9)
        residual = (demo.g - demo.iterates[m] @ A).norm(dim=-1) / demo.g.norm()
        assert np.allclose(demo.residuals[m], residual.numpy(), rtol=1e-6, atol=1e-13)
        assert demo.errors[m, -1] < (1e-6 if damping < 1e-3 else 1e-8)
    # More damping, smaller condition number, faster convergence: iterations to reach 1e-6.
    reach = [int(np.argmax(errors < 1e-6)) for errors in demo.errors]
    assert reach == sorted(reach, reverse=True) and reach[0] > reach[-1]


def test_gain_fractions_are_at_most_one_and_reach_one(demo):
    fractions = gain_fractions(demo)
    assert np.all(fractions <= 1 + 1e-12) and np.all(fractions > 0)
    assert np.allclose(fractions[:, -1], 1, atol=1e-8)
    for m, damping in enumerate(demo.dampings):
        report = step_report(demo, 3, damping, 0.02)
        best = np.sqrt(2 * 0.02 * float(demo.g @ demo.solutions[m]))
        assert np.isclose(report["predicted_gain"] / best, fractions[m, 2], rtol=1e-9)


@pytest.mark.parametrize("max_kl", MAX_KLS)  # every value of the delta slider
def test_step_report_over_the_sliders(demo, max_kl):
    for damping in demo.dampings:
        for iters in range(1, demo.max_iters + 1):  # every value of the iterations slider
            report = step_report(demo, iters, damping, max_kl)
            assert torch.equal(flat_params(demo.params), demo.theta_old)
            assert np.isclose(report["model_kl"], max_kl, rtol=1e-9)  # beta puts the model on the boundary
            assert 0 < report["model_kl_undamped"] < report["model_kl"]
            if report["accepted"]:
                assert report["kl"] <= max_kl and report["surrogate_gain"] > 0
                assert report["step_fraction"] == 0.5 ** report["backtracks"]
            if iters in (1, 10, demo.max_iters):
                assert np.allclose(by_hand(demo, demo.theta_old + report["full_step"]),
                                   (report["full_step_kl"], report["full_step_gain"]), rtol=1e-9, atol=1e-14)
                step = demo.theta_old + report["step_fraction"] * report["full_step"]
                if report["accepted"]:
                    expected = (report["kl"], report["surrogate_gain"])
                    assert np.allclose(by_hand(demo, step), expected, rtol=1e-9)
                    # the smallest i: every larger fraction broke the KL limit or did not improve L
                    for i in range(report["backtracks"]):
                        kl, gain = by_hand(demo, demo.theta_old + 0.5**i * report["full_step"])
                        assert kl > max_kl or gain <= 0


def test_backtracks_where_the_quadratic_model_underestimates_the_kl(demo):
    report = step_report(demo, 10, 1e-3, 0.05)
    assert report["full_step_kl"] > 0.05 and report["accepted"] and report["backtracks"] >= 1
    report = step_report(demo, 10, 0.1, 0.01)
    assert report["full_step_kl"] <= 0.01 and report["accepted"] and report["backtracks"] == 0


def test_flipped_step_is_rejected_and_theta_restored_bit_for_bit(demo):
    report = step_report(demo, 10, 1e-2, 0.01, sign=-1.0)
    assert not report["accepted"] and report["step_fraction"] == 0.0 and report["surrogate_gain"] <= 0
    assert torch.equal(flat_params(demo.params), demo.theta_old)
    kls, gains = along_step(demo, report["full_step"], 0.5 ** np.arange(11))
    assert np.all(gains < 0) and np.all(kls > 0)


@pytest.mark.parametrize(("iters", "damping", "max_kl"), [(1, 1e-4, 0.001), (10, 1e-2, 0.01), (30, 1.0, 0.2),
                                                          (5, 0.1, 0.05), (3, 1e-3, 0.2)])
def test_view_marks_the_current_iteration_and_the_verdict(demo, iters, damping, max_kl):
    report = step_report(demo, iters, damping, max_kl)
    fig = cg_view(demo, iters, damping, max_kl)
    try:
        ax_cg, ax_ls = fig.axes
        m = demo.dampings.index(damping)
        marker = next(line for line in ax_cg.lines if line.get_marker() == "o")
        assert np.allclose(marker.get_xdata(), iters)
        assert np.allclose(marker.get_ydata(), [demo.residuals[m, iters - 1], demo.errors[m, iters - 1]])
        assert ("accepted" if report["accepted"] else "rejected") in ax_ls.get_title()
        assert f"{report['backtracks']} backtracks" in ax_ls.get_title()
        true_kl = next(line for line in ax_ls.lines if line.get_label() == "true mean KL")
        assert np.isclose(true_kl.get_ydata()[-1], report["full_step_kl"])  # fraction 1 is the last point
        refused, accepted = (next(line for line in ax_ls.lines if line.get_label() == label)
                             for label in ("tried, refused", "accepted"))
        assert len(refused.get_xdata()) == report["backtracks"] + (not report["accepted"])
        assert accepted.get_xdata().tolist() == ([report["step_fraction"]] if report["accepted"] else [])
    finally:
        plt.close(fig)


# (iters, damping, max_kl) pairs across the sliders' ranges, every damping; the line search accepts
# after 0, 1 or 2 backtracks (no slider setting makes it reject, see the next test)
REDRAW_PAIRS = [((10, 1e-2, 0.01), (1, 1e-4, 0.001)), ((10, 1e-3, 0.05), (30, 1.0, 0.2)),
                ((3, 1e-3, 0.2), (20, 0.1, 0.002)), ((10, 1e-4, 0.2), (10, 1e-3, 0.05))]


@pytest.mark.parametrize(("a", "b"), REDRAW_PAIRS)
def test_view_redraw_depends_only_on_its_arguments(demo, a, b):
    assert_redraws_in_place(functools.partial(cg_view, demo), a, b)


@pytest.mark.parametrize("flipped_first", [False, True])
def test_view_redraws_a_rejected_line_search_and_back(demo, monkeypatch, flipped_first):
    # No slider setting makes the line search reject (a small enough fraction of beta x_k improves L); the
    # flipped step of step_report(sign=-1) is rejected, so the view draws it through a patched step_report.
    def view(flipped: bool):
        with monkeypatch.context() as patch:
            if flipped:
                patch.setattr(cgv, "step_report", functools.partial(step_report, sign=-1.0))
            return cg_view(demo, 10, 1e-2, 0.01)

    fig = view(flipped=True)
    ax_ls = fig.axes[1]
    assert "rejected after 10 backtracks" in ax_ls.get_title()
    refused, accepted = (line for line in ax_ls.lines if line.get_label() in ("tried, refused", "accepted"))
    assert len(refused.get_xdata()) == 11 and len(accepted.get_xdata()) == 0
    rejected_png = to_png(fig)
    assert_redraws_in_place(view, (flipped_first,), (not flipped_first,))
    assert to_png(view(True)) == rejected_png


def test_convergence_figure_draws_every_damping(demo):
    fig = convergence_figure(demo)
    try:
        ax_eig, ax_err, ax_gain = fig.axes
        assert len(ax_err.lines) == len(demo.dampings)
        for line, errors in zip(ax_err.lines, demo.errors, strict=True):
            assert np.allclose(line.get_ydata(), errors)
        assert len(ax_eig.lines[0].get_ydata()) == len(demo.g)
    finally:
        plt.close(fig)


def test_bad_slider_values_are_named(demo):
    with pytest.raises(ValueError, match="iters must be an integer in 1..30; got 0"):
        step_report(demo, 0, 1e-2, 0.01)
    with pytest.raises(ValueError, match="iters"):
        cg_view(demo, demo.max_iters + 1, 1e-2, 0.01)
    with pytest.raises(ValueError, match="damping must be one of"):
        step_report(demo, 5, 0.5, 0.01)
    with pytest.raises(ValueError, match="max_kl"):
        step_report(demo, 5, 1e-2, 0.0)
    with pytest.raises(ValueError, match="damping must be a finite number > 0"):
        make_cg_demo(dampings=(0.0, 0.1), max_iters=2)
