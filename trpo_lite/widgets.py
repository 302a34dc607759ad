"""Sliders around plain functions.

A widget callback that raises prints its traceback into the page; a headless
notebook run does not see it. So every view is a plain function, tested
directly and called once in a normal cell, and this module only wires it to
sliders.
"""

import io
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display


def to_png(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes, then closed; a fast zlib level, since a redraw is drawing plus encoding."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return buffer.getvalue()


def show(result) -> None:
    """Display what a view returned: a matplotlib Figure (as PNG, then closed), or anything else.

    The PNG is rendered directly rather than through the inline backend, whose
    tight-bounding-box pass draws every figure twice: sliders answer faster.
    """
    if isinstance(result, plt.Figure):
        display(Image(to_png(result)))
    elif result is not None:
        display(result)


def redraw_ms(view, settings) -> np.ndarray:
    """What one slider move costs, for each setting: [N, 2] milliseconds of wall-clock time.

    Args:
        view: the function a ``slider_view`` wraps.
        settings: N dicts of keyword arguments for view.
    Returns:
        column 0: the call ``view(**kwargs)`` (compute and build or update the figure);
        column 1: that plus rendering the PNG the page shows (``to_png``), the whole answer.
    """
    times = []
    for kwargs in settings:
        start = time.perf_counter()
        result = view(**kwargs)
        called = time.perf_counter()
        if isinstance(result, plt.Figure):
            to_png(result)
        times.append([called - start, time.perf_counter() - start])
    return 1000 * np.array(times).reshape(-1, 2)


class SliderView(widgets.VBox):
    """Controls above an output that shows ``view(**values)`` and redraws on every change.

    Keeps ``view`` and ``controls`` so that tools (slider timings, the static site) can replay
    every slider of an executed notebook; ipywidgets' own registry of live widgets finds them.
    """

    def __init__(self, view, controls: dict):
        output = widgets.interactive_output(lambda **values: show(view(**values)), controls)
        super().__init__([widgets.HBox(list(controls.values())), output])
        self.view, self.controls = view, controls


def slider_view(view, **controls) -> SliderView:
    """Sliders (or other controls) for a plain view function, above its output.

    Args:
        view: a plain function of the controls' values returning a Figure (or
            something displayable).
        controls: name -> ipywidgets control (FloatSlider, IntSlider, ...); the
            names are view's keyword arguments.
    Returns:
        the widget box; display it as a cell's last expression.
    """
    return SliderView(view, controls)


def live_slider_views() -> list[SliderView]:
    """Every SliderView still alive in this kernel, in the order they were made (ipywidgets keeps each
    widget until it is closed)."""
    from ipywidgets.widgets.widget import _instances

    return [w for w in list(_instances.values()) if isinstance(w, SliderView)]
