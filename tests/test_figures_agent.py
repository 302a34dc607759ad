"""Notebook 08's figures: curves and diagnostics draw the history they are given, the animation keeps
the frames it promises, and the settings view draws its numbers, redrawing one figure in place."""

import matplotlib

matplotlib.use("Agg")

import base64
import math
import re
import struct

import matplotlib.pyplot as plt
import numpy as np
import pytest
from histories import fake_history
from redraw import assert_redraws_in_place

from trpo_lite.examples.agent import settings_numbers
from trpo_lite.figures import agent as fig_agent

DELTAS = (0.001, 0.003, 0.01, 0.03, 0.1)  # the notebook's delta slider
LAMS = np.round(np.arange(0.0, 1.0001, 0.05), 2)  # the notebook's lambda slider


def test_diagnostics_figure_draws_the_history():
    history, max_kl = fake_history(), 0.01
    fig = fig_agent.diagnostics_figure(history, max_kl)
    ax_kl, ax_bt, ax_gain, ax_ev = fig.axes
    assert np.allclose(ax_kl.lines[0].get_ydata(), [r["policy/kl"] for r in history])
    assert ax_kl.lines[1].get_ydata()[0] == max_kl  # the delta line
    assert [p.get_height() for p in ax_bt.patches] == [r["line_search/backtracks"] for r in history]
    assert ax_bt.lines[0].get_xdata().tolist() == [3]  # the one rejection, at iteration 3
    assert np.allclose(ax_gain.lines[0].get_ydata(), [r["policy/surrogate_gain"] for r in history])
    assert np.allclose(ax_ev.lines[0].get_ydata(), [r["value/explained_variance"] for r in history],
                       equal_nan=True)
    plt.close(fig)


def test_learning_curve_figure_draws_each_nonempty_run_and_the_target():
    history = fake_history()
    fig = fig_agent.learning_curve_figure({"a": history, "empty": [], "b": history[:3]}, target=475.0)
    ax = fig.axes[0]
    lines = [line for line in ax.lines if line.get_label() in ("a", "b")]
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert lines[1].get_xdata().tolist() == [1024, 2048, 3072]
    assert np.allclose(lines[0].get_ydata()[1:], [10.0 * i for i in range(1, 8)])
    assert any(np.all(np.asarray(line.get_ydata()) == 475.0) for line in ax.lines)
    plt.close(fig)


def png_size(data_url: str) -> tuple[int, int]:
    png = base64.b64decode(data_url.split(",", 1)[1])
    return struct.unpack(">II", png[16:24])  # IHDR: width, height


def test_episode_animation_keeps_every_kth_frame_and_the_last_shrunk():
    frames = [np.full((40, 60, 3), 10 * i, np.uint8) for i in range(23)]
    page = fig_agent.episode_animation(frames, every=5, scale=2)
    embedded = re.findall(r'frames\[(\d+)\] = "(data:image/png;base64,[^"]+)"', page)
    assert len(embedded) == 6  # frames 0, 5, 10, 15, 20 and the last, 22
    width, height = png_size(embedded[0][1])
    assert width == 30 and height == 20 + 30  # 60 / 2 pixels wide; 40 / 2 high plus the caption strip
    assert len(fig_agent.episode_animation(frames, every=1, scale=4).split("data:image/png")) - 1 == 23


@pytest.mark.parametrize(("kwargs", "message"), [({"every": 0}, "every"), ({"scale": 1.5}, "scale")])
def test_episode_animation_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fig_agent.episode_animation([np.zeros((4, 4, 3), np.uint8)], **kwargs)
    with pytest.raises(ValueError, match="empty"):
        fig_agent.episode_animation([])


def test_episode_animation_names_frames_that_were_not_drawn():
    frames = [np.zeros((4, 4, 3), np.uint8) if t % 4 == 0 or t == 9 else None for t in range(10)]
    assert "data:image/png" in fig_agent.episode_animation(frames, every=8)  # frames 0, 8 and 9
    with pytest.raises(ValueError, match=r"frames \[6\] were not drawn.*every=6"):
        fig_agent.episode_animation(frames, every=6)


@pytest.mark.parametrize("max_kl", DELTAS)
def test_settings_view_over_the_sliders(max_kl):
    history = fake_history()
    for lam in LAMS:
        numbers = settings_numbers(history, max_kl, float(lam))
        fig = fig_agent.settings_view(history, max_kl, float(lam))
        ax_kl, ax_w = fig.axes
        ratio = float(re.search(r"([\d.]+)x as long", ax_kl.get_title()).group(1))
        assert ratio == pytest.approx(math.sqrt(max_kl / 0.01), abs=0.005)  # step length ~ sqrt(delta) (E9)
        np.testing.assert_array_equal(ax_kl.lines[0].get_ydata(), numbers["kl"])
        assert ax_kl.lines[2].get_ydata()[0] == max_kl and ax_kl.get_ylim()[1] >= max_kl
        chosen = ax_w.lines[1]
        np.testing.assert_array_equal(chosen.get_ydata(), numbers["weights"])
        np.testing.assert_array_equal(ax_w.lines[0].get_ydata(), numbers["reference_weights"])
        assert np.allclose(chosen.get_ydata(), [(0.99 * lam) ** int(k) for k in chosen.get_xdata()])
        horizon = float(re.search(r"horizon ([\d.]+)", chosen.get_label()).group(1))
        assert horizon == pytest.approx(1 / (1 - 0.99 * lam), abs=0.05)
        assert ax_w.get_legend().get_texts()[1].get_text() == chosen.get_label()
        plt.close(fig)


def test_settings_view_ticks_are_plain_and_few():
    fig = fig_agent.settings_view(fake_history(), 0.03, 0.5)
    fig.canvas.draw()
    ax_kl, ax_w = fig.axes
    assert [t.get_text() for t in ax_kl.get_yticklabels()] == ["0", "0.015", "0.03"]
    assert [t.get_text() for t in ax_w.get_xticklabels()] == ["0", "20", "40", "60"]
    low, high = ax_kl.get_xlim()
    assert 2 <= len([t for t in ax_kl.get_xticks() if low <= t <= high]) <= 5
    assert all(len(ax.xaxis.get_minorticklocs()) == 0 for ax in (ax_kl, ax_w))


# (history, max_kl, lam) pairs across the sliders' ranges, and a shorter reference run
REDRAW_PAIRS = [((8, 0.01, 0.95), (8, 0.001, 0.0)), ((8, 0.1, 1.0), (8, 0.003, 0.5)),
                ((8, 0.03, 0.8), (8, 0.03, 0.85)), ((8, 0.01, 0.95), (3, 0.01, 0.95))]


@pytest.mark.parametrize(("a", "b"), REDRAW_PAIRS)
def test_settings_view_redraw_depends_only_on_its_arguments(a, b):
    def view(rows, max_kl, lam):
        return fig_agent.settings_view(fake_history()[:rows], max_kl, lam)

    assert_redraws_in_place(view, a, b)
