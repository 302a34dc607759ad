"""Sliders that work without a kernel: every state a slider view can show, drawn when the site is built.

`freeze` runs inside a notebook's kernel right after its last cell, where the views, their data and
their controls are as the notebook built them. For each displayed widget that holds a ``SliderView``
it lists the states the page offers, draws the view in each one into an image file (a frame), and
returns HTML that takes the widget's place: plain controls (``<input type=range>``, ``<select>``), the
start frame, and a table of states that ``slider.js`` follows when a control moves. Its own few texts
are in the notebook's language (``trpo_lite.tr``: the kernel ran the notebook's language cell).

Which states: every combination of the controls' values when there are at most GRID_LIMIT of them;
otherwise the start and every value of one control with the others at their start (moving a control
then shows its value with the others back at their start). A control whose move changes another
control's options or value (an observer in the notebook, such as notebook 09's sweep and value) makes
the states a walk: the live widgets are moved and wherever they land is a state.
"""

import hashlib
import html
import io
import itertools
import json
import math
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import PIL.Image
from ipywidgets.widgets.widget import _instances
from matplotlib.figure import Figure

from trpo_lite.language import tr
from trpo_lite.widgets import SliderView, control_choices

GRID_LIMIT = 150  # every combination of the controls' values, up to this many states
MOST_PER_CONTROL = 51  # a control with more values keeps about this many (through its start value)
FRAME_FORMAT = "webp"  # measured against PNG: see `encode`


