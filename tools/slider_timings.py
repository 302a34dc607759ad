"""Measure how fast every slider answers (issue: sliders answer in at most 100 ms).

Runs each notebook in a fresh kernel, then, for every ``slider_view`` it built,
moves each slider across its range (all other controls at their initial
values) and times the view: `compute` is the call that builds the figure,
`total` adds rendering it to the PNG the page shows. Prints a Markdown table.

Usage: python tools/slider_timings.py [NOTEBOOK ...]   (default: all of notebooks/)
"""

import json
import os
import platform
import sys
from pathlib import Path

import nbformat
from build_site import course_notebooks  # tools/ is on sys.path when run as a script
from notebook_client import CourseClient

# Runs inside the notebook's kernel after its last cell.
PROBE = r'''
import json, statistics
import numpy as np
from trpo_lite.widgets import control_choices, live_slider_views, redraw_ms

_rows = []
for _slider in live_slider_views():
    _view, _controls = _slider.view, _slider.controls
    _base = {n: c.value for n, c in _controls.items()}
    for _name, _control in _controls.items():
        _times = np.empty((0, 2))
        for _, _v in control_choices(_control, most=7):  # about 7 values, the start among them
            try:
                _times = np.vstack([_times, redraw_ms(_view, [{**_base, _name: _v}])])
            except ValueError:  # a combination dependent controls never show (09's sweep and value)
                continue
        _compute, _total = _times.T.tolist()
        if not _compute:
            continue
        _fn = getattr(_view, "func", _view)  # functools.partial views
        _rows.append({"view": _fn.__module__.split(".")[-1] + "." + _fn.__name__, "slider": _name,
                      "compute_median_ms": statistics.median(_compute), "compute_max_ms": max(_compute),
                      "total_median_ms": statistics.median(_total), "total_max_ms": max(_total)})
print("SLIDER_TIMINGS" + json.dumps(_rows))
'''


def measure(path: Path) -> list[dict]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    resources = {"metadata": {"path": str(path.parent)}}
    CourseClient(nb, timeout=300, kernel_name="python3", resources=resources).execute()
    for output in nb.cells[-1].outputs:
        text = output.get("text", "")
        if "SLIDER_TIMINGS" in text:
            return json.loads(text.split("SLIDER_TIMINGS", 1)[1])
    raise RuntimeError(f"{path.name}: the timing probe printed nothing")


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or course_notebooks()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n| notebook | view | slider | compute median / max (ms) | with PNG median / max (ms) |")
    print("|---|---|---|---|---|")
    for path in paths:
        for r in measure(path):
            print(f"| {path.stem} | `{r['view']}` | {r['slider']} | {r['compute_median_ms']:.0f} / "
                  f"{r['compute_max_ms']:.0f} | {r['total_median_ms']:.0f} / {r['total_max_ms']:.0f} |")
