"""Checkers for notebook 09's exercises: reading a learning curve, and summarising seeds honestly (E14).

The references are ``steps_to_threshold``, ``seed_summary`` and ``median_steps`` from
``trpo_lite.examples.experiments``. Each checker feeds the learner's function small made-up inputs,
built so that every usual slip gives its own wrong answer, and names the slip it recognises.
"""

import math

import numpy as np

from trpo_lite.examples.experiments import THRESHOLD, median_steps, seed_summary, steps_to_threshold
from trpo_lite.exercises._base import ExerciseError, passed

NAN = math.nan


def _history(last10, mean, batch: int) -> list[dict]:
    """History rows as ``train`` logs them: iteration i (from 1) ends after i * batch env steps."""
    rows = enumerate(zip(last10, mean, strict=True))
    return [{"rollout/return_mean": m, "rollout/return_last10": r, "rollout/episodes": 4,
             "time/iteration": i + 1, "time/env_steps": (i + 1) * batch, "policy/kl": 0.01}
            for i, (r, m) in rows]


# (what the case shows, threshold, return_last10 per iteration, return_mean per iteration, batch size B).
# In each, the per-batch mean reaches the threshold at another iteration than the last-10 mean, and the
# right answer, its neighbours, the iteration number and the answer with > instead of >= all differ.
STEP_CASES = (
    ("a lucky batch comes before the agent is good", THRESHOLD,
     [NAN, 30, 80, 150, 260, 380, 450, 470, 480, 490, 495],
     [22, 35, 120, 200, 500, 350, 460, 476, 470, 500, 500], 1024),
    ("the last-10 mean lands exactly on the threshold", 200.0,
     [NAN, 50, 120, 200, 190, 230, 260], [10, 60, 150, 180, 190, 195, 300], 2048),
    ("the threshold is never reached", THRESHOLD,
     [NAN, 40, 150, 300, 420, 470, 455], [25, 60, 260, 500, 400, 470, 450], 4000),
)


def _is_number(x) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool | np.bool_)


def check_steps_to_threshold(fn) -> str:
    """fn(history, threshold) -> the env steps (``time/env_steps``) at the end of the first iteration
    whose ``rollout/return_last10`` is >= threshold, or None if no iteration's is."""
    for name, threshold, last10, mean, batch in STEP_CASES:
        history = _history(last10, mean, batch)
        got = fn([dict(row) for row in history], threshold)
        expected = steps_to_threshold(history, threshold)
        if got is None and expected is None:
            continue
        where = f"In the history where {name} (threshold {threshold:g}, B = {batch} steps per iteration)"
        if got is None:
            raise ExerciseError(f"{where}, return_last10 reaches {threshold:g} at iteration "
                                f"{expected // batch}, yet you returned None")
        if not _is_number(got):
            raise ExerciseError(f"{where}: return the env step count as a number (or None); got {got!r}")
        if expected is not None and got == expected:
            continue
        raise ExerciseError(f"{where}: {_diagnose(got, expected, threshold, last10, mean, batch)}")
    return passed("the first env step count at which the last-10 mean return reaches the threshold.")


def _diagnose(got, expected, threshold, last10, mean, batch) -> str:
    """Name the slip that produced got; expected is the right answer (None: never reached)."""
    strict = next(((i + 1) * batch for i, r in enumerate(last10) if r > threshold), None)
    if got == steps_to_threshold(_history(mean, mean, batch), threshold):
        return ("you used rollout/return_mean, the mean over this iteration's episodes only: one lucky batch "
                "crosses the threshold early. Use rollout/return_last10")
    if expected is None:
        return (f"return_last10 never reaches {threshold:g} (it peaks at {np.nanmax(last10):g}), so return "
                f"None; you returned {got!r}")
    first = expected // batch  # the iteration number (from 1) where it is first reached
    if got in (first - 1, first):
        return (f"you returned {got}, an iteration index; return that row's env step count "
                f"(time/env_steps = {expected})")
    if got in (expected - batch, expected + batch):
        early = "early" if got < expected else "late"
        return (f"one iteration {early}: you returned {got}, but the first row with return_last10 >= "
                f"{threshold:g} ends at {expected} env steps")
    if got == strict:
        return "a return exactly equal to the threshold counts as reaching it: use >=, not >"
    return (f"expected {expected}, the time/env_steps of the first row whose rollout/return_last10 >= "
            f"{threshold:g}; you returned {got!r}")


