"""Sliders around plain functions: the PNG path, the redraw timer, the values a control can take and
moving controls without drawing; notebook 08's live learning curve and training button (around
``examples.agent.retrain``)."""

import math
from types import SimpleNamespace

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from histories import BATCH, comparable, fake_history

from trpo_lite.examples.agent import retrain
from trpo_lite.figures.style import static_figure
from trpo_lite.widgets import LiveCurve, control_choices, redraw_ms, show, slider_view, to_png, train_button


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


@pytest.mark.parametrize("use_output", [False, True])
def test_live_curve_keeps_every_row_and_redraws_at_most_every_interval(use_output):
    history = fake_history()
    output = ipywidgets.Output() if use_output else None
    throttled = LiveCurve(target=475.0, output=output, min_interval=math.inf)
    every = LiveCurve(output=output, min_interval=0.0)
    for row in history:
        throttled(row)
        every(row)
    assert throttled.rows == every.rows == history
    assert throttled.draws == 1 and every.draws == len(history)  # the first row draws at once
    throttled.draw()
    assert throttled.draws == 2


def test_live_curve_draws_this_run_last_even_when_its_label_is_taken(monkeypatch):
    drawn = []
    monkeypatch.setattr("trpo_lite.widgets.learning_curve_figure",
                        lambda runs, **kwargs: drawn.append(list(runs)) or plt.figure())
    live = LiveCurve(reference={"a": fake_history(), "b": fake_history()}, label="a", min_interval=0.0)
    live(fake_history()[0])
    assert drawn == [["b", "a"]]


def test_button_trains_with_the_controls_values_and_keeps_the_run():
    controls = {"max_kl": ipywidgets.SelectionSlider(options=(0.001, 0.003, 0.01, 0.03, 0.1), value=0.03,
                                                     description="delta"),
                "lam": ipywidgets.FloatSlider(value=0.8, min=0.0, max=1.0, step=0.05, description="lambda")}
    runs = {"reference": fake_history()}
    box = train_button(controls, runs, total_steps=2 * BATCH, seed=0)
    button, status = box.children[0].children
    button.click()
    assert list(runs) == ["reference", "delta 0.03, lambda 0.80"]
    expected = retrain(max_kl=0.03, lam=0.8, seed=0, total_steps=2 * BATCH)
    assert comparable(runs["delta 0.03, lambda 0.80"]) == comparable(expected)
    assert status.value.startswith("Done") and not button.disabled


def test_button_says_it_is_training_while_it_trains(monkeypatch):
    controls = {"max_kl": SimpleNamespace(value=0.01), "lam": SimpleNamespace(value=0.95)}
    runs = {"delta 0.01, lambda 0.95": fake_history()}  # the same settings trained before
    box = train_button(controls, runs, total_steps=BATCH)
    button, status = box.children[0].children
    seen = []

    def fake_retrain(max_kl, lam, seed, total_steps, callback, progress):
        seen.append((status.value, button.disabled, max_kl, lam, total_steps, progress))
        for row in fake_history():
            callback(row)
        return fake_history()

    monkeypatch.setattr("trpo_lite.widgets.retrain", fake_retrain)
    button.click()
    (message, disabled, *settings), = seen
    assert message.startswith("<b>Training</b>") and disabled and settings == [0.01, 0.95, BATCH, True]
    assert list(runs) == ["delta 0.01, lambda 0.95", "delta 0.01, lambda 0.95 (2)"]  # the earlier run is kept
    assert not button.disabled and status.value.startswith("Done")


def test_button_reports_a_failure_and_stays_usable():
    controls = {"max_kl": SimpleNamespace(value=0.01), "lam": SimpleNamespace(value=1.5)}
    runs = {}
    box = train_button(controls, runs, total_steps=BATCH)
    button, status = box.children[0].children
    button.click()
    assert "Training failed" in status.value and "lam" in status.value
    assert runs == {} and not button.disabled


def test_control_choices_of_every_kind_of_control_as_its_readout_shows_them():
    gamma = ipywidgets.FloatSlider(value=0.9, min=0.8, max=0.9, step=0.05)
    assert control_choices(gamma) == [("0.80", 0.8), ("0.85", 0.85), ("0.90", 0.9)]  # 0.8 + 0.05 rounded
    delta = ipywidgets.FloatSlider(value=0.01, min=0.005, max=0.015, step=0.005, readout_format=".3f")
    assert [r for r, _ in control_choices(delta)] == ["0.005", "0.010", "0.015"]
    assert control_choices(ipywidgets.IntSlider(value=2, min=1, max=3)) == [("1", 1), ("2", 2), ("3", 3)]
    log = control_choices(ipywidgets.FloatLogSlider(value=0.1, min=-2, max=0, step=1))
    assert log == [("0.01", 0.01), ("0.1", 0.1), ("1", 1.0)]
    pairs = ipywidgets.SelectionSlider(options=[("1e-3", 0.001), ("0.1", 0.1)], value=0.1)
    assert control_choices(pairs) == [("1e-3", 0.001), ("0.1", 0.1)]
    assert control_choices(ipywidgets.Dropdown(options=["greedy", 3])) == [("greedy", "greedy"), ("3", 3)]
    assert control_choices(ipywidgets.Checkbox(value=True)) == [("off", False), ("on", True)]
    with pytest.raises(TypeError, match="several values"):
        control_choices(ipywidgets.IntRangeSlider())
    with pytest.raises(TypeError, match="no list of values"):
        control_choices(ipywidgets.Text())


def test_control_choices_keeps_about_most_evenly_spaced_through_the_current_value_and_both_ends():
    episodes = ipywidgets.IntSlider(value=500, min=10, max=2000, step=10)
    kept = [v for _, v in control_choices(episodes, most=51)]
    assert 51 <= len(kept) <= 53
    assert kept[0] == 10 and kept[-1] == 2000 and 500 in kept
    assert set(np.diff(kept[1:-1])) == {40}  # one stride between the ends
    assert len(control_choices(episodes, most=300)) == 200  # fewer than most: every step
    options = ipywidgets.SelectionSlider(options=list(range(100)), value=37)
    kept = [v for _, v in control_choices(options, most=10)]
    assert 37 in kept and kept[0] == 0 and kept[-1] == 99 and len(kept) <= 12


def test_not_drawing_moves_the_controls_and_runs_their_observers_but_draws_nothing(monkeypatch):
    shown, calls, seen = [], [], []
    monkeypatch.setattr("trpo_lite.widgets.display", shown.append)

    def view(k):
        calls.append(k)
        return f"k = {k}"

    slider = slider_view(view, k=ipywidgets.IntSlider(value=1, max=5))
    slider.controls["k"].observe(lambda change: seen.append(change.new), names="value")
    drawn = len(calls)
    with slider.not_drawing():
        slider.controls["k"].value = 4
    assert len(calls) == drawn and seen == [4]
    slider.controls["k"].value = 2
    assert calls[-1] == 2 and seen == [4, 2]


def test_button_reports_a_failure_where_an_output_widget_swallows_it(monkeypatch):
    """In a kernel, ipywidgets' Output swallows an exception raised inside its `with` block."""
    monkeypatch.setattr(ipywidgets.Output, "__exit__", lambda self, *exc_info: True)
    box = train_button({"max_kl": SimpleNamespace(value=0.01), "lam": SimpleNamespace(value=1.5)}, {},
                       total_steps=BATCH)
    button, status = box.children[0].children
    button.click()
    assert "Training failed" in status.value and "lam" in status.value, status.value
    assert not button.disabled
