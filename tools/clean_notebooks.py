"""Strip outputs, execution counts and widget state from notebooks (`make clean-notebooks`).

Usage: python tools/clean_notebooks.py [PATH ...]   (folders are searched for *.ipynb)
"""

import json
import sys
from pathlib import Path


def dirt(nb: dict) -> list[str]:
    """What keeps a notebook (parsed JSON) from being clean; empty when clean."""
    found = []
    if "widgets" in nb.get("metadata", {}):
        found.append("widget state in notebook metadata")
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has an execution count")
    return found


def clean(nb: dict) -> dict:
    """Return the notebook with outputs, execution counts and widget state removed."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    return nb


def notebooks(paths: list[str]) -> list[Path]:
    found = []
    for p in map(Path, paths):
        found += [p] if p.suffix == ".ipynb" else sorted(p.rglob("*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


if __name__ == "__main__":
    for path in notebooks(sys.argv[1:] or ["notebooks"]):
        nb = json.loads(path.read_text())
        if dirt(nb):
            path.write_text(json.dumps(clean(nb), indent=1, ensure_ascii=False) + "\n")
            print(f"cleaned {path}")
