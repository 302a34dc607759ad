"""The course outside the checkout: a fresh virtual environment with the package's dependencies (torch
2.13.0 among them, already installed) but not trpo_lite, the notebooks copied to a temporary folder.

The first notebook's install cell (tools/install_cell.py) finds no trpo_lite and installs it from the
repository, as in Colab: pip clones it, builds a wheel and installs that. Here git is told that the
repository's address means this checkout (its committed state), so nothing leaves the machine. Then
every notebook runs from the temporary folder, so the package must work from site-packages alone:
its saved results and fonts are package data, not paths into the repository.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_site import course_notebooks  # noqa: E402
from install_cell import repository  # noqa: E402

# What running notebooks needs besides the package's own dependencies.
RUNNER = ["ipykernel", "nbclient", "nbformat", "pyzmq"]
RUN_ALL = r"""
import sys, time
from pathlib import Path
import nbformat
sys.path.insert(0, sys.argv[1])  # the checkout's tools/, for its stall-safe notebook client only
from notebook_client import CourseClient
for path in sorted(Path(".").glob("*.ipynb")):
    nb, start = nbformat.read(path, as_version=4), time.perf_counter()
    CourseClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
    seconds = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    print(f"{path.name} {seconds:.1f} s {'ERROR ' + errors[0]['ename'] if errors else 'ok'}", flush=True)
import trpo_lite
print("trpo_lite from", trpo_lite.__file__)
"""


def run(args, cwd, env=None):
    """Run a command outside the checkout, with no PYTHONPATH or virtual environment of the caller's."""
    env = {k: v for k, v in (env or os.environ).items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=1800)
    assert done.returncode == 0, f"{args[:4]}...\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_every_notebook_runs_from_a_fresh_environment_outside_the_checkout(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("needs a git checkout: the install cell installs the package from the repository")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # torch first, pinned: a range would pull a CUDA build from PyPI. The lock constrains the rest.
    run([python, "-m", "pip", "install", "--quiet", "torch==2.13.0"], tmp_path)
    run([python, "-m", "pip", "install", "--quiet", "-c", ROOT / "requirements.lock",
         *project["dependencies"], *RUNNER], tmp_path)
    code = "import importlib.util; print(importlib.util.find_spec('trpo_lite'))"
    found = run([python, "-c", code], tmp_path)
    assert found.strip() == "None"
    course = tmp_path / "course"
    course.mkdir()
    for notebook in course_notebooks():
        (course / notebook.name).write_text(notebook.read_text(encoding="utf-8"), encoding="utf-8")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{ROOT}"]\n\tinsteadOf = {repository()}\n')
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(gitconfig),
           "PIP_CONSTRAINT": str(ROOT / "requirements.lock"),
           "PATH": os.pathsep.join([str(venv / "bin"), os.environ["PATH"]])}
    out = run([python, "-c", RUN_ALL, str(ROOT / "tools")], course, env)
    print(out)
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [p.name for p in course_notebooks()]
    assert all(line.endswith(" ok") for line in lines[:-1]), out
    installed = Path(lines[-1].split(" from ", 1)[1])
    assert venv in installed.parents and ROOT not in installed.parents, installed
    first = json.loads((course / course_notebooks()[0].name).read_text())  # still clean: outputs in memory
    assert not any(cell.get("outputs") for cell in first["cells"])
