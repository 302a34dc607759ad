"""What every exercise checker shares: reading answers, the tolerance from the answer's dtype, messages
that name the wrong entry with numbers that read differently, the derivation checker, and every text a
learner reads passing through tr."""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

from trpo_lite import exercises, language
from trpo_lite.exercises._base import (
    ExerciseError,
    as_answer,
    check_close,
    check_value,
    digits,
    is_close,
    passed,
    tolerance,
)
from trpo_lite.language import use_language

CHECKERS = [getattr(exercises, name) for name in exercises.__all__ if name.startswith("check_")]
CODING = [check for check in CHECKERS if next(iter(inspect.signature(check).parameters)) == "fn"]


def test_every_exported_checker_is_covered_and_of_one_kind():
    assert len(CHECKERS) == len(exercises.__all__) - 1  # all but ExerciseError
    for check in CHECKERS:
        assert next(iter(inspect.signature(check).parameters)) in ("fn", "got"), check.__name__


@pytest.mark.parametrize("check", CODING, ids=lambda check: check.__name__)
def test_checker_lets_an_unfilled_stub_through(check):
    # Every notebook catches NotImplementedError to print "fill in ..."; a checker must let it through.
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check(stub)


# --- reading an answer ------------------------------------------------------------------------------


@pytest.mark.parametrize(("got", "dtype"), [
    (2.5, np.float64), (np.float32(2.5), np.float32), (torch.tensor([2.5]), np.float32),
    (torch.tensor(2.5, dtype=torch.float64, requires_grad=True), np.float64), (np.array([[2.5]]), np.float64),
])
def test_one_number_comes_in_any_form_and_keeps_its_precision(got, dtype):
    answer = as_answer("x", got)
    assert answer.shape == () and answer.dtype == dtype and float(answer) == 2.5
    assert as_answer("x", [1, 2], (2,)).dtype == np.float64 and as_answer("x", True).dtype == np.float64


@pytest.mark.parametrize(("got", "shape", "message"), [
    (None, (), "x: your function returned None; did you forget `return`?"),
    ("1.5", (), "x should be numbers; got str"),
    ({"a": 1}, (), "x should be numbers; got dict"),
    (1 + 2j, (), "x should be numbers; got complex"),
    (np.ones(2), (), r"x should be one number; got an array of shape \(2,\)"),
    (np.ones((3, 2)), (2, 3), r"x has shape \(3, 2\), expected \(2, 3\)"),
    (torch.ones(2, dtype=torch.float16), (2,), r"x is in half precision \(float16\)"),
    (torch.ones(2, dtype=torch.bfloat16), (2,), r"x is in half precision \(bfloat16\)"),
])
def test_a_wrong_type_or_shape_is_named(got, shape, message):
    with pytest.raises(ExerciseError, match=message):
        as_answer("x", got, shape)


# --- the tolerance rule -----------------------------------------------------------------------------


def test_the_tolerance_comes_from_the_answers_precision():
    assert tolerance(as_answer("x", np.float64(np.pi))) == 1e-8
    assert tolerance(as_answer("x", np.float32(np.pi))) == 1e-5
    assert tolerance(as_answer("x", torch.tensor([np.pi]))) == 1e-5  # torch's default float32
    # the .item() of a float32 tensor is a Python float holding a float32 number: judged as float32
    assert tolerance(as_answer("x", torch.tensor(np.pi, dtype=torch.float32).item())) == 1e-5
    assert tolerance(as_answer("x", [np.pi, 1.0], (2,))) == 1e-8  # one entry float32 is not enough


@pytest.mark.parametrize(("precision", "right", "wrong"), [
    (np.float64, 1 + 5e-9, 1 + 3e-8), (np.float32, 1 + 5e-6, 1 + 3e-5)])
def test_a_right_answer_passes_and_a_wrong_one_fails_at_each_precision(precision, right, wrong):
    expected = np.pi * np.arange(1.0, 4.0)
    assert is_close(as_answer("x", (expected * right).astype(precision), (3,)), expected)
    assert not is_close(as_answer("x", (expected * wrong).astype(precision), (3,)), expected)


