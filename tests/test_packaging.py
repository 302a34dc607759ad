"""The set-up files agree: pyproject.toml, environment.yml and requirements.lock pin the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL_ONLY = {"mujoco"}  # extras a user installs by hand; not in the lock or environment.yml


def canonical(requirement: str) -> tuple[str, str]:
    """'Gymnasium[toy-text]==1.4.0' -> ('gymnasium', '1.4.0')."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)\s*", requirement)
    assert match, f"not an exact pin: {requirement!r}"
    return re.sub(r"[-_.]+", "-", match[1]).lower(), match[3]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra, extra_reqs in project["optional-dependencies"].items():
        if extra not in OPTIONAL_ONLY:
            reqs += extra_reqs
    return dict(map(canonical, reqs))


def environment_pins() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().split("- pip:", 1)[1].splitlines()
    reqs = [line.strip()[2:] for line in lines if line.strip().startswith("- ") and "==" in line]
    return dict(map(canonical, reqs))


def lock_pins() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    return dict(canonical(line) for line in lines if line.strip() and not line.startswith("#"))


def test_environment_yml_names_the_same_pins_as_pyproject():
    assert environment_pins() == pyproject_pins()


def test_lock_pins_every_direct_dependency_at_the_same_version():
    lock = lock_pins()
    mismatched = {n: (v, lock.get(n)) for n, v in pyproject_pins().items() if lock.get(n) != v}
    assert not mismatched, f"pyproject pin vs lock: {mismatched}; run `make lock`"


def test_torch_is_pinned_to_the_cpu_build_version():
    assert lock_pins()["torch"] == "2.13.0"
    assert pyproject_pins()["torch"] == "2.13.0"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make lab" in (ROOT / "README.md").read_text()


def test_readme_table_lists_every_notebook_with_modules_and_equations():
    readme = (ROOT / "README.md").read_text()
    lines = [line for line in readme.splitlines() if "](notebooks/" in line]
    rows = {line.split("](", 1)[0].lstrip("| ["): line for line in lines}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        row = rows.get(notebook.stem)
        assert row, f"README's notebook table has no row for {notebook.name}"
        assert f"(notebooks/{notebook.name})" in row and "`" in row, row
        assert re.search(r"\bE\d+\b", row), f"{notebook.name}: no equation label in {row!r}"
