"""Sliders around plain functions: the PNG path and the redraw timer."""

import numpy as np

from trpo_lite.figures.style import static_figure
from trpo_lite.widgets import redraw_ms, show, to_png


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