def test_entries_near_zero_are_judged_at_the_arrays_scale_or_a_given_one():
    expected = np.array([100.0, 1e-6])
    assert is_close(as_answer("x", np.float32([100.0, 3e-6]), (2,)), expected)  # 2e-6 <= 1e-5 * 100
    assert not is_close(as_answer("x", np.array([100.0, 3e-6]), (2,)), expected)  # 2e-6 > 1e-8 * 100
    assert is_close(as_answer("x", 3e-6), 1e-6, scale=1.0) is False
    assert is_close(as_answer("x", 1e-6 + 5e-9), 1e-6, scale=1.0)
    assert is_close(as_answer("x", 1e-6 + 5e-7), 1e-6, scale=1.0, slack=100)


def test_nan_is_never_close():
    assert not is_close(as_answer("x", [1.0, np.nan], (2,)), [1.0, 2.0])


# --- messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("got", "want"), [
    (2.2181203, 2.2179514), (2.21795145, 2.2179514), (1.0000001, 1.0), (0.1 + 0.2, 0.3), (1e-12, 1.1e-12),
    (-3.0, 3.0), (123456.0, 123457.0),
])
def test_digits_make_two_different_numbers_read_differently(got, want):
    n = digits(got, want)
    assert n >= 5 and f"{got:.{n}g}" != f"{want:.{n}g}"


def test_check_close_names_the_worst_entry_with_numbers_that_differ():
    expected = np.array([[1.0, 2.2179514], [3.0, 4.0]])
    answer = check_close("A", expected, expected)
    assert answer.dtype == np.float64
    wrong = expected.copy()
    wrong[0, 1] = 2.2181203
    wrong[1, 0] = 3.0 + 1e-7  # wrong too, but less
    with pytest.raises(ExerciseError, match=r"^A\[0, 1\] should be 2.21795; yours is 2.21812$"):
        check_close("A", wrong, expected)
    with pytest.raises(ExerciseError, match=r"^for gamma = 0.9: G_0 should be 2.2179514; yours is "
                                            r"2.21795145\. Check the discount$"):
        check_close("G_0", 2.21795145, 2.2179514, where="for gamma = 0.9", advice="Check the discount")
    with pytest.raises(ExerciseError, match=r"^v\[1\] is nan, not a finite number$"):
        check_close("v", [1.0, np.nan], [1.0, 2.0])


def test_check_close_names_a_matching_mistake_first_and_builds_the_list_only_when_needed():
    built = []

    def mistakes():
        built.append(1)
        return [(4.0, "you doubled it"), (0.0, "you returned 0")]

    assert check_close("x", 2.0, 2.0, mistakes=mistakes) == 2.0 and not built
    with pytest.raises(ExerciseError, match="^you doubled it$"):
        check_close("x", np.float32(4.00001), 2.0, mistakes=mistakes)
    # a mistake of 0 is judged at the right answer's scale, not at 0's
    with pytest.raises(ExerciseError, match="^you returned 0$"):
        check_close("x", 1e-9, 2.0, mistakes=mistakes)


def test_passed_prints_and_returns_the_correct_line(capsys):
    assert passed("all good.") == "Correct: all good."
    assert capsys.readouterr().out == "Correct: all good.\n"


# --- derivation exercises ---------------------------------------------------------------------------


@pytest.mark.parametrize("got", [36.0, 36.01, "36", np.float32(36.0), torch.tensor(36.0)])
def test_check_value_accepts_a_right_number_typed_to_four_digits(got):
    if isinstance(got, str):
        with pytest.raises(ExerciseError, match="C should be numbers; got str"):
            check_value("C", got, 36.0)
        return
    assert check_value("C", got, 36.0) == "Correct: C is right."


@pytest.mark.parametrize(("got", "expected", "message"), [
    (37.0, 36.0, "C is too large, by less than 10%"),
    (50.0, 36.0, "C is too large, by less than a factor of 2"),
    (9.0, 36.0, "C is too small, by a factor between 2 and 10"),
    (400.0, 36.0, "C is too large, by more than a factor of 10"),
    (-36.0, 36.0, "C has the wrong sign"),
    (-50.0, -36.0, "C is too large in absolute value, by less than a factor of 2"),
    (-9.0, -36.0, "C is too small in absolute value, by a factor between 2 and 10"),
    (0.0, 36.0, "C is too small"),
    (0.5, 0.0, "C is too large"),
    (np.inf, 36.0, "C is inf, not a finite number"),
])
def test_check_value_says_not_yet_with_direction_and_size_never_the_value(got, expected, message):
    with pytest.raises(ExerciseError) as error:
        check_value("C", got, expected, hint="C = 4 A_max gamma / (1 - gamma)^2")
    assert str(error.value) == f"Not yet: {message}. C = 4 A_max gamma / (1 - gamma)^2"
    assert "36" not in str(error.value)


