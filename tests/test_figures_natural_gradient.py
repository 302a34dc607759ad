"""Notebook 05's figure: it draws the numbers of examples.natural_gradient and redraws in place."""

import functools

import numpy as np
import pytest
import torch
from redraw import assert_redraws_in_place

from trpo_lite.examples import natural_gradient as ng
from trpo_lite.figures.natural_gradient import trust_region_view


@pytest.fixture(scope="module")
def toy():
    return ng.make_toy_policy()


def test_view_draws_the_computed_steps(toy):
    for max_kl, damping in [(0.005, 0.0), (0.05, 0.3), (0.1, 1.0), (0.02, 0.0)]:
        s = ng.trust_region_picture(toy, max_kl, damping)
        ax = trust_region_view(toy, max_kl, damping).axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert f"natural: KL {s['natural_kl']:.3f}, gain {s['natural_gain']:.3f}" in labels
        assert f"plain (ball): KL {s['plain_kl']:.3f}, gain {s['plain_gain']:.3f}" in labels
        assert f"plain (ellipse): KL {s['plain_cut_kl']:.3f}, gain {s['plain_cut_gain']:.3f}" in labels
        assert f"E8 optimum: KL {s['best_kl']:.3f}, gain {s['best_gain']:.3f}" in labels
        assert any(label.startswith("½ dᵀ(H+ξI)d") for label in labels) == (damping > 0)
        tips = sorted(tuple(np.round(a.xy, 9)) for a in ax.texts)
        assert tips == sorted(tuple(np.round(s[k], 9)) for k in ("natural", "plain"))
        assert f"{s['angle']:.0f}°" in ax.get_title()
        for key in ("plain_cut", "best"):
            marker = next(line for line in ax.lines if np.array_equal(line.get_xydata(), [s[key]]))
            assert marker.get_linestyle() == "None"
        drawn = [line.get_xydata() for line in ax.lines if len(line.get_xdata()) == len(s["ellipse"])]
        assert any(np.array_equal(d, s["ellipse"]) for d in drawn)
        assert any(np.array_equal(d, s["ball"]) for d in drawn)
        assert any(np.array_equal(d, s["damped_ellipse"]) for d in drawn)
        assert len(drawn) == 2 + (damping > 0)  # the damped ellipse only with damping
        # the exact KL contour, drawn once, at delta: the KL at its vertices (interpolated on the grid)
        (contour,) = [c for c in ax.collections if not c.filled]
        vertices = np.concatenate([path.vertices for path in contour.get_paths()])
        kls = ng.toy_kl(toy.pi_old, torch.as_tensor(vertices)).numpy()
        assert len(vertices) > 50 and np.allclose(kls, max_kl, rtol=0.01)


@pytest.mark.parametrize(("a", "b"), [((0.05, 0.0), (0.1, 1.0)), ((0.005, 0.5), (0.005, 0.0))])
def test_view_redraws_in_place(toy, a, b):
    assert_redraws_in_place(functools.partial(trust_region_view, toy), a, b)


def test_a_second_toy_policy_replaces_the_background(toy):
    small = ng.make_toy_policy(grid_size=41, extent=1.5)
    ax = trust_region_view(small, 0.05, 0.0).axes[0]
    (bands,) = [c for c in ax.collections if c.filled]  # the first toy's bands are gone
    assert ax.get_xlim() == (-1.5, 1.5) and bands.levels.max() == pytest.approx(small.surrogate_grid.max())
    ax = trust_region_view(toy, 0.05, 0.0).axes[0]
    (bands,) = [c for c in ax.collections if c.filled]
    assert ax.get_xlim() == (-2.5, 2.5) and bands.levels.max() == pytest.approx(toy.surrogate_grid.max())


def test_bad_arguments_are_named_before_drawing(toy):
    with pytest.raises(ValueError, match="max_kl must be a finite number > 0; got 0"):
        trust_region_view(toy, 0, 0.0)
    with pytest.raises(ValueError, match="damping must be a finite number >= 0; got -0.1"):
        trust_region_view(toy, 0.01, -0.1)