def encode(fig: Figure) -> bytes:
    """The figure as the site shows it: lossless WebP, every pixel of the notebook's PNG (same size, dpi).

    Measured on 60 of the course's frames (up to 1300 x 480): matplotlib's PNG 78 KB a frame; lossless
    WebP 31 KB at this effort (method 1, quality 50: 44 ms), 30 KB at full effort (150 ms); lossy WebP
    (quality 80) no smaller, with blurred lines and text.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format=FRAME_FORMAT, pil_kwargs={"lossless": True, "quality": 50, "method": 1})
    plt.close(fig)  # as the notebook's own drawing does (widgets.to_png): pyplot keeps no frame's figure
    return buffer.getvalue()


def choices(control, anchors: dict) -> list[tuple[str, object]]:
    """The values the page offers for control (readout, value): all, or about MOST_PER_CONTROL spread
    through the value the control had when these options were first seen (anchors keeps them)."""
    full = control_choices(control)
    key = (id(control), tuple(readout for readout, _ in full))
    if key not in anchors:
        anchors[key] = control_choices(control, MOST_PER_CONTROL)
    return anchors[key]


def index_of(options: list[tuple[str, object]], value) -> int:
    """Where value sits in options: the equal one, else (a number between steps) the nearest."""
    for k, (_, v) in enumerate(options):
        if v is value or (type(v) is type(value) and v == value):
            return k
    if isinstance(value, int | float):
        return min(range(len(options)), key=lambda k: abs(options[k][1] - value))
    raise ValueError(f"value {value!r} is none of the control's options")


class States:
    """The states of one SliderView's controls and the moves between them.

    A state is a tuple with one (list, index) pair per control: which list of options the control
    has (``lists``), and which of them is set. ``moves[s][i][j]`` is the state that setting control i to
    option j leads to from state s.
    """

    def __init__(self, slider: SliderView):
        self.controls = list(slider.controls.values())
        self.lists, self._list_ids, self._anchors = [], {}, {}
        with slider.not_drawing():
            self.start = self.now()
            try:
                self.states, self.moves = self._explore()
            finally:
                self.set(self.start)

    def now(self) -> tuple:
        """The state the live controls are in."""
        state = []
        for i, control in enumerate(self.controls):
            options = choices(control, self._anchors)
            key = (i, tuple(readout for readout, _ in options))
            if key not in self._list_ids:
                self._list_ids[key] = len(self.lists)
                self.lists.append(options)
            state.append((self._list_ids[key], index_of(options, control.value)))
        return tuple(state)

    def values(self, state: tuple) -> list:
        return [self.lists[list_id][k][1] for list_id, k in state]

    def readouts(self, state: tuple) -> list[str]:
        return [self.lists[list_id][k][0] for list_id, k in state]

    def set(self, state: tuple) -> None:
        """Move the live controls to state (in turns: a control's options may depend on another's value)."""
        for _ in range(len(self.controls)):
            for i, (list_id, k) in enumerate(state):
                if self.now()[i][0] == list_id:  # else another control's value must change its options first
                    self.controls[i].value = self.lists[list_id][k][1]
            if self.now() == state:
                return
        raise RuntimeError(f"the controls cannot be set back to {self.readouts(state)}")

    def move(self, state: tuple, i: int, j: int) -> tuple:
        """The state the live controls land in when control i is set to option j from state."""
        self.set(state)
        self.controls[i].value = self.lists[state[i][0]][j][1]
        return self.now()

    def _explore(self) -> tuple[list[tuple], list]:
        sizes = [len(self.lists[list_id]) for list_id, _ in self.start]
        first = {(i, j): self.move(self.start, i, j) for i, n in enumerate(sizes) for j in range(n)}
        if all(t[:i] + t[i + 1:] == self.start[:i] + self.start[i + 1:] for (i, _), t in first.items()):
            return self._independent(sizes)
        return self._walk()

    def _independent(self, sizes: list[int]) -> tuple[list[tuple], list]:
        """Controls that move alone: combinations are made, not walked."""
        lists = [list_id for list_id, _ in self.start]

        def with_option(state, i, j):
            return state[:i] + ((lists[i], j),) + state[i + 1:]

        self.every_combination = math.prod(sizes) <= GRID_LIMIT
        if self.every_combination:
            states = [tuple(zip(lists, ks, strict=True)) for ks in itertools.product(*map(range, sizes))]
            states.remove(self.start)
            states.insert(0, self.start)
        else:
            states = [self.start] + [with_option(self.start, i, j) for i, n in enumerate(sizes)
                                     for j in range(n) if j != self.start[i][1]]
        known = set(states)
        moves = [[[t if (t := with_option(s, i, j)) in known else with_option(self.start, i, j)
                   for j in range(n)] for i, n in enumerate(sizes)] for s in states]
        return states, moves

    def _walk(self) -> tuple[list[tuple], list]:
        """Controls that change each other: every state the live widgets reach, breadth first."""
        self.every_combination = True
        states, moves = [self.start], []
        for state in states:  # grows while it is walked
            row = []
            for i, (list_id, _) in enumerate(state):
                targets = [self.move(state, i, j) for j in range(len(self.lists[list_id]))]
                states += [t for t in targets if t not in states]
                row.append(targets)
            moves.append(row)
            if len(states) > GRID_LIMIT:
                raise ValueError(f"controls that change each other reach over {GRID_LIMIT} states: too many "
                                 "to draw for a page without a kernel")
        return states, moves


class FrameWriter:
    """Writes a notebook's frames as files named by their order, each distinct picture once."""

    def __init__(self, folder: Path, url: str):
        self.folder, self.url, self.seen = folder, url, {}
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, result) -> dict:
        """A view's result as a frame: {"src": url} for a figure, {"html": ...} for anything else."""
        if isinstance(result, Figure):
            data = encode(result)
            digest = hashlib.sha1(data).hexdigest()
            if digest not in self.seen:
                name = f"{len(self.seen) + 1}.{FRAME_FORMAT}"
                (self.folder / name).write_bytes(data)
                width, height = PIL.Image.open(io.BytesIO(data)).size
                self.seen[digest] = {"src": self.url + name, "width": width, "height": height}
            return self.seen[digest]
        return {"html": as_html(result)}


def as_html(result) -> str:
    """What the notebook would display for a view's non-figure result, as HTML."""
    from IPython.core.interactiveshell import InteractiveShell

    data, _ = InteractiveShell.instance().display_formatter.format(result)
    if "text/html" in data:
        return data["text/html"]
    return f"<pre>{html.escape(data.get('text/plain', ''))}</pre>"


def state_table(slider: SliderView, frames: FrameWriter) -> tuple[States, dict]:
    """The view drawn in every state, and the table slider.js follows: the readouts of each list of
    options, the distinct frames, and for each state its frame, its options and its moves."""
    states = States(slider)
    view = getattr(slider.view, "func", slider.view)  # functools.partial views
    drawn = []
    for state in states.states:
        values = dict(zip(slider.controls, states.values(state), strict=True))
        try:
            drawn.append(json.dumps(frames.add(slider.view(**values)), sort_keys=True))
        except Exception as error:
            raise RuntimeError(f"{view.__name__} failed for {values}") from error
    distinct = list(dict.fromkeys(drawn))
    number = {state: k for k, state in enumerate(states.states)}
    return states, {
        "lists": [[readout for readout, _ in options] for options in states.lists],
        "frames": [json.loads(frame) for frame in distinct],
        "states": [{"frame": distinct.index(frame), "at": [list(pair) for pair in state],
                    "next": [[number[t] for t in row] for row in moves]}
                   for state, frame, moves in zip(states.states, drawn, states.moves, strict=True)],
    }


