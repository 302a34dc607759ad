"""Notebook 07's figures: the timeline writes the advantages it is given, and the bias-variance view
draws the study's numbers at every slider value, redrawing one figure in place."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from redraw import assert_redraws_in_place

from trpo_lite.examples.gae_study import bias_variance_study
from trpo_lite.figures import gae as fig_gae


@pytest.fixture(scope="module")
def study():
    return bias_variance_study(seed=2, n_episodes=1500)


def test_timeline_writes_every_advantage_and_marks_each_episode_end():
    terminated, truncated = np.zeros((5, 2), bool), np.zeros((5, 2), bool)
    terminated[1, 0], truncated[2, 1] = True, True
    advantages = np.arange(10.0).reshape(5, 2) - 4.5
    fig = fig_gae.draw_timeline(advantages, terminated, truncated)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{a:+.2f}" for a in advantages.ravel())
    markers = [line.get_marker() for line in ax.lines]
    assert markers.count("X") == 1 and markers.count("|") == 1 and markers.count(">") == 2
    plt.close(fig)


def test_timeline_rejects_flags_of_another_shape():
    with pytest.raises(ValueError, match="terminated has shape"):
        fig_gae.draw_timeline(np.zeros((5, 2)), np.zeros((5, 3), bool), np.zeros((5, 3), bool))


def test_view_shows_the_study_numbers_at_every_slider_value(study):
    view = fig_gae.make_bias_variance_view(study)
    for g, gamma in enumerate(study.gammas):
        for l, lam in enumerate(study.lams):
            left, right = view(gamma=gamma, lam=lam).axes
            np.testing.assert_array_equal(left.lines[0].get_ydata(), study.bias2[g])
            np.testing.assert_array_equal(left.lines[2].get_ydata(), study.variance[g])
            np.testing.assert_array_equal(left.lines[1].get_ydata(), study.exact_bias2[g])
            np.testing.assert_array_equal(left.lines[3].get_ydata(), study.bias2[g] + study.variance[g])
            chosen = next(line for line in left.lines if line.get_gid() == "chosen")
            np.testing.assert_array_equal(chosen.get_ydata(), [study.bias2[g, l], study.variance[g, l]])
            assert np.all(np.asarray(chosen.get_xdata()) == lam)
            np.testing.assert_array_equal(right.lines[0].get_ydata(), study.episode_targets[g])
            np.testing.assert_array_equal(right.lines[1].get_ydata(), study.episode_estimates[g, l])
            # the autoscaled y range holds every curve drawn
            low, high = left.get_ylim()
            assert low <= study.bias2[g].min() and high >= (study.bias2[g] + study.variance[g]).max()
            assert f"λ = {lam}" in left.get_title()


@pytest.mark.parametrize(("a", "b"), [((0.98, 0.9), (0.98, 0.0)), ((0.8, 1.0), (0.99, 1.0)),
                                      ((0.95, 0.5), (0.9, 0.97))])
def test_view_redraws_in_place(study, a, b):
    assert_redraws_in_place(fig_gae.make_bias_variance_view(study), a, b)


def test_view_rejects_values_off_the_grid(study):
    view = fig_gae.make_bias_variance_view(study)
    with pytest.raises(ValueError, match="gamma must be one of"):
        view(gamma=0.5, lam=0.5)
    with pytest.raises(ValueError, match="lam must be one of"):
        view(gamma=0.9, lam=0.55)


def test_truncation_figure_draws_both_handlings_with_their_error_bars():
    steps = np.arange(4)
    bias = {"steps": steps, "bootstrap": np.array([0.0, 0.01, -0.01, 0.0]), "bootstrap_se": np.full(4, 0.01),
            "as_terminal": np.array([-0.1, -0.2, -0.3, -0.5]), "as_terminal_se": np.full(4, 0.02)}
    fig = fig_gae.truncation_figure(bias, gamma=0.99, lam=0.95, limit=4)
    ax = fig.axes[0]
    drawn = {c.get_label(): c for c in ax.containers}
    assert len(drawn) == 2
    for name, container in zip(("bootstrap", "as_terminal"), ax.containers, strict=True):
        np.testing.assert_array_equal(container.lines[0].get_ydata(), bias[name])
    assert "3" in ax.get_xlabel() and "0.99" in ax.get_title() and "0.95" in ax.get_title()
    plt.close(fig)


def test_gradient_error_figure_marks_each_batch_size_minimum():
    lams = np.array([0.0, 0.5, 0.9, 1.0])
    gradients = {"lams": lams, "mse": np.array([0.3, 0.2, 0.4, 0.6]),
                 "angle": np.array([20.0, 10.0, 4.0, 0.0])}
    errors = np.array([[2.0, 1.0, 3.0, 5.0], [0.5, 0.4, 0.2, 0.3]])
    fig = fig_gae.gradient_error_figure(gradients, errors, (1, 100))
    left, twin, right = fig.axes[0], fig.axes[2], fig.axes[1]
    np.testing.assert_array_equal(left.lines[0].get_ydata(), gradients["mse"])
    np.testing.assert_array_equal(twin.lines[0].get_ydata(), gradients["angle"])
    stars = [line for line in right.lines if line.get_marker() == "*"]
    assert [float(s.get_xdata()[0]) for s in stars] == [0.5, 0.9]  # each curve's minimum
    assert [float(s.get_ydata()[0]) for s in stars] == [1.0, 0.2]
    assert right.get_yscale() == "log"
    plt.close(fig)
