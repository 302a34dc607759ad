"""The notebook-09 checkers accept right answers written independently (float64, float32, torch) and name
typical mistakes."""

import math
import statistics

import numpy as np
import pytest
import torch
from exercise_answers import nudged, numbers_differ

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.experiments import (
    STEP_CASES,
    _history,
    check_median_steps,
    check_seed_summary,
    check_steps_to_threshold,
)

# --- steps to the threshold -------------------------------------------------------------------------


def steps_variant(history, threshold, *, key="rollout/return_last10", strict=False, answer="steps", shift=0):
    """One loop with switches for the typical mistakes (defaults: right)."""
    for i, row in enumerate(history):
        value = row[key]
        if (value > threshold) if strict else (value >= threshold):
            if answer == "index":
                return i
            if answer == "iteration":
                return row["time/iteration"]
            return history[i + shift]["time/env_steps"]
    return None


def steps_by_comprehension(history, threshold):
    hits = [row["time/env_steps"] for row in history if row["rollout/return_last10"] >= threshold]
    return hits[0] if hits else None


def as_type(fn, convert):
    """fn with its answer (unless None) converted, as a learner's numpy or torch code would return it."""
    return lambda *args: None if (got := fn(*args)) is None else convert(got)


def test_steps_checker_accepts_right_answers(capsys):
    assert check_steps_to_threshold(steps_variant).startswith("Correct")
    assert check_steps_to_threshold(steps_by_comprehension).startswith("Correct")
    assert check_steps_to_threshold(as_type(steps_variant, np.float32)).startswith("Correct")
    assert check_steps_to_threshold(as_type(steps_variant, torch.tensor)).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


def steps_never_none(history, threshold):
    got = steps_variant(history, threshold)
    return history[-1]["time/env_steps"] if got is None else got


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda h, t: steps_variant(h, t, key="rollout/return_mean"), "you used rollout/return_mean"),
        (lambda h, t: steps_variant(h, t, strict=True), "use >=, not >"),
        (lambda h, t: steps_variant(h, t, answer="index"), "an iteration index"),
        (lambda h, t: steps_variant(h, t, answer="iteration"), "an iteration index"),
        (lambda h, t: steps_variant(h, t, shift=-1), "one iteration early"),
        (lambda h, t: steps_variant(h, t, shift=1), "one iteration late"),
        (steps_never_none, "so return None"),
        (lambda h, t: str(steps_variant(h, t)), "as a number"),
        (as_type(lambda h, t: steps_variant(h, t, answer="index"), torch.tensor), "an iteration index"),
    ],
)
def test_steps_checker_names_the_mistake(wrong, message):
    # The mistake really changes the answer on at least one of the checker's histories.
    histories = [(_history(last10, mean, batch), threshold)
                 for _, threshold, last10, mean, batch in STEP_CASES]
    assert any(wrong(h, t) != steps_variant(h, t) for h, t in histories)
    with pytest.raises(ExerciseError, match=message):
        check_steps_to_threshold(wrong)


# --- median and spread over seeds -------------------------------------------------------------------


def summary_by_hand(values):
    """Median and sample std from the definitions, with a plain loop."""
    ordered = sorted(float(v) for v in values)
    n, middle = len(ordered), len(ordered) // 2
    median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    mean = sum(ordered) / n
    return median, math.sqrt(sum((v - mean) ** 2 for v in ordered) / (n - 1))


def test_seed_checker_accepts_right_answers(capsys):
    assert check_seed_summary(summary_by_hand).startswith("Correct")
    assert check_seed_summary(lambda v: (statistics.median(v), statistics.stdev(v))).startswith("Correct")
    assert check_seed_summary(lambda v: np.array([np.median(v), np.std(v, ddof=1)])).startswith("Correct")
    assert check_seed_summary(float32_summary).startswith("Correct")
    assert check_seed_summary(torch_summary).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


def float32_summary(values):
    x = np.sort(np.asarray(values, np.float32))
    return np.median(x), x.std(ddof=1)


def torch_summary(values):
    x = torch.tensor(values, dtype=torch.float32)
    return x.quantile(0.5), x.std()  # torch's median() of an even count is the lower middle value


@pytest.mark.parametrize(("answer", "relative"), [(summary_by_hand, 3e-8), (float32_summary, 5e-5)])
def test_a_slightly_wrong_summary_fails_with_two_different_numbers(answer, relative):
    def wrong_std(values):
        median, std = answer(values)
        return median, std * type(std)(1 + relative)

    with pytest.raises(ExerciseError) as error:
        check_seed_summary(nudged(answer, relative))
    assert numbers_differ(str(error.value), "the median is {n}; you returned {n}")
    with pytest.raises(ExerciseError) as error:
        check_seed_summary(wrong_std)
    assert numbers_differ(str(error.value), "the sample std is {n}; you returned {n}")


def sort_in_place(values):
    values.sort()
    return summary_by_hand(values)


def lower_middle(values):
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2], summary_by_hand(values)[1]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda v: (float(np.mean(v)), summary_by_hand(v)[1]), "is the mean"),
        (lambda v: (v[len(v) // 2], summary_by_hand(v)[1]), "unsorted list; sort first"),
        (lower_middle, "average of the\\s+two middle values"),
        (lambda v: (summary_by_hand(v)[0], float(np.std(v))), "divide by n - 1"),
        (lambda v: (summary_by_hand(v)[0], float(np.var(v, ddof=1))), "is a variance"),
        (sort_in_place, "you changed the list you were given"),
        (lambda v: summary_by_hand(v)[0], "return two numbers"),
    ],
)
def test_seed_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_seed_summary(wrong)


# --- median steps with seeds that never got there ---------------------------------------------------


def median_steps_by_hand(steps):
    """Sort with None last; the median seed (or either of the two middle ones) None -> None."""
    ordered = sorted(steps, key=lambda s: (s is None, s or 0))
    n, middle = len(ordered), len(ordered) // 2
    pair = ordered[middle: middle + 1] if n % 2 else ordered[middle - 1: middle + 1]
    return None if None in pair else sum(pair) / len(pair)


def test_median_steps_checker_accepts_right_answers(capsys):
    assert check_median_steps(median_steps_by_hand).startswith("Correct")
    assert check_median_steps(as_type(median_steps_by_hand, np.float32)).startswith("Correct")
    assert check_median_steps(as_type(median_steps_by_hand, torch.tensor)).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("convert", "relative"), [(float, 3e-8), (np.float32, 5e-5)])
def test_a_slightly_wrong_median_fails_with_two_different_numbers(convert, relative):
    with pytest.raises(ExerciseError) as error:
        check_median_steps(as_type(median_steps_by_hand, lambda m: convert(m) * convert(1 + relative)))
    assert numbers_differ(str(error.value), "the median is {n}; you returned {n}")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda s: float(np.median([x for x in s if x is not None])), "you dropped the seeds"),
        (lambda s: float(np.median([0 if x is None else x for x in s])), "counted a seed that never"),
        (lambda s: float(np.median([math.inf if x is None else x for x in s])), "return None, not inf"),
        (lambda s: np.float32(np.median([0 if x is None else x for x in s])), "counted a seed that never"),
        (lambda s: None, "the median is 30720"),
    ],
)
def test_median_steps_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_median_steps(wrong)