SEED_CASES = (  # final returns over seeds: skewed by one failed seed; an even number, unsorted
    [480.0, 500.0, 120.0],
    np.array([300.0, 100.0, 400.0, 200.0]),
    [410.0, 95.0, 500.0, 260.0, 330.0],
)


def check_seed_summary(fn) -> str:
    """fn(values [R]) -> (median, sample standard deviation) over R seeds, leaving values unchanged."""
    for values in SEED_CASES:
        given = values.copy()
        got = fn(given)
        if not np.array_equal(given, values):
            raise ExerciseError("you changed the list you were given (sorted it in place?); the caller's "
                                "values are in seed order: sort a copy, e.g. sorted(values)")
        if not (isinstance(got, tuple | list | np.ndarray) and len(got) == 2 and all(map(_is_number, got))):
            raise ExerciseError(f"return two numbers, (median, std); got {got!r}")
        median, std = seed_summary(values)
        x, n, where = np.asarray(values), len(values), f"For the values {list(map(float, values))}"
        if not math.isclose(got[0], median, rel_tol=1e-9):
            if math.isclose(got[0], x.mean(), rel_tol=1e-9):
                raise ExerciseError(f"{where}, {got[0]:g} is the mean: one failed seed drags it; the median "
                                    f"({median:g}) is the middle value after sorting")
            if got[0] == x[n // 2] or (n % 2 == 0 and got[0] == x[n // 2 - 1]):
                raise ExerciseError(f"{where}, {got[0]:g} is the middle entry of the unsorted list; sort "
                                    "first")
            if n % 2 == 0 and got[0] in np.sort(x)[n // 2 - 1: n // 2 + 1]:
                raise ExerciseError(f"{where} (an even number of seeds), the median is the average of the "
                                    f"two middle values, {median:g}; you returned one of them, {got[0]:g}")
            raise ExerciseError(f"{where}, the median is {median:g}; you returned {got[0]:g}")
        if not math.isclose(got[1], std, rel_tol=1e-9):
            population = x.std()
            if math.isclose(got[1], population, rel_tol=1e-9):
                raise ExerciseError(f"{where}, {got[1]:.4g} divides by n = {n} (the population std); the "
                                    f"seeds are a sample, so divide by n - 1 (numpy: ddof=1): {std:.4g}")
            if any(math.isclose(got[1], s**2, rel_tol=1e-9) for s in (std, population)):
                raise ExerciseError(f"{where}, {got[1]:.4g} is a variance; the std is its square root")
            raise ExerciseError(f"{where}, the sample std is {std:.4g}; you returned {got[1]:.4g}")
    return passed("median and sample standard deviation over seeds, the input left as it was.")


MEDIAN_CASES = (  # steps to the threshold per seed, None: that seed never reached it
    [20480, None, 30720],
    [None, None, 10240],
    [10240, 20480, 30720, None],
    [10240, None, None, 40960],
    [12288, 8192, 16384],
)


def check_median_steps(fn) -> str:
    """fn(steps [R], each an int or None) -> the median over seeds with None counted as later than any
    step count; None when the median seed never reached the threshold."""
    for steps in MEDIAN_CASES:
        got = fn(list(steps))
        expected = median_steps(steps)
        where = f"For steps {steps}"
        if expected is None and got is None:
            continue
        if expected is None:
            if _is_number(got) and not math.isfinite(got):
                raise ExerciseError(f"{where}, the median seed never got there: return None, not {got!r}")
        elif _is_number(got) and math.isclose(got, expected):
            continue
        reached = [s for s in steps if s is not None]
        if reached and got == float(np.median(reached)):
            raise ExerciseError(
                f"{where}, you dropped the seeds that never reached the threshold ({got:g}): then a "
                "configuration that fails on most seeds looks fast. Count a None as later than any step "
                "count")
        if _is_number(got) and got == float(np.median([0 if s is None else s for s in steps])):
            raise ExerciseError(f"{where}, you counted a seed that never got there as 0 steps, the fastest "
                                "of all; it is the slowest: count it as later than any step count")
        answer = "None (the median seed never got there)" if expected is None else f"{expected:g}"
        raise ExerciseError(f"{where}, the median is {answer}; you returned {got!r}")
    return passed("the median over seeds, a seed that never got there counted as the slowest.")
