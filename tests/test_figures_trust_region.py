"""Notebook-04 figures: the bound and trust-region views redraw in place and draw the numbers of
examples.trust_region."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place
from translated import marked_language, untranslated

from trpo_lite.examples import trust_region as ex
from trpo_lite.figures import trust_region as fig_tr


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


@pytest.mark.parametrize("gamma", ex.BOUND_GAMMAS)
def test_bound_view_draws_the_curves_with_the_bound_below_j(gamma):
    fig = fig_tr.bound_view(gamma)
    numbers = ex.bound_numbers(gamma)
    full, zoom, J_old = numbers["full"], numbers["zoom"], numbers["J_old"]
    whole, near = fig.axes
    wl, nl = lines_by_label(whole), lines_by_label(near)
    for key, label in (("J", "J (true)"), ("L", "L (surrogate)"), ("bound", "bound = L - penalty")):
        np.testing.assert_array_equal(wl[label].get_xdata(), full["kappa"])
        np.testing.assert_array_equal(wl[label].get_ydata(), full[key])
    for key, label in (("J", "J - J(old)"), ("L", "L - J(old)"), ("bound", "bound - J(old)")):
        np.testing.assert_allclose(nl[label].get_ydata(), zoom[key] - J_old, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(nl["penalty C max KL"].get_ydata(), zoom["penalty"])
    gain_J, gain_bound = nl["J - J(old)"].get_ydata(), nl["bound - J(old)"].get_ydata()
    assert np.all(gain_J >= gain_bound - 1e-12)
    assert gain_bound.max() > 0  # minorize-maximize: the bound certifies a strict improvement
    assert near.get_xlim()[0] < numbers["kappa_star"] < near.get_xlim()[1]
    assert f"γ = {gamma}: C = {numbers['C']:.3g}" in fig.texts[0].get_text()
    plt.close(fig)


def test_bound_view_rejects_a_gamma_without_a_table():
    with pytest.raises(ValueError, match="gamma must be one of"):
        fig_tr.bound_view(0.42)


@pytest.mark.parametrize("k", range(len(ex.DELTAS)))
def test_trust_region_view_marks_the_best_admitted_policy(k):
    fig = fig_tr.trust_region_view(ex.DELTAS[k])
    numbers = ex.trust_region_numbers(ex.DELTAS[k])
    left, right = fig.axes
    (star,) = [line for line in left.get_lines() if line.get_marker() == "*"]
    np.testing.assert_allclose([star.get_xdata()[0], star.get_ydata()[0]], numbers["best_p"])
    (pair,) = [line for line in right.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(pair.get_ydata(), [numbers["promised"], numbers["achieved"]])
    np.testing.assert_allclose(pair.get_xdata(), np.log10(numbers["delta"]))
    assert right.get_title() == f"L promises +{numbers['promised']:.2f}, J gains +{numbers['achieved']:.2f}"
    plt.close(fig)


def test_trust_region_view_rejects_delta_off_the_slider():
    for bad in (0.0, 1e-5, 3.0):
        with pytest.raises(ValueError, match="max_kl"):
            fig_tr.trust_region_view(bad)


@pytest.mark.parametrize(("view", "a", "b"), [
    (fig_tr.bound_view, (0.9,), (0.5,)),
    (fig_tr.bound_view, (0.99,), (0.95,)),
    (fig_tr.trust_region_view, (0.01,), (1.0,)),
    (fig_tr.trust_region_view, (ex.DELTAS[0],), (ex.DELTAS[1],)),
])
def test_redraw_depends_only_on_the_arguments(view, a, b):
    assert_redraws_in_place(view, a, b)


def test_every_text_of_the_views_goes_through_tr(monkeypatch):
    with marked_language(monkeypatch):
        for fig in (fig_tr.bound_view(0.9), fig_tr.trust_region_view(0.01)):
            assert untranslated(fig) == []
            plt.close(fig)
