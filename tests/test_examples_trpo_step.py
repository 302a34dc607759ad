"""Notebook 06's step and line search against KLs and surrogate gains computed by hand, over the sliders'
ranges, with the one backtracking coefficient the agent uses."""

import numpy as np
import pytest
import torch

from trpo_lite import BACKTRACK_COEF, TRPOConfig, flat_params
from trpo_lite.examples.conjugate_gradient import gain_fractions, make_cg_demo
from trpo_lite.examples.trpo_step import MAX_KLS, along_step, kl_along_step, step_report, tried_fractions


@pytest.fixture(scope="module")
def demo():
    return make_cg_demo()


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


def test_the_line_search_is_the_agents():
    # The notebook teaches the coefficient the agent trains with.
    assert TRPOConfig().backtrack_coef == BACKTRACK_COEF == 0.8


@pytest.mark.parametrize("max_kl", MAX_KLS)  # every value of the delta slider
def test_step_report_over_the_sliders(demo, max_kl):
    for damping in demo.dampings:
        for iters in range(1, demo.max_iters + 1):  # every value of the iterations slider
            report = step_report(demo, iters, damping, max_kl)
            assert torch.equal(flat_params(demo.params), demo.theta_old)
            assert np.isclose(report["model_kl"], max_kl, rtol=1e-9)  # beta puts the model on the boundary
            assert 0 < report["model_kl_undamped"] < report["model_kl"]
            assert report["backtrack_coef"] == BACKTRACK_COEF
            if report["accepted"]:
                assert report["kl"] <= max_kl and report["surrogate_gain"] > 0
                assert report["step_fraction"] == BACKTRACK_COEF ** report["backtracks"]
            if iters in (1, 10, demo.max_iters):
                assert np.allclose(by_hand(demo, demo.theta_old + report["full_step"]),
                                   (report["full_step_kl"], report["full_step_gain"]), rtol=1e-9, atol=1e-14)
                step = demo.theta_old + report["step_fraction"] * report["full_step"]
                if report["accepted"]:
                    expected = (report["kl"], report["surrogate_gain"])
                    assert np.allclose(by_hand(demo, step), expected, rtol=1e-9)
                    # the smallest i: every larger fraction broke the KL limit or did not improve L
                    for i in range(report["backtracks"]):
                        kl, gain = by_hand(demo, demo.theta_old + BACKTRACK_COEF**i * report["full_step"])
                        assert kl > max_kl or gain <= 0


def test_predicted_gain_is_the_gain_fraction_of_the_exact_solve(demo):
    fractions = gain_fractions(demo)
    for m, damping in enumerate(demo.dampings):
        report = step_report(demo, 3, damping, 0.02)
        best = np.sqrt(2 * 0.02 * float(demo.g @ demo.solutions[m]))
        assert np.isclose(report["predicted_gain"] / best, fractions[m, 2], rtol=1e-9)


def test_backtracks_where_the_quadratic_model_underestimates_the_kl(demo):
    report = step_report(demo, 10, 1e-3, 0.05)
    assert report["full_step_kl"] > 0.05 and report["accepted"] and report["backtracks"] >= 1
    report = step_report(demo, 10, 0.1, 0.01)
    assert report["full_step_kl"] <= 0.01 and report["accepted"] and report["backtracks"] == 0


def test_flipped_step_is_rejected_and_theta_restored_bit_for_bit(demo):
    report = step_report(demo, 10, 1e-2, 0.01, sign=-1.0)
    assert not report["accepted"] and report["step_fraction"] == 0.0 and report["surrogate_gain"] <= 0
    assert torch.equal(flat_params(demo.params), demo.theta_old)
    kls, gains = along_step(demo, report["full_step"], BACKTRACK_COEF ** np.arange(11))
    assert np.all(gains < 0) and np.all(kls > 0)
    assert np.allclose(tried_fractions(report), BACKTRACK_COEF ** np.arange(11), rtol=0, atol=0)


@pytest.mark.parametrize(("iters", "damping", "max_kl", "sign"),
                         [(10, 1e-2, 0.01, 1.0), (10, 1e-4, 0.05, 1.0), (30, 1e-4, 0.05, 1.0),
                          (10, 1e-2, 0.01, -1.0)])
def test_kl_along_the_step_and_at_the_tried_fractions(demo, iters, damping, max_kl, sign):
    report = step_report(demo, iters, damping, max_kl, sign)
    curve = kl_along_step(demo, report)
    tried = BACKTRACK_COEF ** np.arange(report["backtracks"] + 1)
    assert np.array_equal(curve["tried"], tried)
    assert set(np.linspace(0, 1, 11)) | set(tried) == set(curve["fractions"])
    assert np.all(np.diff(curve["fractions"]) > 0)
    assert np.allclose(curve["model"], curve["fractions"] ** 2 * max_kl, rtol=1e-9)
    assert np.allclose(curve["model_undamped"], curve["fractions"] ** 2 * report["model_kl_undamped"],
                       rtol=1e-12)
    for f, kl in zip(curve["fractions"], curve["kl"], strict=True):
        by_hand_kl, _ = by_hand(demo, demo.theta_old + f * report["full_step"])
        assert kl == pytest.approx(by_hand_kl, rel=1e-9, abs=1e-15)
    for f, kl in zip(tried, curve["tried_kl"], strict=True):
        assert kl == curve["kl"][list(curve["fractions"]).index(f)]
    if report["accepted"]:
        assert tried[-1] == report["step_fraction"] and curve["tried_kl"][-1] == pytest.approx(report["kl"])
    assert torch.equal(flat_params(demo.params), demo.theta_old)


def test_bad_slider_values_are_named(demo):
    with pytest.raises(ValueError, match="iters must be an integer in 1..30; got 0"):
        step_report(demo, 0, 1e-2, 0.01)
    with pytest.raises(ValueError, match="damping must be one of"):
        step_report(demo, 5, 0.5, 0.01)
    with pytest.raises(ValueError, match="max_kl"):
        step_report(demo, 5, 1e-2, 0.0)
