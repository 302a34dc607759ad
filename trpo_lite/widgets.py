"""Sliders and buttons around plain functions, and a learning curve redrawn while training runs.

A widget callback that raises prints its traceback into the page; a headless
notebook run does not see it. So every view is a plain function, tested
directly and called once in a normal cell, and this module only wires it to
sliders (``slider_view``) or to a button (``train_button``, around
``examples.agent.retrain``).
"""

import contextlib
import html
import io
import math
import time
from collections.abc import Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from trpo_lite.examples.agent import CARTPOLE_SOLVED, RETURN, retrain, run_label
from trpo_lite.figures.agent import learning_curve_figure
from trpo_lite.language import tr


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


def control_choices(control, most: int | None = None) -> list[tuple[str, object]]:
    """What a control can be set to, in its own order: (readout, value) pairs, the readout as the control
    shows it and the value as the view receives it.

    The options of a selection (Dropdown, SelectionSlider, ...); every step of a numeric slider from min
    to max (a FloatLogSlider's steps are exponents: values base ** exponent); off and on for a checkbox.
    Floats are rounded to 12 significant digits, so that 0.8 + 15 * 0.01 is 0.95.

    Args:
        control: an ipywidgets control of one value.
        most: keep about this many (at most most + 2), evenly spaced steps through the control's current
            value, and both ends; None keeps every one.
    """
    if isinstance(control, widgets.SelectMultiple | widgets.SelectionRangeSlider | widgets.IntRangeSlider
                  | widgets.FloatRangeSlider):
        raise TypeError(f"{type(control).__name__} holds several values; a view control must hold one")
    if hasattr(control, "options"):
        options = control.options.items() if isinstance(control.options, Mapping) else control.options
        choices = [o if isinstance(o, tuple) and len(o) == 2 else (str(o), o) for o in options]
        choices = [(str(label), value) for label, value in choices]
        at = control.index or 0
    elif isinstance(control.value, bool):
        choices, at = [("off", False), ("on", True)], int(control.value)
    elif all(hasattr(control, name) for name in ("min", "max", "step")):
        lo, hi, step = control.min, control.max, control.step
        n = int(round((hi - lo) / step)) + 1
        base = getattr(control, "base", None)  # FloatLogSlider: min, max and step are exponents
        exponent = math.log(control.value, base) if base else control.value
        at = min(n - 1, max(0, int(round((exponent - lo) / step))))
        points = [lo + k * step for k in range(n)]
        values = [base**p for p in points] if base else points
        if isinstance(control.value, int):
            values = [int(round(v)) for v in values]
        else:
            values = [float(f"{v:.12g}") for v in values]
        spec = getattr(control, "readout_format", "")
        choices = [(_readout(v, spec), v) for v in values]
    else:
        raise TypeError(f"{type(control).__name__} has no list of values to choose from")
    if most is None or len(choices) <= most:
        return choices
    stride = -(-(len(choices) - 1) // (most - 1))
    kept = sorted({0, len(choices) - 1, *range(at % stride, len(choices), stride)})
    return [choices[k] for k in kept]


def _readout(value, spec: str) -> str:
    """value as a slider's readout shows it (its readout_format, a d3 format that Python's agrees with
    for the formats sliders use: ".2f", "d", ".3g")."""
    try:
        return format(value, spec)
    except ValueError:
        return str(value)


class SliderView(widgets.VBox):
    """Controls above an output that shows ``view(**values)`` and redraws on every change.

    Keeps ``view`` and ``controls`` so that tools (slider timings, the static site) can replay
    every slider of an executed notebook; ipywidgets' own registry of live widgets finds them.
    """

    def __init__(self, view, controls: dict):
        self.view, self.controls, self._drawing = view, controls, True
        output = widgets.interactive_output(self._draw, controls)
        super().__init__([widgets.HBox(list(controls.values())), output])

    def _draw(self, **values) -> None:
        if self._drawing:
            show(self.view(**values))

    @contextlib.contextmanager
    def not_drawing(self):
        """Inside, moving the controls draws nothing (their other observers still run): for tools that
        set the controls to every state and call ``view`` themselves."""
        self._drawing = False
        try:
            yield self
        finally:
            self._drawing = True


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


class LiveCurve:
    """A ``train`` callback: keeps the rows and redraws the learning curve at most every ``min_interval`` s.

    Without ``output`` it draws into a display handle (updated in place, so a headless
    run stores the last picture); with an ``ipywidgets.Output`` it redraws in there (a
    button's callback). Call ``draw()`` once after training for the final picture.

    Args:
        reference: label -> history drawn behind this run (e.g. earlier runs).
        label: this run's legend entry (default "this run", in the reader's language).
        target, title: as in ``figures.agent.learning_curve_figure``.
        output: an ipywidgets Output, or None for a display handle.
        min_interval: seconds between redraws; each redraw costs about 0.1 s of training time.
    """

    def __init__(self, reference: dict | None = None, label: str | None = None, target: float | None = None,
                 title: str = "", output=None, min_interval: float = 1.0):
        label = tr("this run") if label is None else label
        self.reference, self.label, self.target, self.title = dict(reference or {}), label, target, title
        self.output, self.min_interval = output, min_interval
        self.rows, self.draws, self._handle, self._last = [], 0, None, -math.inf

    def __call__(self, row: dict) -> None:
        self.rows.append(row)
        if time.perf_counter() - self._last >= self.min_interval:
            self.draw()

    def draw(self) -> None:
        """Redraw now, with every row received so far."""
        # this run last (drawn boldest), even if an earlier run had the same label
        runs = {k: v for k, v in self.reference.items() if k != self.label} | {self.label: self.rows}
        picture = Image(to_png(learning_curve_figure(runs, target=self.target, title=self.title)))
        if self.output is not None:
            self.output.clear_output(wait=True)  # replace the picture, no flicker
            with self.output:
                display(picture)
        elif self._handle is None:
            self._handle = display(picture, display_id=True)
        else:
            self._handle.update(picture)
        self.draws += 1
        self._last = time.perf_counter()


def train_button(controls: dict, runs: dict, total_steps: int = 30_000, seed: int = 0) -> widgets.VBox:
    """A button that retrains CartPole-v1 (``examples.agent.retrain``) with the controls' ``max_kl`` and
    ``lam`` values.

    While it trains the button is disabled, a line says so, and a tqdm bar and a live
    curve (this run against every run in ``runs``) show progress. Each finished run is
    added to ``runs`` (label -> history), so the next one is drawn against it.
    """
    button = widgets.Button(description=tr("Train CartPole"), button_style="primary", icon="play")
    status = widgets.HTML(value=tr("Choose delta and lambda, then press the button."))
    progress, plot = widgets.Output(), widgets.Output()

    def on_click(_):
        max_kl, lam = controls["max_kl"].value, controls["lam"].value
        label = run_label(max_kl, lam, taken=runs)
        button.disabled = True
        status.value = tr("<b>Training</b> CartPole-v1 with {label} for {steps:,} steps ...", label=label,
                          steps=total_steps)
        progress.clear_output()
        live = LiveCurve(reference=runs, label=label, target=CARTPOLE_SOLVED, output=plot,
                         title=f"CartPole-v1, {label}")
        start = time.perf_counter()
        try:
            # In a kernel, an Output widget's `with` swallows an exception (it shows the traceback in the
            # output), so the error is caught inside it, where it happens.
            with progress:
                try:
                    history = retrain(max_kl, lam, seed, total_steps, callback=live, progress=True)
                except Exception as exc:  # an exception in a widget callback would reach only the log
                    status.value = tr("<b>Training failed</b>: {error}", error=html.escape(repr(exc)))
                    return
            live.draw()
            runs[label] = history
            status.value = tr("Done in {seconds:.0f} s: last-10 return {ret:.0f}. Change the sliders and "
                              "train again to compare.", seconds=time.perf_counter() - start,
                              ret=history[-1][RETURN])
        finally:
            button.disabled = False

    button.on_click(on_click)
    return widgets.VBox([widgets.HBox([button, status]), progress, plot])
