"""Sliders around plain functions: the PNG path, the redraw timer, the values a control can take and
moving controls without drawing."""

import ipywidgets as widgets
import numpy as np
import pytest

from trpo_lite.figures.style import static_figure
from trpo_lite.widgets import control_choices, redraw_ms, show, slider_view, to_png


def test_redraw_ms_times_the_call_and_the_png(monkeypatch):
    shown = []
    monkeypatch.setattr("trpo_lite.widgets.display", shown.append)
    fig = static_figure((3, 2))
    (line,) = fig.subplots().plot([], [])

    def view(x):
        line.set_data([0, 1], [0, x])
        return fig

    times = redraw_ms(view, [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}])
    assert times.shape == (3, 2)
    assert np.all(times[:, 0] > 0) and np.all(times[:, 1] > times[:, 0])
    assert redraw_ms(view, []).shape == (0, 2)
    show(view(1.0))
    assert shown[0].data == to_png(view(1.0))


def test_control_choices_of_every_kind_of_control_as_its_readout_shows_them():
    gamma = widgets.FloatSlider(value=0.9, min=0.8, max=0.9, step=0.05)
    assert control_choices(gamma) == [("0.80", 0.8), ("0.85", 0.85), ("0.90", 0.9)]  # 0.8 + 0.05 rounded
    delta = widgets.FloatSlider(value=0.01, min=0.005, max=0.015, step=0.005, readout_format=".3f")
    assert [r for r, _ in control_choices(delta)] == ["0.005", "0.010", "0.015"]
    assert control_choices(widgets.IntSlider(value=2, min=1, max=3)) == [("1", 1), ("2", 2), ("3", 3)]
    log = control_choices(widgets.FloatLogSlider(value=0.1, min=-2, max=0, step=1))
    assert log == [("0.01", 0.01), ("0.1", 0.1), ("1", 1.0)]
    pairs = widgets.SelectionSlider(options=[("1e-3", 0.001), ("0.1", 0.1)], value=0.1)
    assert control_choices(pairs) == [("1e-3", 0.001), ("0.1", 0.1)]
    assert control_choices(widgets.Dropdown(options=["greedy", 3])) == [("greedy", "greedy"), ("3", 3)]
    assert control_choices(widgets.Checkbox(value=True)) == [("off", False), ("on", True)]
    with pytest.raises(TypeError, match="several values"):
        control_choices(widgets.IntRangeSlider())
    with pytest.raises(TypeError, match="no list of values"):
        control_choices(widgets.Text())


def test_control_choices_keeps_about_most_evenly_spaced_through_the_current_value_and_both_ends():
    episodes = widgets.IntSlider(value=500, min=10, max=2000, step=10)
    kept = [v for _, v in control_choices(episodes, most=51)]
    assert 51 <= len(kept) <= 53
    assert kept[0] == 10 and kept[-1] == 2000 and 500 in kept
    assert set(np.diff(kept[1:-1])) == {40}  # one stride between the ends
    assert len(control_choices(episodes, most=300)) == 200  # fewer than most: every step
    options = widgets.SelectionSlider(options=list(range(100)), value=37)
    kept = [v for _, v in control_choices(options, most=10)]
    assert 37 in kept and kept[0] == 0 and kept[-1] == 99 and len(kept) <= 12


def test_not_drawing_moves_the_controls_and_runs_their_observers_but_draws_nothing(monkeypatch):
    shown, calls, seen = [], [], []
    monkeypatch.setattr("trpo_lite.widgets.display", shown.append)

    def view(k):
        calls.append(k)
        return f"k = {k}"

    slider = slider_view(view, k=widgets.IntSlider(value=1, max=5))
    slider.controls["k"].observe(lambda change: seen.append(change.new), names="value")
    drawn = len(calls)
    with slider.not_drawing():
        slider.controls["k"].value = 4
    assert len(calls) == drawn and seen == [4]
    slider.controls["k"].value = 2
    assert calls[-1] == 2 and seen == [4, 2]