def slider_markup(slider: SliderView, frames: FrameWriter) -> str:
    """The static stand-in for one SliderView: its controls at their start, the start frame, the table."""
    states, table = state_table(slider, frames)
    settings = list(zip(slider.controls.items(), states.start, states.readouts(states.start), strict=True))
    controls = "".join(control_markup(i, control, states.lists[list_id], k)
                       for i, ((_, control), (list_id, k), _) in enumerate(settings))
    start = table["frames"][table["states"][0]["frame"]]
    if "src" in start:
        text = tr("Figure for {settings}",
                  settings=", ".join(f"{c.description or name} = {r}" for (name, c), _, r in settings))
        picture = (f'<img src="{start["src"]}" width="{start["width"]}" height="{start["height"]}" '
                   f'alt="{html.escape(text)}">')
    else:
        picture = start["html"]
    one_at_a_time = tr("Here one control moves at a time: the others go back to their start.")
    note = "" if states.every_combination else f'<p class="static-note">{one_at_a_time}</p>'
    data = html.escape(json.dumps(table, separators=(",", ":")))
    return (f'<div class="static-slider" data-states="{data}"><div class="static-controls">{controls}</div>'
            f'{note}<div class="static-frame">{picture}</div></div>')


def control_markup(i: int, control, options: list[tuple[str, object]], k: int) -> str:
    """A plain HTML control under the widget's description: a range and its readout for a slider, a
    drop-down list for any other choice."""
    name = html.escape(control.description or f"control {i + 1}")
    label = f'<label class="static-control"><span class="static-description">{name}</span>'
    if isinstance(control, widgets.SelectionSlider) or not (hasattr(control, "options")
                                                            or isinstance(control.value, bool)):
        return (f'{label}<input type="range" data-control="{i}" min="0" max="{len(options) - 1}" step="1" '
                f'value="{k}"><output class="static-readout">{html.escape(options[k][0])}</output></label>')
    items = "".join(f"<option{' selected' if j == k else ''}>{html.escape(readout)}</option>"
                    for j, (readout, _) in enumerate(options))
    return f'{label}<select data-control="{i}">{items}</select></label>'


def widget_markup(widget, frames: FrameWriter) -> str:
    """A displayed widget as static HTML: its slider views working, the rest as it stands now."""
    if isinstance(widget, SliderView):
        return slider_markup(widget, frames)
    if isinstance(widget, widgets.Box):
        direction = "row" if isinstance(widget, widgets.HBox) else "column"
        inner = "".join(widget_markup(child, frames) for child in widget.children)
        return f'<div class="static-box" style="flex-direction: {direction}">{inner}</div>'
    if isinstance(widget, widgets.HTML | widgets.HTMLMath):
        return f"<span>{widget.value}</span>"
    if isinstance(widget, widgets.Label):
        return f"<span>{html.escape(widget.value)}</span>"
    if isinstance(widget, widgets.FloatProgress | widgets.IntProgress):
        return f'<progress value="{widget.value - widget.min}" max="{widget.max - widget.min}"></progress>'
    if isinstance(widget, widgets.Button):
        return (f'<button type="button" disabled>{html.escape(widget.description)}</button>'
                f'<span class="static-note">{tr("(in a running notebook)")}</span>')
    return ""  # an Output widget's contents live in the front end, not here


def freeze(model_ids: list[str], folder: str, url: str) -> None:
    """In the kernel: the static HTML of each displayed widget model_ids[k], displayed as JSON
    {model_id: html} for the build to read; frames go to folder, which the page reaches as url."""
    from IPython.display import display

    frames = FrameWriter(Path(folder), url)
    shown = {model_id: widget_markup(_instances[model_id], frames)
             for model_id in model_ids if model_id in _instances}  # a widget closed since shows nothing
    display({"application/json": shown}, raw=True)
