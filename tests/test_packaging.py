"""The set-up files agree: pyproject.toml states compatible ranges; requirements.lock and environment.yml
pin exact versions inside them (torch at 2.13.0, the CPU build on the course machines)."""

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra_reqs in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra_reqs]
    found = {}
    for req in reqs:  # gymnasium appears twice (base and mujoco extras): both ranges must hold
        name = canonicalize_name(req.name)
        found[name] = found[name] & req.specifier if name in found else req.specifier
    return found


def exact_pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.fullmatch(r"\s*(?:- )?([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)\s*", line)
        if match:
            pins[canonicalize_name(match[1])] = match[3]
    return pins


def lock_pins() -> dict[str, str]:
    return exact_pins((ROOT / "requirements.lock").read_text().splitlines())


def environment_pins() -> dict[str, str]:
    return exact_pins((ROOT / "environment.yml").read_text().split("- pip:", 1)[1].splitlines())


def test_every_lock_pin_lies_in_the_pyprojects_range():
    lock = lock_pins()
    outside = {name: (spec, lock.get(name)) for name, spec in pyproject_requirements().items()
               if name not in lock or lock[name] not in spec}
    # the mujoco extra is locked too: CI installs it
    assert not outside, f"pyproject range vs lock: {outside}; run `make lock`"


def test_ranges_are_ranges_not_pins():
    pinned = [f"{name}{spec}" for name, spec in pyproject_requirements().items() if "==" in str(spec)]
    assert not pinned, f"pyproject.toml pins {pinned}: state a compatible range, pin in requirements.lock"


def test_environment_yml_installs_the_lock_pins():
    env, lock = environment_pins(), lock_pins()
    assert env and all(lock.get(name) == version for name, version in env.items()), (env, lock)
    assert set(pyproject_requirements()) <= set(env) | {"gymnasium"}


def test_torch_is_pinned_to_the_cpu_build_version_where_it_is_installed():
    assert lock_pins()["torch"] == "2.13.0" and environment_pins()["torch"] == "2.13.0"
    assert "2.13.0" in pyproject_requirements()["torch"]


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


# The sections of the Chinese study notes the course started from, as the Chinese README maps them.
SEED_SECTIONS = ("目标函数", "公式推导", "优势函数", "状态访问分布", "重要性采样",
                 "KL 散度与信任区域", "共轭梯度", "优势函数求解 / GAE")


def test_chinese_readme_lists_every_notebook_and_maps_every_section_of_the_study_notes():
    assert "(README.zh.md)" in (ROOT / "README.md").read_text()
    readme = (ROOT / "README.zh.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make lab" in readme and "torch==2.13.0" in readme
    rows = [line for line in readme.splitlines() if line.startswith("| ")]
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        row = next((r for r in rows if f"(notebooks/zh/{notebook.name})" in r), None)
        assert row, f"README.zh.md's course table has no row linking notebooks/zh/{notebook.name}"
        assert re.search(r"\bE\d+\b", row), f"README.zh.md: no equation label in {row!r}"
        colab = f"https://colab.research.google.com/github/trpo-lite/trpo_lite/blob/main/notebooks/zh/{notebook.name}"
        assert f"({colab})" in row, f"README.zh.md: no Colab link to notebooks/zh/{notebook.name} in {row!r}"
    for section in SEED_SECTIONS:
        row = next((r for r in rows if re.match(rf"\| {re.escape(section)}(（[^）]*）)? \|", r)), None)
        assert row, f"README.zh.md's map of the study notes has no row for {section}"
        assert re.search(r"(?<!\d)\d\d(?: §|：)", row) and re.search(r"\bE\d+\b", row), (
            f"README.zh.md: the row for {section} names no notebook (NN §k or NN：) or no equation label")
