"""Imports only go downward: core math <- agent and training <- computing layer (examples) <- drawing
layer (figures) <- widgets <- notebooks and the command line. Parsed from the source (ast), not imported.

Exercises sit beside the drawing layer and never import it; the package never imports benchmarks/ or
tools/; benchmarks use the package's core, its records and the computing layer (the function a notebook
calls to recompute a saved run is the one the script ran), never the drawing layer, widgets or
exercises; the computing layer never imports matplotlib and the drawing layer never imports torch or
gymnasium.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CORE = {"_validate", "flat", "cg", "fisher", "step", "importance", "gae", "tabular", "policies", "value",
        "normalize", "config", "language"}
AGENT = {"rollout", "agent", "training", "persistence", "records", "run_folder", "sweep"}
# group -> (rank, description). An import may point to a lower rank, or within its own group.
GROUPS = {
    "core": (0, "core math"),
    "agent": (1, "agent and training"),
    "face": (2, "the package's face (trpo_lite/__init__.py)"),
    "examples": (2, "computing layer (trpo_lite/examples)"),
    "exercises": (3, "exercise checkers"),
    "figures": (3, "drawing layer (trpo_lite/figures)"),
    "widgets": (4, "widgets"),
    "entry": (5, "command line"),
}
FORBIDDEN_LIBRARIES = {"examples": {"matplotlib"}, "figures": {"torch", "gymnasium"}, "core": {"matplotlib"},
                       "agent": {"matplotlib"}, "face": {"matplotlib"}}
NOTEBOOK_SUPPORT = ("trpo_lite.figures", "trpo_lite.widgets", "trpo_lite.exercises")


def group(module: str) -> str:
    """The group of a trpo_lite module given by dotted name (trpo_lite.x or trpo_lite.folder.x)."""
    parts = module.split(".")[1:]
    if not parts:
        return "face"
    if parts[0] in ("examples", "figures", "exercises"):
        return parts[0]
    name = parts[0]
    if name in CORE:
        return "core"
    if name in AGENT:
        return "agent"
    if name == "widgets":
        return "widgets"
    if name in ("cli", "__main__"):
        return "entry"
    raise AssertionError(f"trpo_lite.{name} has no layer: add it to tests/test_layers.py")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path) -> list[str]:
    """Absolute dotted names a file imports (relative imports resolved; `from a import b` gives a.b when
    a.b is a module of the tree, else a)."""
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (root / Path(*candidate.split(".")).with_suffix(".py")).exists() or \
                    (root / Path(*candidate.split("."))).is_dir()
                names.append(candidate if is_module else base)
    return names


def violations(root: Path) -> list[str]:
    """Every import arrow of root/trpo_lite and root/benchmarks that breaks the rules, named."""
    found = []
    for path in sorted((root / "trpo_lite").rglob("*.py")):
        module = module_name(path, root)
        mine = group(module)
        rank, what = GROUPS[mine]
        for name in imports(path, root):
            top = name.split(".")[0]
            if top in ("benchmarks", "tools"):
                found.append(f"{path.relative_to(root)} imports {name}: the package never imports {top}/")
            if top in FORBIDDEN_LIBRARIES.get(mine, ()):
                found.append(f"{path.relative_to(root)} imports {name}: the {what} does not use {top}")
            if top != "trpo_lite" or name == "trpo_lite":
                continue
            theirs = group(name)
            their_rank, their_what = GROUPS[theirs]
            if theirs != mine and their_rank >= rank:
                found.append(f"{path.relative_to(root)} imports {name}: {what} (layer {rank}) -> "
                             f"{their_what} (layer {their_rank}) does not point downward")
    for path in sorted((root / "benchmarks").glob("*.py")):
        for name in imports(path, root):
            if name.startswith(NOTEBOOK_SUPPORT):
                found.append(f"{path.relative_to(root)} imports {name}: benchmarks do not use notebook "
                             "support")
    return found


def test_every_import_points_downward():
    assert violations(ROOT) == []


def test_an_upward_arrow_is_named(tmp_path):
    for folder in ("trpo_lite/examples", "trpo_lite/figures", "benchmarks"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "trpo_lite/__init__.py").write_text("from trpo_lite import tabular\n")
    (tmp_path / "trpo_lite/tabular.py").write_text("import numpy\n")
    (tmp_path / "trpo_lite/examples/__init__.py").write_text("")
    (tmp_path / "trpo_lite/figures/__init__.py").write_text("")
    (tmp_path / "trpo_lite/figures/lake.py").write_text("import torch\nfrom trpo_lite.examples import lake\n")
    (tmp_path / "trpo_lite/examples/lake.py").write_text(
        "import matplotlib.pyplot\nfrom ..figures.lake import draw\nfrom trpo_lite import tabular\n")
    (tmp_path / "benchmarks/bench.py").write_text("from trpo_lite.examples.lake import x\n"
                                                  "from trpo_lite.figures.lake import draw\n")
    found = violations(tmp_path)
    assert found == [
        "trpo_lite/examples/lake.py imports matplotlib.pyplot: the computing layer (trpo_lite/examples) "
        "does not use matplotlib",
        "trpo_lite/examples/lake.py imports trpo_lite.figures.lake: computing layer (trpo_lite/examples) "
        "(layer 2) -> drawing layer (trpo_lite/figures) (layer 3) does not point downward",
        "trpo_lite/figures/lake.py imports torch: the drawing layer (trpo_lite/figures) does not use torch",
        "benchmarks/bench.py imports trpo_lite.figures.lake: benchmarks do not use notebook support",
    ]


def test_importing_the_package_changes_no_process_state_and_loads_no_plotting():
    import subprocess
    import sys

    code = ("import torch; before = torch.get_num_threads(); import trpo_lite, sys; "
            "assert torch.get_num_threads() == before, 'import trpo_lite changed the thread count'; "
            "assert 'matplotlib' not in sys.modules, 'import trpo_lite loaded matplotlib'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
