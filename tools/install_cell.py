"""The first code cell of every notebook: in Colab (or any hosted notebook without the course's package)
it installs trpo_lite from the repository; where the package is installed it does nothing.

Usage: python tools/install_cell.py [NOTEBOOK ...]   (default: every notebook in notebooks/; writes the
cell as the first code cell, replacing an earlier version of it). tests/test_notebooks.py checks that
every notebook starts with it.
"""

import json
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
MARK = "# Colab or another hosted notebook:"
CELL_ID = "install"  # the same in both editions (tools/editions.py matches cells by id)


def repository() -> str:
    """The course's public repository (pyproject.toml, [project.urls] Repository)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def source() -> str:
    """The cell's code."""
    return (f"{MARK} install the course's package first (elsewhere this does nothing).\n"
            "import importlib.util\n"
            "import sys\n"
            "\n"
            'if importlib.util.find_spec("trpo_lite") is None:\n'
            f'    %pip install --quiet "trpo_lite @ git+{repository()}"\n'
            'if "google.colab" in sys.modules:  # Colab draws ipywidgets 8 with its custom widget manager\n'
            "    from google.colab import output\n"
            "\n"
            "    output.enable_custom_widget_manager()")


def colab_link(notebook: Path) -> str:
    """The "open in Colab" address of a notebook of the repository's main branch."""
    path = notebook.resolve().relative_to(ROOT).as_posix()
    return f"https://colab.research.google.com/github/{repository().split('github.com/')[1]}/blob/main/{path}"


def first_code_cell(nb: dict) -> dict | None:
    return next((cell for cell in nb["cells"] if cell["cell_type"] == "code"), None)


def apply(path: Path) -> None:
    """Make the install cell the notebook's first code cell (replacing an earlier version of it)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = {"cell_type": "code", "execution_count": None, "id": CELL_ID, "metadata": {}, "outputs": [],
            "source": source().splitlines(keepends=True)}
    first = first_code_cell(nb)
    if first is not None and "".join(first["source"]).startswith(MARK):
        first.update(source=cell["source"], id=CELL_ID)
    else:
        index = nb["cells"].index(first) if first is not None else len(nb["cells"])
        nb["cells"].insert(index, cell)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    targets = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb"))
    for target in targets:
        apply(target)
        print(f"install cell in {target}")
