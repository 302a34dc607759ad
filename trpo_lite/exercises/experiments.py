"""Checkers for notebook 09's exercises: reading a learning curve, and summarising seeds honestly (E14).

The references are ``steps_to_threshold``, ``seed_summary`` and ``median_steps`` from
``trpo_lite.examples.experiments``. Each checker feeds the learner's function small made-up inputs,
built so that every usual slip gives its own wrong answer, and names the slip it recognises.
"""

import math

import numpy as np

from trpo_lite.examples.experiments import THRESHOLD, median_steps, seed_summary, steps_to_threshold
from trpo_lite.exercises._base import ExerciseError, as_answer, digits, is_close, passed
from trpo_lite.language import tr

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


def _number(got, where: str) -> float:
    """The learner's step count (int, float, numpy or torch) as a float, or ExerciseError."""
    if not isinstance(got, bool | str):
        try:
            return float(as_answer(tr("the env step count"), got))
        except ExerciseError:
            pass
    raise ExerciseError(tr("{where}: return the env step count as a number (or None); got {got!r}",
                           where=where, got=got))


def _same(got, expected: float) -> bool:
    """Whether the number got is expected, at got's precision (see ``_base.tolerance``)."""
    return is_close(as_answer(tr("your answer"), got), expected)


def check_steps_to_threshold(fn) -> str:
    """fn(history, threshold) -> the env steps (``time/env_steps``) at the end of the first iteration
    whose ``rollout/return_last10`` is >= threshold, or None if no iteration's is."""
    for name, threshold, last10, mean, batch in STEP_CASES:
        history = _history(last10, mean, batch)
        got = fn([dict(row) for row in history], threshold)
        expected = steps_to_threshold(history, threshold)
        if got is None and expected is None:
            continue
        where = tr("In the history where {case} (threshold {threshold:g}, B = {batch} steps per iteration)",
                   case=tr(name), threshold=threshold, batch=batch)
        if got is None:
            raise ExerciseError(tr("{where}, return_last10 reaches {threshold:g} at iteration {iteration}, "
                                   "yet you returned None", where=where, threshold=threshold,
                                   iteration=expected // batch))
        value = _number(got, where)
        if expected is not None and _same(got, expected):
            continue
        raise ExerciseError(tr("{where}: {message}", where=where,
                               message=_diagnose(value, expected, threshold, last10, mean, batch)))
    return passed(tr("the first env step count at which the last-10 mean return reaches the threshold."))


def _diagnose(got, expected, threshold, last10, mean, batch) -> str:
    """Name the slip that produced got; expected is the right answer (None: never reached)."""
    strict = next(((i + 1) * batch for i, r in enumerate(last10) if r > threshold), None)
    if got == steps_to_threshold(_history(mean, mean, batch), threshold):
        return tr("you used rollout/return_mean, the mean over this iteration's episodes only: one lucky "
                  "batch crosses the threshold early. Use rollout/return_last10")
    if expected is None:
        return tr("return_last10 never reaches {threshold:g} (it peaks at {peak:g}), so return None; you "
                  "returned {got:g}", threshold=threshold, peak=np.nanmax(last10), got=got)
    first = expected // batch  # the iteration number (from 1) where it is first reached
    if got in (first - 1, first):
        return tr("you returned {got:g}, an iteration index; return that row's env step count "
                  "(time/env_steps = {expected})", got=got, expected=expected)
    if got in (expected - batch, expected + batch):
        numbers = {"got": got, "threshold": threshold, "expected": expected}
        return (tr("one iteration early: you returned {got:g}, but the first row with return_last10 >= "
                   "{threshold:g} ends at {expected} env steps", **numbers) if got < expected else
                tr("one iteration late: you returned {got:g}, but the first row with return_last10 >= "
                   "{threshold:g} ends at {expected} env steps", **numbers))
    if got == strict:
        return tr("a return exactly equal to the threshold counts as reaching it: use >=, not >")
    return tr("expected {expected}, the time/env_steps of the first row whose rollout/return_last10 >= "
              "{threshold:g}; you returned {got:g}", expected=expected, threshold=threshold, got=got)


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
            raise ExerciseError(tr("you changed the list you were given (sorted it in place?); the caller's "
                                   "values are in seed order: sort a copy, e.g. sorted(values)"))
        try:
            pair = as_answer(tr("(median, std)"), got, (2,))
        except ExerciseError as exc:
            raise ExerciseError(tr("return two numbers, (median, std); got {got!r}", got=got)) from exc
        median, std = seed_summary(values)
        x, n = np.asarray(values), len(values)
        where = tr("For the values {values}", values=[float(v) for v in values])
        got_median, got_std = float(pair[0]), float(pair[1])
        if not _same(pair[0], median):
            if _same(pair[0], x.mean()):
                raise ExerciseError(tr("{where}, {got:g} is the mean: one failed seed drags it; the median "
                                       "({median:g}) is the middle value after sorting", where=where,
                                       got=got_median, median=median))
            if got_median == x[n // 2] or (n % 2 == 0 and got_median == x[n // 2 - 1]):
                raise ExerciseError(tr("{where}, {got:g} is the middle entry of the unsorted list; "
                                       "sort first", where=where, got=got_median))
            if n % 2 == 0 and got_median in np.sort(x)[n // 2 - 1: n // 2 + 1]:
                raise ExerciseError(tr("{where} (an even number of seeds), the median is the average of the "
                                       "two middle values, {median:g}; you returned one of them, {got:g}",
                                       where=where, median=median, got=got_median))
            raise ExerciseError(tr("{where}, the median is {median:.{digits}g}; you returned "
                                   "{got:.{digits}g}", where=where, median=median, got=got_median,
                                   digits=digits(got_median, median)))
        if not _same(pair[1], std):
            population = x.std()
            if _same(pair[1], population):
                raise ExerciseError(tr("{where}, {got:.4g} divides by n = {n} (the population std); the "
                                       "seeds are a sample, so divide by n - 1 (numpy: ddof=1): {std:.4g}",
                                       where=where, got=got_std, n=n, std=std))
            if _same(pair[1], std**2) or _same(pair[1], population**2):
                raise ExerciseError(tr("{where}, {got:.4g} is a variance; the std is its square root",
                                       where=where, got=got_std))
            raise ExerciseError(tr("{where}, the sample std is {std:.{digits}g}; you returned "
                                   "{got:.{digits}g}", where=where, std=std, got=got_std,
                                   digits=digits(got_std, std)))
    return passed(tr("median and sample standard deviation over seeds, the input left as it was."))


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
        where = tr("For steps {steps}", steps=steps)
        if got is None:
            if expected is None:
                continue
            raise ExerciseError(tr("{where}, the median is {expected:g}; you returned None", where=where,
                                   expected=expected))
        value = _number(got, where)
        if expected is None and not math.isfinite(value):
            raise ExerciseError(tr("{where}, the median seed never got there: return None, not {got:g}",
                                   where=where, got=value))
        if expected is not None and _same(got, expected):
            continue
        reached = [s for s in steps if s is not None]
        if reached and _same(got, float(np.median(reached))):
            raise ExerciseError(tr("{where}, you dropped the seeds that never reached the threshold "
                                   "({got:g}): then a configuration that fails on most seeds looks fast. "
                                   "Count a None as later than any step count", where=where, got=value))
        if _same(got, float(np.median([0 if s is None else s for s in steps]))):
            raise ExerciseError(tr("{where}, you counted a seed that never got there as 0 steps, the fastest "
                                   "of all; it is the slowest: count it as later than any step "
                                   "count", where=where))
        if expected is None:
            raise ExerciseError(tr("{where}, the median is None (the median seed never got there); you "
                                   "returned {got:g}", where=where, got=value))
        raise ExerciseError(tr("{where}, the median is {expected:.{digits}g}; you returned "
                               "{got:.{digits}g}", where=where, expected=expected, got=value,
                               digits=digits(value, expected)))
    return passed(tr("the median over seeds, a seed that never got there counted as the slowest."))
