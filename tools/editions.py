"""The course's two editions: English in notebooks/, Simplified Chinese in notebooks/zh/ (same file names).

The editions hold the same cells in the same order, matched by cell id. Code cells are identical, except
the language cell (id "language", right after the install cell) that selects the language of everything
the package draws and prints. Markdown cells are written for each edition's readers.

Usage: python tools/editions.py [NOTEBOOK ...]   (default: every English notebook)
  Puts the language cell into each English notebook, then rebuilds each Chinese notebook that exists
  from its English one: every code cell copied, every markdown cell kept from the Chinese edition by id.
  An English markdown cell with no Chinese counterpart yet is copied in English and reported;
  tests/test_editions.py fails on it until it is translated. Start a new translation with --new.
"""

import argparse
import copy
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = ROOT / "notebooks"
CHINESE = ENGLISH / "zh"
LANGUAGE_ID = "language"
LANGUAGE_SOURCE = {
    "en": 'import trpo_lite\n\ntrpo_lite.use_language("en")  # 中文版: notebooks/zh/',
    "zh": 'import trpo_lite\n\ntrpo_lite.use_language("zh")  # English edition: notebooks/ (英文版)',
}


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def source(cell: dict) -> str:
    return "".join(cell["source"])


def language_cell(code: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": LANGUAGE_ID, "metadata": {}, "outputs": [],
            "source": LANGUAGE_SOURCE[code].splitlines(keepends=True)}


def with_language_cell(nb: dict) -> dict:
    """The English notebook with its language cell right after the first code cell (the install cell)."""
    cells = [c for c in nb["cells"] if c.get("id") != LANGUAGE_ID]
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(first_code + 1, language_cell("en"))
    return {**nb, "cells": cells}


def chinese_from(english: dict, chinese: dict | None) -> tuple[dict, list[str]]:
    """The Chinese notebook rebuilt from the English one; and the ids of markdown cells still English."""
    translated = {c["id"]: c for c in (chinese or {"cells": []})["cells"] if c["cell_type"] == "markdown"}
    cells, untranslated = [], []
    for cell in english["cells"]:
        if cell.get("id") == LANGUAGE_ID:
            cells.append(language_cell("zh"))
        elif cell["cell_type"] == "markdown" and cell["id"] in translated:
            cells.append(translated[cell["id"]])
        else:
            cells.append(copy.deepcopy(cell))
            untranslated += [cell["id"]] if cell["cell_type"] == "markdown" else []
    return {**english, "cells": cells}, untranslated


def code_differences(english: dict, chinese: dict) -> list[str]:
    """Where the Chinese edition's cells differ from the English edition's, besides markdown text."""
    problems = []
    en_cells, zh_cells = english["cells"], chinese["cells"]
    en_ids, zh_ids = [c.get("id") for c in en_cells], [c.get("id") for c in zh_cells]
    if en_ids != zh_ids:
        missing = [i for i in en_ids if i not in zh_ids]
        extra = [i for i in zh_ids if i not in en_ids]
        return [f"cells differ in order or number (missing {missing}, extra {extra})"]
    for index, (en, zh) in enumerate(zip(en_cells, zh_cells, strict=True)):
        where = f"cell {index} (id {en['id']})"
        if en["cell_type"] != zh["cell_type"]:
            problems.append(f"{where} is {zh['cell_type']} here, {en['cell_type']} in English")
        elif en["cell_type"] == "code" and en["id"] == LANGUAGE_ID:
            if source(zh) != LANGUAGE_SOURCE["zh"]:
                problems.append(f"{where}, the language cell, does not select Chinese")
        elif en["cell_type"] == "code" and source(en) != source(zh):
            problems.append(f"{where} has code that differs from the English edition's")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="English notebooks (default: all)")
    parser.add_argument("--new", action="store_true", help="create missing Chinese notebooks (all English)")
    args = parser.parse_args()
    for path in args.notebooks or sorted(ENGLISH.glob("[0-9][0-9]_*.ipynb")):
        english = with_language_cell(read(path))
        write(path, english)
        target = CHINESE / path.name
        if not target.exists() and not args.new:
            continue
        chinese, untranslated = chinese_from(english, read(target) if target.exists() else None)
        target.parent.mkdir(exist_ok=True)
        write(target, chinese)
        still = f"; {len(untranslated)} markdown cells still English: {untranslated}" if untranslated else ""
        print(f"{target.relative_to(ROOT)}: code from the English edition{still}")


if __name__ == "__main__":
    main()
