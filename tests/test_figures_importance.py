"""Notebook-03 figures: the estimator histograms redraw in place and carry the numbers of
examples.importance."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place
from translated import marked_language, untranslated

from trpo_lite.examples import importance as ex
from trpo_lite.figures import importance as fig_importance


def _line(ax, prefix):
    (line,) = [ln for ln in ax.lines if ln.get_label().startswith(prefix)]
    return line.get_xdata()[0]


def _check_estimator_figure(fig, numbers):
    """The lines sit at the exact L, the mean and the median given; the histogram holds every estimate on
    the axis, and the x-range holds the exact L and the central 99% of the estimates."""
    (ax,) = fig.axes
    exact, est = numbers["exact"], numbers["estimates"]
    assert _line(ax, "exact L") == pytest.approx(exact["surrogate"], abs=1e-14)
    assert _line(ax, "mean of estimates") == pytest.approx(est.mean(), abs=1e-14)
    assert _line(ax, "median") == pytest.approx(np.median(est), abs=1e-14)
    lo, hi = ax.get_xlim()
    assert lo < exact["surrogate"] < hi and np.mean((est >= lo) & (est <= hi)) >= 0.99
    stairs = ax.patches[0].get_data()
    density, edges = stairs.values, stairs.edges
    on_axis = np.sum((est >= lo) & (est <= hi))
    assert density @ np.diff(edges) * ex.N_REPEATS == pytest.approx(on_axis)
    assert f"χ² = E_old[ρ²] - 1 = {exact['chi2']:.2f}" in ax.get_title()


@pytest.mark.parametrize("n_samples", ex.SAMPLE_SIZES)
def test_estimator_view_over_the_kappa_slider(n_samples):
    xlims = set()
    for kappa in ex.KAPPAS if n_samples == 100 else ex.KAPPAS[::6]:
        fig = fig_importance.estimator_view(kappa, n_samples)
        _check_estimator_figure(fig, ex.estimator_numbers(kappa, n_samples))
        xlims.add(fig.axes[0].get_xlim())
        plt.close(fig)
    assert len(xlims) == 1  # one range for the whole kappa slider, so the widening is visible


@pytest.mark.parametrize("p", ex.RARE_PROBS)
def test_rare_action_view_over_its_slider(p):
    for n_samples in ex.SAMPLE_SIZES:
        fig = fig_importance.rare_action_view(p, n_samples)
        _check_estimator_figure(fig, ex.rare_action_numbers(p, n_samples))
        plt.close(fig)


def test_variance_figure_draws_the_sweep():
    sweep = ex.variance_sweep()
    fig = fig_importance.variance_figure()
    left, right = fig.axes
    assert len(left.lines) == len(right.lines) == 4  # exact line and sample dots for each family
    for ax, x_key in ((left, "chi2"), (right, "kl")):
        for line, (name, key) in zip(ax.lines, [(n, k) for n in sweep for k in ("var", "var_emp")],
                                     strict=True):
            x = 1 + sweep[name]["chi2"] if x_key == "chi2" else sweep[name]["kl"]
            np.testing.assert_array_equal(line.get_xdata(), x)
            np.testing.assert_array_equal(line.get_ydata(), sweep[name][key])
    plt.close(fig)


@pytest.mark.parametrize(
    ("view", "a", "b"),
    [
        (fig_importance.estimator_view, {"kappa": 0.0, "n_samples": 10}, {"kappa": 0.95, "n_samples": 1000}),
        (fig_importance.estimator_view, {"kappa": 0.5, "n_samples": 100}, {"kappa": 0.55, "n_samples": 100}),
        (fig_importance.rare_action_view, {"p": 0.25, "n_samples": 100}, {"p": 0.001, "n_samples": 100}),
        (fig_importance.rare_action_view, {"p": 0.01, "n_samples": 30}, {"p": 0.01, "n_samples": 300}),
    ],
)
def test_redraw_depends_only_on_the_arguments(view, a, b):
    assert_redraws_in_place(view, tuple(a.values()), tuple(b.values()))


def test_every_text_of_the_figures_goes_through_tr(monkeypatch):
    with marked_language(monkeypatch):
        for fig in (fig_importance.estimator_view(0.5, 100), fig_importance.rare_action_view(0.01, 100),
                    fig_importance.variance_figure()):
            assert untranslated(fig) == []
            plt.close(fig)