def test_check_value_names_a_matching_mistake():
    with pytest.raises(ExerciseError, match=r"^Not yet: \(1 - gamma\) must be squared$"):
        check_value("C", 3.6, 36.0, mistakes=[(3.6, "(1 - gamma) must be squared")])


# --- every text through tr --------------------------------------------------------------------------


@pytest.fixture
def marked(monkeypatch):
    """A "language" whose catalog marks every text it is asked for: «text»."""

    class Marks(dict):
        def get(self, text, default=None):
            return f"«{text}»"

    monkeypatch.setattr(language, "catalog", lambda code: Marks())
    use_language("zh")
    yield
    use_language("en")


@pytest.mark.usefixtures("marked")
def test_messages_and_the_correct_line_go_through_tr(capsys):
    assert passed("fine") == "«Correct: fine»"
    with pytest.raises(ExerciseError) as error:
        check_close("G_0", 2.5, 2.0)
    assert str(error.value) == "«G_0 should be 2; yours is 2.5»"
    with pytest.raises(ExerciseError) as error:
        check_value("C", 2.0, 1.0)
    assert str(error.value) == "«Not yet: «C is too large, «by a factor between 2 and 10»»»"
    with pytest.raises(ExerciseError) as error:
        exercises.check_discounted_return(lambda rewards, gamma: sum(rewards))
    assert str(error.value) == "«you forgot the discount: each reward r_t counts gamma^t times, not once»"
    kl = exercises.check_kl(lambda p, q: np.where(p > 0, p * np.log(np.where(p > 0, p / q, 1.0)), 0.0).sum(1))
    assert kl == "«Correct: «D_KL(p || q) per row, natural log, zeros handled.»»"


MESSAGE_CALLS = {"ExerciseError", "passed", "check_close", "mismatch", "check_value", "as_answer"}
MESSAGE_KEYWORDS = {"where", "advice", "hint"}


def _untranslated(path: Path) -> list[str]:
    """Texts in an exercises module built without tr: f-strings, and string literals (or concatenations)
    given as a message, a what/where/advice/hint, or as the message of a (value, message) mistake."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.JoinedStr):
            found.append(f"{where} f-string")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in MESSAGE_CALLS:
            texts = node.args[:1] + [k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS]
            found += [f"{where} {ast.unparse(t)[:40]}" for t in texts if _is_plain_text(t)]
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            found += [f"{where} {ast.unparse(t)[:40]}" for t in node.elts
                      if isinstance(t, ast.Constant) and isinstance(t.value, str) and " " in t.value
                      and path.name != "experiments.py"]  # its STEP_CASES names are shown through tr
    return found


def _is_plain_text(node) -> bool:
    if isinstance(node, ast.BinOp):
        return _is_plain_text(node.left) or _is_plain_text(node.right)
    return isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_every_text_a_learner_reads_is_built_with_tr():
    folder = Path(exercises.__file__).parent
    assert [f for path in sorted(folder.glob("*.py")) for f in _untranslated(path)] == []


def test_the_translation_check_finds_untranslated_text(tmp_path):
    (tmp_path / "topic.py").write_text(
        'def check(fn):\n'
        '    raise ExerciseError(f"got {fn}")\n'
        'def check2(fn):\n'
        '    raise ExerciseError("plain " + str(fn))\n'
        'def check3(fn):\n'
        '    check_close("x", fn(), 1.0, advice="check it", mistakes=[(2.0, "doubled it")])\n'
        'def fine(fn):\n'
        '    check_close(tr("x"), fn(), 1.0, where=tr("here"), mistakes=[(2.0, tr("doubled it"))])\n')
    assert sorted(_untranslated(tmp_path / "topic.py")) == [
        "topic.py:2 f'got {fn}'", "topic.py:2 f-string", "topic.py:4 'plain ' + str(fn)",
        "topic.py:6 'check it'", "topic.py:6 'doubled it'", "topic.py:6 'x'"]
