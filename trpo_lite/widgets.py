"""Sliders around plain functions.

A widget callback that raises prints its traceback into the page; a headless
notebook run does not see it. So every view is a plain function, tested
directly and called once in a normal cell, and this module only wires it to
sliders.
"""

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
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


BUILT: list[tuple] = []
"""(view, controls) of every slider_view made in this kernel; tools/slider_timings.py times them."""


def slider_view(view, **controls) -> widgets.VBox:
    """Controls above an output that shows ``view(**values)`` and redraws on every change.

    Args:
        view: a plain function of the controls' values returning a Figure (or
            something displayable).
        controls: name -> ipywidgets control (FloatSlider, IntSlider, ...); the
            names are view's keyword arguments.
    Returns:
        the widget box; display it as a cell's last expression.
    """
    BUILT.append((view, controls))
    output = widgets.interactive_output(lambda **values: show(view(**values)), controls)
    return widgets.VBox([widgets.HBox(list(controls.values())), output])
