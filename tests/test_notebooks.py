"""Every notebook in notebooks/: committed clean, runs top to bottom in a fresh kernel within
its time limit, and renders to a static HTML page with its figures (`make html`).

New notebooks are picked up by the glob; no extra wiring.
"""

import functools
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_site import course_notebooks, execute, render  # noqa: E402
from clean_notebooks import dirt, notebooks  # noqa: E402

NOTEBOOKS = notebooks([str(ROOT / "notebooks")])
TIME_LIMIT_S = 60  # per notebook, on the 2-core course machine


@functools.cache
def executed(path: Path):
    """Each notebook runs once per test session; the site test reuses the result."""
    return execute(path, timeout=TIME_LIMIT_S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    problems = dirt(json.loads(path.read_text()))
    assert not problems, f"{path.name}: {problems}; run `make clean-notebooks`"


def test_hygiene_check_catches_dirt():
    code = {"cell_type": "code", "outputs": [], "execution_count": None}
    assert dirt({"metadata": {}, "cells": [code]}) == []
    assert dirt({"metadata": {"widgets": {}}, "cells": []})
    assert dirt({"metadata": {}, "cells": [{**code, "outputs": [1]}]})
    assert dirt({"metadata": {}, "cells": [{**code, "execution_count": 3}]})


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_fresh_kernel(path):
    _, seconds = executed(path)
    print(f"{path.name}: {seconds:.1f} s")
    assert seconds < TIME_LIMIT_S, f"{path.name} took {seconds:.1f} s, limit {TIME_LIMIT_S} s"


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
