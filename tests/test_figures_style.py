"""The course style's helpers: figures outside pyplot, autoscale-like limits, plain ticks."""

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from trpo_lite.figures.style import padded_limits, plain_ticks, static_figure
from trpo_lite.widgets import to_png


def test_static_figure_is_outside_pyplot_and_survives_show():
    fig = static_figure((3, 2))
    fig.subplots().plot([0, 1], [1, 0])
    assert all(plt.figure(n) is not fig for n in plt.get_fignums())
    first = to_png(fig)  # closes it, as show does
    assert first.startswith(b"\x89PNG") and to_png(fig) == first


def test_padded_limits_match_matplotlib_autoscaling():
    fig = static_figure((3, 2))
    ax = fig.subplots()
    values = np.array([0.3, -1.2, 4.0, 2.5])
    ax.plot(np.arange(4), values)
    assert ax.get_ylim() == pytest.approx(padded_limits(values), rel=1e-12)  # default margins: 5%
    assert padded_limits(values, 0.1) == pytest.approx((-1.72, 4.52), rel=1e-12)
    assert padded_limits([2.0, 2.0]) == pytest.approx((1.95, 2.05))  # constant values: a range of 1



def test_plain_ticks_fixed_or_few_and_never_minor():
    fig = static_figure((3, 2))
    ax = fig.subplots()
    ax.set(yscale="log", ylim=(1e-8, 1e2), xlim=(0, 37))
    plain_ticks(ax.yaxis, [1e-8, 1e-4, 1], ["≤1e-8", "1e-4", "1"])
    plain_ticks(ax.xaxis)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["≤1e-8", "1e-4", "1"]
    assert len(ax.yaxis.get_minorticklocs()) == 0 and len(ax.xaxis.get_minorticklocs()) == 0
    assert 2 <= len([t for t in ax.get_xticks() if 0 <= t <= 37]) <= 6
    plain_ticks(ax.xaxis, [0, 10, 20])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "10", "20"]


def test_bold_text_in_the_course_style_draws_without_a_font_warning():
    """The course font has one weight; bold text (grid letters, titles) must not make matplotlib warn."""
    script = ("import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
              "from trpo_lite.figures.style import use_course_style\n"
              "use_course_style(); fig, ax = plt.subplots()\n"
              "ax.text(0.5, 0.5, 'S 策略', fontweight='bold'); fig.canvas.draw()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "findfont" not in done.stderr + done.stdout, done.stderr
