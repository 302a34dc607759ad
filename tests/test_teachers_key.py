"""The teacher's key (teachers/solutions.py) answers every exercise: each checker of trpo_lite.exercises
says "Correct" to its model answer, and an exercise without one fails, named."""

import importlib.util
import inspect
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest
import tomllib

from trpo_lite import exercises

KEY = Path(__file__).resolve().parents[1] / "teachers" / "solutions.py"
CHECKERS = {name: getattr(exercises, name) for name in exercises.__all__ if name.startswith("check_")}


def load_key():
    spec = importlib.util.spec_from_file_location("teachers_solutions", KEY)
    key = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(key)
    return key


def answers(key) -> dict[str, object]:
    """exercise name -> model answer: nbNN_<exercise> in the key answers check_<exercise>."""
    found = {}
    for name, answer in vars(key).items():
        match = re.fullmatch(r"nb\d\d_(\w+)", name)
        if match and inspect.isfunction(answer):
            assert match[1] not in found, f"two answers to {match[1]}: {found[match[1]].__name__} and {name}"
            found[match[1]] = answer
    return found


def run(check, answer) -> str:
    """A coding checker (first parameter fn) gets the answer; a derivation checker (got), its number."""
    kind = next(iter(inspect.signature(check).parameters))
    return check(answer) if kind == "fn" else check(answer())


def missing(checkers: dict, key_answers: dict) -> list[str]:
    return sorted(name for name in checkers if name.removeprefix("check_") not in key_answers)


def test_every_exercise_has_an_answer_and_every_answer_an_exercise():
    key_answers = answers(load_key())
    assert missing(CHECKERS, key_answers) == [], "exercises without a model answer in teachers/solutions.py"
    assert sorted(set(key_answers) - {name.removeprefix("check_") for name in CHECKERS}) == []


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_the_key_passes_the_checker(name, capsys):
    answer = answers(load_key()).get(name.removeprefix("check_"))
    assert answer is not None, f"{name} has no model answer nbNN_{name.removeprefix('check_')} in {KEY}"
    assert run(CHECKERS[name], answer).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


def test_a_derivation_checker_gets_the_answers_number_and_a_missing_answer_is_named():
    def check_penalty_example(got):  # a derivation checker: it takes the number
        return "Correct" if got == 36.0 else "Not yet"

    assert run(check_penalty_example, lambda: 36.0) == "Correct"
    assert missing({"check_penalty_example": check_penalty_example, "check_kl": None}, {"kl": None}) == [
        "check_penalty_example"]


def test_the_key_stays_out_of_the_package_and_its_wheel():
    root = KEY.parents[1]
    assert not KEY.is_relative_to(Path(exercises.__file__).parents[1])
    include = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert not any(fnmatch("teachers", pattern) for pattern in include["include"])
