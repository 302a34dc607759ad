"""Every notebook in notebooks/: committed clean, and runs top to bottom in a fresh kernel.

New notebooks are picked up by the glob; no extra wiring.
"""

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from clean_notebooks import dirt, notebooks  # noqa: E402

NOTEBOOKS = notebooks([str(ROOT / "notebooks")])
TIME_LIMIT_S = 60  # per notebook, on the 2-core course machine


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    problems = dirt(json.loads(path.read_text()))
    assert not problems, f"{path.name}: {problems}; run `make clean-notebooks`"


def test_hygiene_check_catches_dirt():
    clean_nb = {"metadata": {}, "cells": [{"cell_type": "code", "outputs": [], "execution_count": None}]}
    assert dirt(clean_nb) == []
    assert dirt({"metadata": {"widgets": {}}, "cells": []})
    assert dirt({"metadata": {}, "cells": [{"cell_type": "code", "outputs": [1], "execution_count": None}]})
    assert dirt({"metadata": {}, "cells": [{"cell_type": "code", "outputs": [], "execution_count": 3}]})


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_fresh_kernel(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIME_LIMIT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s")
    assert elapsed < TIME_LIMIT_S, f"{path.name} took {elapsed:.1f} s, limit {TIME_LIMIT_S} s"
