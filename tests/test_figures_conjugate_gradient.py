"""Notebook 06's figures draw the numbers of examples.conjugate_gradient and examples.trpo_step, and the
slider view redraws one figure in place."""

import functools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place

from trpo_lite import BACKTRACK_COEF
from trpo_lite.examples.conjugate_gradient import (
    condition_bounds,
    fisher_spectrum,
    gain_fractions,
    make_cg_demo,
)
from trpo_lite.examples.trpo_step import kl_along_step, step_report
from trpo_lite.figures import conjugate_gradient as cg_figures
from trpo_lite.figures.conjugate_gradient import cg_view, convergence_figure
from trpo_lite.widgets import to_png


@pytest.fixture(scope="module")
def demo():
    return make_cg_demo()


def line(ax, label):
    return next(line for line in ax.lines if line.get_label() == label)


@pytest.mark.parametrize(("iters", "damping", "max_kl"), [(1, 1e-4, 0.001), (10, 1e-2, 0.01), (30, 1.0, 0.2),
                                                          (5, 0.1, 0.05), (3, 1e-3, 0.2), (10, 1e-4, 0.05)])
def test_view_marks_the_current_iteration_and_the_verdict(demo, iters, damping, max_kl):
    report = step_report(demo, iters, damping, max_kl)
    curve = kl_along_step(demo, report)
    ax_cg, ax_ls = cg_view(demo, iters, damping, max_kl).axes
    m = demo.dampings.index(damping)
    marker = next(line for line in ax_cg.lines if line.get_marker() == "o")
    assert np.allclose(marker.get_xdata(), iters)
    assert np.allclose(marker.get_ydata(), [demo.residuals[m, iters - 1], demo.energy_errors[m, iters - 1]])
    assert np.array_equal(line(ax_cg, "residual |g − (H + ξI) x_k| / |g|").get_ydata(), demo.residuals[m])
    energy = line(ax_cg, "error in the A-norm |x_k − x*|_A / |x*|_A").get_ydata()
    assert np.array_equal(energy, demo.energy_errors[m])
    assert np.array_equal(line(ax_cg, "error |x_k − x*| / |x*|").get_ydata(), demo.errors[m])
    assert np.allclose(line(ax_cg, "default stop, rᵀr < 1e-10").get_ydata(), demo.default_stop)
    assert ("accepted" if report["accepted"] else "rejected") in ax_ls.get_title()
    assert f"{report['backtracks']} backtracks" in ax_ls.get_title()
    true_kl = line(ax_ls, "true mean KL")
    assert np.isclose(true_kl.get_ydata()[-1], report["full_step_kl"])  # fraction 1 is the last point
    assert np.array_equal(true_kl.get_xydata(), np.stack([curve["fractions"], curve["kl"]], -1))
    refused, accepted = line(ax_ls, "tried, refused"), line(ax_ls, "accepted")
    assert len(refused.get_xdata()) == report["backtracks"] + (not report["accepted"])
    assert accepted.get_xdata().tolist() == ([report["step_fraction"]] if report["accepted"] else [])
    # the tried fractions are the powers of the agent's coefficient, drawn at their true KL
    tried = np.concatenate([refused.get_xdata(), accepted.get_xdata()])
    assert np.allclose(tried, BACKTRACK_COEF ** np.arange(report["backtracks"] + 1), rtol=1e-15)
    assert np.array_equal(np.concatenate([refused.get_ydata(), accepted.get_ydata()]), curve["tried_kl"])


# (iters, damping, max_kl) pairs across the sliders' ranges, every damping; the line search accepts
# after 0 to 4 backtracks (no slider setting makes it reject, see the next test)
REDRAW_PAIRS = [((10, 1e-2, 0.01), (1, 1e-4, 0.001)), ((10, 1e-3, 0.05), (30, 1.0, 0.2)),
                ((3, 1e-3, 0.2), (20, 0.1, 0.002)), ((10, 1e-4, 0.2), (10, 1e-3, 0.05)),
                ((10, 1e-4, 0.05), (10, 1e-4, 0.01))]


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
                patch.setattr(cg_figures, "step_report", functools.partial(step_report, sign=-1.0))
            return cg_view(demo, 10, 1e-2, 0.01)

    fig = view(flipped=True)
    ax_ls = fig.axes[1]
    assert "rejected after 10 backtracks" in ax_ls.get_title()
    refused, accepted = line(ax_ls, "tried, refused"), line(ax_ls, "accepted")
    assert len(refused.get_xdata()) == 11 and len(accepted.get_xdata()) == 0
    assert np.allclose(refused.get_xdata(), BACKTRACK_COEF ** np.arange(11), rtol=1e-15)
    rejected_png = to_png(fig)
    assert_redraws_in_place(view, (flipped_first,), (not flipped_first,))
    assert to_png(view(True)) == rejected_png


def test_convergence_figure_draws_every_damping(demo):
    fig = convergence_figure(demo)
    try:
        ax_eig, ax_err, ax_gain = fig.axes
        _, bounds = condition_bounds(demo)
        # per damping: its A-norm errors and its condition-number bound; then the two legend keys
        assert len(ax_err.lines) == 2 * len(demo.dampings) + 2
        for m, (line_gain, fractions) in enumerate(zip(ax_gain.lines, gain_fractions(demo), strict=True)):
            assert np.array_equal(ax_err.lines[2 * m].get_ydata(), demo.energy_errors[m])
            assert np.array_equal(ax_err.lines[2 * m + 1].get_ydata(), bounds[m])
            assert ax_err.lines[2 * m].get_color() == ax_err.lines[2 * m + 1].get_color()
            assert np.allclose(line_gain.get_ydata(), fractions)
        assert len(ax_eig.lines[0].get_ydata()) == len(demo.g)
        assert np.array_equal(ax_eig.lines[0].get_ydata(), np.clip(fisher_spectrum(demo), 1e-12, None))
    finally:
        plt.close(fig)


def test_bad_slider_values_are_named_before_drawing(demo):
    with pytest.raises(ValueError, match="iters must be an integer in 1..30; got 31"):
        cg_view(demo, demo.max_iters + 1, 1e-2, 0.01)
    with pytest.raises(ValueError, match="damping must be one of"):
        cg_view(demo, 5, 0.5, 0.01)
    with pytest.raises(ValueError, match="max_kl"):
        cg_view(demo, 5, 1e-2, -0.01)
