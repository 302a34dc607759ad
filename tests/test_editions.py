"""The two editions of the course (tools/editions.py): every English notebook starts with the install cell
and the language cell; each Chinese notebook holds the English one's code cell for cell, prose that is
Chinese, and a translation of every text the package shows it."""

import ast
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from editions import CHINESE, ENGLISH, LANGUAGE_ID, LANGUAGE_SOURCE, code_differences, read  # noqa: E402
from install_cell import colab_link  # noqa: E402
from install_cell import source as install_source  # noqa: E402

from trpo_lite.language import catalog  # noqa: E402

ENGLISH_NOTEBOOKS = sorted(ENGLISH.glob("[0-9][0-9]_*.ipynb"))
CHINESE_NOTEBOOKS = sorted(CHINESE.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", ENGLISH_NOTEBOOKS, ids=lambda p: p.name)
def test_english_notebook_starts_with_the_install_cell_then_the_language_cell(path):
    code = [c for c in read(path)["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == install_source(), f"{path.name}: run python tools/install_cell.py"
    assert code[1].get("id") == LANGUAGE_ID and "".join(code[1]["source"]) == LANGUAGE_SOURCE["en"], (
        f"{path.name}: run python tools/editions.py")


@pytest.mark.parametrize("path", CHINESE_NOTEBOOKS, ids=lambda p: p.name)
def test_chinese_notebook_has_the_english_code_cell_for_cell(path):
    english = ENGLISH / path.name
    assert english.exists(), f"{path.relative_to(ROOT)} has no English notebook of the same name"
    problems = code_differences(read(english), read(path))
    assert not problems, f"{path.relative_to(ROOT)}: {'; '.join(problems)}; run python tools/editions.py"


def test_code_check_names_the_cell_that_differs():
    english = read(ENGLISH_NOTEBOOKS[0])
    chinese = json.loads(json.dumps(english))
    index = next(i for i, c in enumerate(chinese["cells"])
                 if c["cell_type"] == "code" and c["id"] not in ("install", LANGUAGE_ID))
    chinese["cells"][index]["source"] = ["x = 1\n"]
    cell_id = chinese["cells"][index]["id"]
    assert code_differences(english, chinese)[-1].startswith(f"cell {index} (id {cell_id})")
    assert "language cell" in code_differences(english, english)[0]  # the English one does not select Chinese
    assert "order or number" in code_differences(english, {"cells": chinese["cells"][:-1]})[0]


# --- prose ------------------------------------------------------------------------------------------

HIDDEN = [
    r"```.*?```",  # code blocks
    r"`[^`]*`",  # inline code
    r"\$\$.*?\$\$", r"\$[^$]*\$",  # math
    r"\\\[.*?\\\]", r"\\\(.*?\\\)",
    r"\]\([^)]*\)",  # link targets (the link text stays and is checked)
    r"<[^>]+>",  # HTML tags
    r"https?://\S+",
]
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[\s,;:'-]+[A-Za-z][a-z]+){3,}\b")  # four English words in a row


def english_prose(markdown: str) -> list[str]:
    """Runs of four or more English words in a markdown text, outside code, math, links' targets and tags."""
    for pattern in HIDDEN:
        markdown = re.sub(pattern, " ", markdown, flags=re.S)
    return ENGLISH_RUN.findall(markdown)


def test_the_prose_check_finds_english_and_passes_chinese():
    assert english_prose("The surrogate is a first-order model of J.") == ["first-order model of"]
    assert english_prose("替代目标 $L_{\\pi_{old}}(\\pi)$ 即 `trpo_lite.surrogate(ratio, advantages)`") == []
    assert english_prose("见 [Schulman et al. 2015](https://arxiv.org/abs/1502.05477) 的附录") == []
    assert english_prose("[Trust Region Policy Optimization](https://x.org)") != []


@pytest.mark.parametrize("path", CHINESE_NOTEBOOKS, ids=lambda p: p.name)
def test_chinese_notebook_has_no_english_prose(path):
    found = [(i, english_prose("".join(c["source"]))) for i, c in enumerate(read(path)["cells"])
             if c["cell_type"] == "markdown"]
    found = [(i, runs) for i, runs in found if runs]
    assert not found, f"{path.relative_to(ROOT)}: English prose in markdown cells {found[:5]}"


# --- the package's texts ----------------------------------------------------------------------------


def texts(tree: ast.AST) -> set[str]:
    """The literal texts passed to tr(...) in a parsed module or cell."""
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "tr"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def package_imports(tree: ast.AST) -> set[str]:
    """The trpo_lite modules a parsed module or cell imports (from trpo_lite.x import y counts x and x.y)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("trpo_lite")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("trpo_lite"):
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def module_tree(name: str) -> ast.AST | None:
    path = ROOT / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return ast.parse(candidate.read_text(encoding="utf-8"))
    return None


def shown_texts(path: Path) -> set[str]:
    """Every literal tr text of a notebook's code cells and of the package modules they reach."""
    cells = [ast.parse(re.sub(r"^(\s*)[%!].*$", r"\1pass", "".join(c["source"]), flags=re.M))
             for c in read(path)["cells"] if c["cell_type"] == "code"]
    found, seen, todo = set(), set(), set()
    for tree in cells:
        found |= texts(tree)
        todo |= package_imports(tree)
    while todo:
        name = todo.pop()
        seen.add(name)
        tree = module_tree(name)
        if tree is not None:
            found |= texts(tree)
            todo |= package_imports(tree) - seen
    return found


@pytest.mark.parametrize("path", CHINESE_NOTEBOOKS, ids=lambda p: p.name)
def test_every_text_a_chinese_notebook_shows_has_a_translation(path):
    missing = sorted(shown_texts(path) - set(catalog("zh")))
    assert not missing, (f"{path.relative_to(ROOT)}: {len(missing)} texts without a Chinese translation in "
                         f"trpo_lite/locale/zh/, first {missing[:3]}")


@pytest.mark.parametrize("path", ENGLISH_NOTEBOOKS, ids=lambda p: p.name)
def test_readme_links_every_notebook_and_its_colab_page(path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"](notebooks/{path.name})" in readme, f"README.md's course table has no row for {path.name}"
    assert f"]({colab_link(path)})" in readme, f"README.md's row for {path.name} has no Colab link"
