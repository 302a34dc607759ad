"""Sliders around plain functions: the PNG path and the redraw timer; notebook 08's live learning curve
and training button (around ``examples.agent.retrain``)."""

import math
from types import SimpleNamespace

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from histories import BATCH, comparable, fake_history

from trpo_lite.examples.agent import retrain
from trpo_lite.figures.style import static_figure
from trpo_lite.widgets import LiveCurve, redraw_ms, show, to_png, train_button


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
