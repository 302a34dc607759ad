"""tools/static_sliders.py: which states a page without a kernel offers, where each move leads, the
frames drawn for them and the HTML that takes a widget's place. Real ipywidgets, no kernel needed;
the page's script is tested in a browser (tests/browser/test_site.py)."""

import html
import json
import re
import sys
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import static_sliders  # noqa: E402
from static_sliders import FrameWriter, States, slider_markup, widget_markup  # noqa: E402

from trpo_lite.widgets import slider_view  # noqa: E402


def text_view(**values):
    return ", ".join(f"{k}={v}" for k, v in values.items())


def settings(states: States, state) -> dict:
    return dict(zip(["a", "b"], states.values(state), strict=True))


def two_controls(n_a=3, n_b=2):
    return slider_view(text_view, a=widgets.IntSlider(value=1, min=0, max=n_a - 1),
                       b=widgets.SelectionSlider(options=[f"b{k}" for k in range(n_b)], value="b0"))


def test_a_small_grid_is_every_combination_and_a_move_keeps_the_other_control():
    states = States(two_controls(3, 2))
    assert len(states.states) == 6 == len(set(states.states))
    assert settings(states, states.states[0]) == {"a": 1, "b": "b0"}  # the start comes first
    for s, state in enumerate(states.states):
        for j in range(2):
            assert settings(states, states.moves[s][1][j]) == {**settings(states, state), "b": f"b{j}"}


def test_past_the_grid_limit_one_control_moves_at_a_time_and_the_others_return_to_their_start(monkeypatch):
    monkeypatch.setattr(static_sliders, "GRID_LIMIT", 5)
    states = States(two_controls(3, 3))
    assert len(states.states) == 1 + 2 + 2
    assert all(sum(x != y for x, y in zip(s, states.start, strict=True)) <= 1 for s in states.states)
    a0 = states.states.index(states.moves[0][0][0])  # a moved to 0 from the start
    assert settings(states, states.moves[a0][0][2]) == {"a": 2, "b": "b0"}  # a again: exact
    assert settings(states, states.moves[a0][1][2]) == {"a": 1, "b": "b2"}  # b: a back at its start


def test_controls_that_change_each_other_are_walked_as_the_live_widgets_go():
    sweep = widgets.Dropdown(options=["size", "colour"], value="size")
    value = widgets.SelectionSlider(options=["s", "m", "l"], value="m")

    def follow(change):  # as notebook 09 does: the sweep chooses the values on offer
        value.options = ["s", "m", "l"] if change.new == "size" else ["red", "blue"]

    sweep.observe(follow, names="value")
    states = States(slider_view(text_view, sweep=sweep, value=value))
    shown = {tuple(states.values(s)) for s in states.states}
    assert shown == {("size", "s"), ("size", "m"), ("size", "l"), ("colour", "red"), ("colour", "blue")}
    to_colour = states.moves[0][0][1]
    assert tuple(states.values(to_colour)) == ("colour", "red")  # where the observer put the value
    s = states.states.index(to_colour)
    assert [tuple(states.values(t)) for t in states.moves[s][1]] == [("colour", "red"), ("colour", "blue")]
    assert (sweep.value, value.value, value.options) == ("size", "m", ("s", "m", "l"))  # left at its start


def test_walked_states_past_the_limit_fail_the_build(monkeypatch):
    monkeypatch.setattr(static_sliders, "GRID_LIMIT", 3)
    sweep = widgets.Dropdown(options=["x", "y"], value="x")
    value = widgets.SelectionSlider(options=[1, 2], value=1)
    sweep.observe(lambda change: setattr(value, "options", [1, 2] if change.new == "x" else [3, 4]), "value")
    with pytest.raises(ValueError, match="over 3 states"):
        States(slider_view(text_view, sweep=sweep, value=value))


def test_exploring_draws_nothing_in_the_notebook(monkeypatch):
    shown = []
    monkeypatch.setattr("trpo_lite.widgets.display", shown.append)
    slider = two_controls(3, 2)
    drawn = len(shown)
    States(slider)
    assert len(shown) == drawn


def frames_of(markup: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-states="([^"]*)"', markup)[1]))


def test_each_distinct_picture_is_written_once(tmp_path):
    def view(a, b):  # b changes nothing
        fig = plt.figure(figsize=(1, 1), dpi=40)
        fig.text(0.5, 0.5, str(a))
        return fig

    slider = slider_view(view, a=widgets.IntSlider(value=0, max=2), b=widgets.Dropdown(options=[1, 2]))
    table = frames_of(slider_markup(slider, FrameWriter(tmp_path, "frames/nb/")))
    assert len(table["states"]) == 6 and len(table["frames"]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.webp", "2.webp", "3.webp"]
    assert {f["src"] for f in table["frames"]} == {f"frames/nb/{k}.webp" for k in (1, 2, 3)}
    assert all((f["width"], f["height"]) == (40, 40) for f in table["frames"])


def test_markup_has_the_widgets_descriptions_start_values_and_a_table_the_script_can_follow(tmp_path):
    alpha = widgets.FloatSlider(value=0.5, min=0, max=1, step=0.25, description="alpha")
    mode = widgets.Dropdown(options=["one", "two"], value="two", description="mode")
    slider = slider_view(text_view, a=alpha, b=mode)
    markup = slider_markup(slider, FrameWriter(tmp_path, "frames/nb/"))
    assert '<span class="static-description">alpha</span>' in markup
    assert 'type="range" data-control="0" min="0" max="4" step="1" value="2"' in markup
    assert '<output class="static-readout">0.50</output>' in markup
    assert '<select data-control="1"><option>one</option><option selected>two</option></select>' in markup
    table = frames_of(markup)
    assert table["lists"] == [["0.00", "0.25", "0.50", "0.75", "1.00"], ["one", "two"]]
    start = table["states"][0]
    assert start["at"] == [[0, 2], [1, 1]]
    assert table["frames"][start["frame"]] == {"html": "<pre>&#x27;a=0.5, b=two&#x27;</pre>"}
    for state in table["states"]:
        assert [len(row) for row in state["next"]] == [5, 2]
        assert all(0 <= t < len(table["states"]) for row in state["next"] for t in row)


def test_a_failing_view_names_itself_and_the_values(tmp_path):
    def broken(k):
        if k == 2:
            raise ZeroDivisionError
        return str(k)

    with pytest.raises(RuntimeError, match=r"broken failed for \{'k': 2\}"):
        slider_markup(slider_view(broken, k=widgets.IntSlider(value=0, max=3)), FrameWriter(tmp_path, ""))


def test_a_box_keeps_its_slider_working_and_shows_the_rest_as_it_stands(tmp_path):
    button = widgets.Button(description="Train")
    bar = widgets.HBox([widgets.HTML("100%"), widgets.FloatProgress(value=3, max=4),
                        widgets.Label("3/4 <done>")])
    box = widgets.VBox([two_controls(), widgets.HBox([button, widgets.HTML("<b>press</b>")]), bar,
                        widgets.Output()])
    markup = widget_markup(box, FrameWriter(tmp_path, ""))
    assert markup.count('class="static-slider"') == 1
    assert '<button type="button" disabled>Train</button>' in markup and "(in a running notebook)" in markup
    assert "<b>press</b>" in markup and "3/4 &lt;done&gt;" in markup
    assert '<progress value="3.0" max="4.0"></progress>' in markup
