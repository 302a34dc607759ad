"""Under the Chinese setting every checker answers in Chinese: the teacher's key gets a Chinese "correct"
line, and a wrong answer (the key's result off by 37 %) a Chinese explanation that differs from the English
one; neither holds a run of English prose (four English words in a row, outside code and math).
One case per checker, so every checker module is covered."""

import re

import numpy as np
import pytest
import torch
from test_editions import english_prose
from test_teachers_key import CHECKERS, answers, load_key, run

from trpo_lite.exercises import ExerciseError
from trpo_lite.language import use_language

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    use_language("en")


def off(name, answer):
    """The answer with its numeric result scaled by 1.37 (a wrong answer of the right shape and type); an
    answer that works in place (the TRPO step sets params) gets a trust region 4 times too large instead."""
    if name == "check_trpo_step":
        return lambda params, g, fvp, max_kl, *rest: answer(params, g, fvp, 4 * max_kl, *rest)

    def wrong(*args, **kwargs):
        result = answer(*args, **kwargs)
        if isinstance(result, tuple):
            return tuple(r * 1.37 if isinstance(r, (float, np.ndarray, torch.Tensor)) else r for r in result)
        return result * 1.37
    return wrong


def feedback(check, answer) -> str:
    with pytest.raises(ExerciseError) as error:
        run(check, answer)
    return str(error.value)


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_every_checker_answers_in_chinese(name, capsys):
    answer = answers(load_key())[name.removeprefix("check_")]
    check = CHECKERS[name]
    english = feedback(check, off(name, answer))
    use_language("zh")
    correct = run(check, answer)
    assert CJK.search(correct) and not english_prose(correct), f"{name}: {correct}"
    chinese = feedback(check, off(name, answer))
    assert CJK.search(chinese) and chinese != english and not english_prose(chinese), f"{name}: {chinese}"
