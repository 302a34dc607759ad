"""Every notebook in notebooks/ (both editions): committed clean, runs top to bottom in a fresh kernel
within its time limit with every glyph of its figures in a font, and renders to a static HTML page with
its figures (`make html`).

New notebooks are picked up by the glob; no extra wiring.
"""

import functools
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_site import course_notebooks, execute, render  # noqa: E402
from clean_notebooks import dirt, notebooks  # noqa: E402

NOTEBOOKS = notebooks([str(ROOT / "notebooks")])
TIME_LIMIT_S = 60  # per notebook, on the 2-core course machine
# matplotlib's warning for a character none of its fonts has: "Glyph 20013 (\N{CJK UNIFIED IDEOGRAPH-4E2D})
# missing from font(s) DejaVu Sans, TRPO Course Sans SC."
MISSING_GLYPH = re.compile(r"Glyph (\d+) \(.*?\) missing from font\(s\) ([^\n]*?)\.?$", re.M)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def name(path: Path) -> str:
    """A notebook as the tests name it: its path below notebooks/ (both editions use the same file names)."""
    return path.relative_to(ROOT / "notebooks").as_posix()


@functools.cache
def executed(path: Path):
    """Each notebook runs once per test session; the site test reuses the result."""
    return execute(path, timeout=TIME_LIMIT_S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_notebook_is_clean(path):
    problems = dirt(json.loads(path.read_text()))
    assert not problems, f"{path.name}: {problems}; run `make clean-notebooks`"


def test_hygiene_check_catches_dirt():
    code = {"cell_type": "code", "outputs": [], "execution_count": None}
    assert dirt({"metadata": {}, "cells": [code]}) == []
    assert dirt({"metadata": {"widgets": {}}, "cells": []})
    assert dirt({"metadata": {}, "cells": [{**code, "outputs": [1]}]})
    assert dirt({"metadata": {}, "cells": [{**code, "execution_count": 3}]})


def output_texts(nb: nbformat.NotebookNode):
    """The text of every output of an executed notebook: its cells' (streams, errors, plain text) and
    those its Output widgets captured (where a slider view's first drawing goes)."""
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    widget_models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}).values()
    outputs += [output for model in widget_models for output in model["state"].get("outputs", [])]
    for output in outputs:
        if output["output_type"] == "stream":
            yield output["text"]
        elif output["output_type"] == "error":
            yield "\n".join(output["traceback"])
        else:
            yield output.get("data", {}).get("text/plain", "")


def missing_glyphs(nb: nbformat.NotebookNode) -> list[str]:
    """Each character matplotlib warned it had no glyph for while the notebook ran, and the fonts it tried."""
    found = {(int(code), fonts) for text in output_texts(nb) for code, fonts in MISSING_GLYPH.findall(text)}
    return [f"'{chr(code)}' (U+{code:04X}, missing from {fonts})" for code, fonts in sorted(found)]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_notebook_runs_in_fresh_kernel(path):
    nb, seconds = executed(path)
    print(f"{name(path)}: {seconds:.1f} s")
    assert seconds < TIME_LIMIT_S, f"{name(path)} took {seconds:.1f} s, limit {TIME_LIMIT_S} s"
    glyphs = missing_glyphs(nb)
    assert not glyphs, (f"{name(path)} draws characters no font of its figures has: {', '.join(glyphs)}; "
                        "add them to the course font (python tools/subset_font.py) or reword")


def test_glyph_check_names_the_character_matplotlib_could_not_draw(tmp_path):
    path = tmp_path / "glyphs.ipynb"
    draw = ("from trpo_lite.figures.style import static_figure, use_course_style\n"
            "from trpo_lite.widgets import show\n\n"
            "use_course_style()\n"
            "fig = static_figure((2, 1))\n"
            "fig.subplots().set_title({title!r})\n"
            "show(fig)")
    cells = [new_code_cell(draw.format(title="信任区域")), new_code_cell(draw.format(title="신뢰"))]  # Hangul
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), path)
    nb, _ = execute(path, timeout=TIME_LIMIT_S)
    found = missing_glyphs(nb)  # matplotlib names the fonts it tried in no fixed order
    assert [g.split(", missing from ")[0] for g in found] == ["'뢰' (U+B8B0", "'신' (U+C2E0"]
    assert all("DejaVu Sans" in g and "TRPO Course Sans SC" in g for g in found), found
    nb.cells.pop()  # the Chinese figure alone: every glyph found
    assert missing_glyphs(nb) == []


@pytest.mark.slow
def test_site_has_every_notebook_with_its_figures(tmp_path):
    paths = course_notebooks()
    assert paths, "no numbered notebooks in notebooks/"
    pages = render({p: executed(p)[0] for p in paths}, tmp_path)
    index = (tmp_path / "index.html").read_text()
    for path, page in zip(paths, pages, strict=True):
        nb = executed(path)[0]
        figures = sum(
            "image/png" in output.get("data", {})
            for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
        )
        assert figures > 0, f"{path.name} shows no figure outside its widgets"
        assert page.read_text().count("data:image/png;base64") >= figures, page.name
        assert f'href="{page.name}"' in index
