"""What every exercise checker shares: reading an answer, comparing it at its own precision, naming the
mistake, and the line a right answer earns. Topic modules (``exercises/<topic>.py``) build their checkers
from these pieces; ``exercises/__init__.py`` exports every checker.

Two kinds of checker, told apart by the name of their first parameter (the tests rely on it):

- a *coding* checker ``check_<exercise>(fn)`` calls the learner's function on inputs drawn from a fixed
  seed, compares the result with a reference, and raises ``ExerciseError`` saying what is wrong;
- a *derivation* checker ``check_<exercise>(got)`` takes the number the learner worked out on paper and
  calls ``check_value``, which says "correct", or "not yet" with a hint, never the expected value.

Either returns (and prints) the "Correct: ..." line of ``passed``. A checker lets ``NotImplementedError``
through (the notebook's cue that the stub is not filled in). Every exported checker has a model answer in
``teachers/solutions.py`` named ``nbNN_<exercise>``: a function of the same arguments as the learner's
(coding) or a function of no arguments returning the number (derivation); tests/test_teachers_key.py
runs each checker on it.

The API:

``as_answer(what, got, shape=())``
    the learner's result (number, list, numpy, torch) as an array of that shape, or ``ExerciseError``
    naming the wrong type or shape; one number may come as any size-1 array. float32 stays float32, so
    the tolerance can see it.
``check_close(what, got, expected, mistakes=(), where="", advice="", scale=None, slack=1.0)``
    the usual comparison: ``as_answer``; right within the answer's tolerance: returns the answer; else
    the message of the first ``(wrong value, message)`` in ``mistakes`` that the answer matches (a list,
    or a function that builds it only when needed); else "where: what[3] should be 2.21795; yours is
    2.21812. advice" at the worst entry, one digit past the first that differs.
``is_close``, ``name_the_mistake``, ``mismatch``
    its three steps, for checkers that diagnose more between them; ``close_entries``: entry by entry.
``check_value(what, got, expected, hint="", mistakes=(), rtol=1e-3)``
    a derivation exercise's number: right within rtol (a number typed to 4 digits passes), else "Not
    yet:" and a matching mistake's message, or the sign, direction and rough size of the error.
``passed(message)``
    prints and returns "Correct: " + message.
``digits(got, want)``
    how many significant digits tell two numbers apart, for a message of your own that prints both.
``random_spd``, ``quadratic_params``
    random problems for the linear-algebra and line-search checkers.

Tolerance, from the dtype of the learner's answer (``tolerance(answer)``): 1e-8 relative for float64, 1e-5
for float32 (about 80 float32 roundings); a float64 answer whose every entry is a float32 number (the
``.item()`` of a float32 tensor) counts as float32; half precision is refused. An entry passes when
``|got - expected| <= rtol * max(|expected|, scale)``: ``scale`` (default: the largest ``|expected|``) is the
size of the numbers the answer is computed from, so entries near 0 in an array are judged at the array's
size (pass a larger one where the answer subtracts larger numbers, as A = Q - V does). ``slack``
multiplies the tolerance where the math amplifies rounding, such as a solve with an ill-conditioned
matrix, or where the dtype cannot show the precision (parameters updated in place stay float64); say why
in a comment. No checker keeps tolerances of its own.

Every text a learner reads goes through ``tr`` (``trpo_lite.language``) with placeholders (numbers
formatted by a spec in the text), built when the checker runs, so the Chinese edition can translate it;
``what``, ``where``, ``advice``, ``hint`` and mistake messages arrive already translated. A coding checker,
for example::

    def check_discounted_return(fn) -> str:
        rewards, gamma = np.array([1.0, 0.5, 2.0]), 0.9
        check_close(tr("G_0"), fn(rewards.copy(), gamma), rewards @ gamma ** np.arange(3),
                    mistakes=[(rewards.sum(), tr("you forgot the discount"))])
        return passed(tr("G_0 = sum_t gamma^t r_t (E1)."))

and a derivation checker::

    def check_penalty_example(got) -> str:
        # C for A_max = 1 and gamma = 0.9 (E7), worked out by hand
        return check_value(tr("C"), got, 4 * 0.9 / 0.1**2, hint=tr("C = 4 A_max gamma / (1 - gamma)^2"),
                           mistakes=[(4 * 0.9 / 0.1, tr("(1 - gamma) must be squared"))])
"""

import numpy as np
import torch

from trpo_lite.language import tr

RTOL = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-5}


class ExerciseError(AssertionError):
    """The learner's answer is wrong; the message says how."""


def as_answer(what: str, got, shape: tuple = ()) -> np.ndarray:
    """The learner's result as a float64 or float32 array of the given shape (one number: shape ())."""
    if got is None:
        raise ExerciseError(tr("{what}: your function returned None; did you forget `return`?", what=what))
    dtype = str(got.dtype).removeprefix("torch.") if isinstance(got, torch.Tensor | np.ndarray) else ""
    if dtype in ("float16", "bfloat16"):
        raise ExerciseError(tr("{what} is in half precision ({dtype}), which keeps about 3 digits; use "
                               "float32 or float64", what=what, dtype=dtype))
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu().numpy()
    try:
        answer = np.asarray(got)
        if answer.dtype.kind not in "biuf" and not _numbers(answer):
            raise TypeError
        answer = answer.astype(np.float32 if answer.dtype == np.float32 else np.float64)
    except (TypeError, ValueError) as exc:
        raise ExerciseError(tr("{what} should be numbers; got {kind}", what=what,
                               kind=type(got).__name__)) from exc
    shape = tuple(shape)
    if shape == () and answer.size == 1:
        return answer.reshape(())
    if answer.shape != shape:
        if shape == ():
            raise ExerciseError(tr("{what} should be one number; got an array of shape {shape}", what=what,
                                   shape=answer.shape))
        raise ExerciseError(tr("{what} has shape {shape}, expected {expected}", what=what, shape=answer.shape,
                               expected=shape))
    return answer


def _numbers(answer: np.ndarray) -> bool:
    """Whether an object array (a list of tensors, say) holds only real numbers."""
    if answer.dtype.kind != "O" or any(isinstance(x, str | complex) for x in answer.flat):
        return False
    try:
        np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def tolerance(answer: np.ndarray) -> float:
    """The relative tolerance an answer (from ``as_answer``) is judged at: its precision's, see above."""
    if answer.dtype == np.float64:
        finite = answer[np.isfinite(answer)]
        if finite.size and np.array_equal(finite.astype(np.float32).astype(np.float64), finite):
            return RTOL[np.dtype(np.float32)]
    return RTOL[answer.dtype]


def _bound(answer: np.ndarray, expected, scale, slack: float) -> tuple[np.ndarray, np.ndarray]:
    """(|answer - expected|, the largest difference allowed), entry by entry."""
    expected = np.asarray(expected, dtype=np.float64)
    if scale is None:
        scale = float(np.abs(expected).max(initial=0.0))
    error = np.abs(answer.astype(np.float64) - expected)
    error = np.where(np.isnan(error), np.inf, error)  # NaN compares as infinitely wrong
    return error, tolerance(answer) * slack * np.maximum(np.abs(expected), scale)


def close_entries(answer: np.ndarray, expected, *, scale: float | None = None, slack: float = 1.0):
    """Entry by entry, whether answer (from ``as_answer``) is expected within the answer's tolerance."""
    error, allowed = _bound(answer, expected, scale, slack)
    return error <= allowed


def is_close(answer: np.ndarray, expected, *, scale: float | None = None, slack: float = 1.0) -> bool:
    """Whether every entry of answer (from ``as_answer``) is expected within the answer's tolerance."""
    return np.shape(answer) == np.shape(expected) and bool(close_entries(answer, expected, scale=scale,
                                                                           slack=slack).all())


def name_the_mistake(answer: np.ndarray, mistakes, *, scale: float, slack: float = 1.0) -> None:
    """Raise ExerciseError with the message of the first (wrong value, message) pair the answer matches
    (at its tolerance, entries judged at the right answer's ``scale``); return if it matches none."""
    for wrong, message in mistakes() if callable(mistakes) else mistakes:
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape != answer.shape and wrong.size == 1:
            wrong = np.full(answer.shape, float(wrong.reshape(())))
        if is_close(answer, wrong, scale=scale, slack=slack):
            raise ExerciseError(message)


def mismatch(what: str, answer: np.ndarray, expected, *, where: str = "", advice: str = "",
             scale: float | None = None, slack: float = 1.0) -> ExerciseError:
    """The error naming the worst entry: "what[3] should be 2.21795; yours is 2.21812", with one digit
    more than it takes for the two numbers to differ; ``where`` goes before it, ``advice`` after."""
    expected = np.asarray(expected, dtype=np.float64)
    error, allowed = _bound(answer, expected, scale, slack)
    worst = np.unravel_index(int(np.argmax(error / np.maximum(allowed, np.finfo(float).tiny))), error.shape)
    got, want = float(answer[worst]), float(expected[worst])
    index = ", ".join(map(str, worst))
    if not np.isfinite(got):
        message = (tr("{what}[{index}] is {got}, not a finite number", what=what, index=index, got=got)
                   if index else tr("{what} is {got}, not a finite number", what=what, got=got))
    else:
        numbers = {"want": want, "got": got, "digits": digits(got, want)}
        message = (tr("{what}[{index}] should be {want:.{digits}g}; yours is {got:.{digits}g}", what=what,
                      index=index, **numbers) if index
                   else tr("{what} should be {want:.{digits}g}; yours is {got:.{digits}g}", what=what,
                           **numbers))
    if where:
        message = tr("{where}: {message}", where=where, message=message)
    if advice:
        message = tr("{message}. {advice}", message=message, advice=advice)
    return ExerciseError(message)


def digits(got: float, want: float) -> int:
    """How many significant digits to print two different numbers with (format spec ``.{digits}g``): one
    past the first that differs, at least 5, so 2.21795 and 2.21812, 1 and 1.00002 never read alike."""
    first = next((n for n in range(1, 18) if "{:#.{n}g}".format(got, n=n) != "{:#.{n}g}".format(want, n=n)),
                 16)
    return max(first + 1, 5)


def check_close(what: str, got, expected, *, mistakes=(), where: str = "", advice: str = "",
                scale: float | None = None, slack: float = 1.0) -> np.ndarray:
    """The learner's result got as an array shaped like expected, if it is expected within its tolerance;
    else ExerciseError naming a matching mistake, or the worst entry (see ``mismatch``)."""
    answer = as_answer(what, got, np.shape(expected))
    if is_close(answer, expected, scale=scale, slack=slack):
        return answer
    if scale is None:
        scale = float(np.abs(np.asarray(expected, dtype=np.float64)).max(initial=0.0))
    name_the_mistake(answer, mistakes, scale=scale, slack=slack)
    raise mismatch(what, answer, expected, where=where, advice=advice, scale=scale, slack=slack)


def check_value(what: str, got, expected: float, *, hint: str = "", mistakes=(), rtol: float = 1e-3) -> str:
    """A derivation exercise's number: "Correct" if got is expected within rtol (1e-3: a number typed to
    4 significant digits passes), else ExerciseError "Not yet" with the first matching mistake's message,
    or the direction and rough size of the error; never the expected value. hint is added to "Not yet"."""
    x = float(as_answer(what, got, ()))
    if abs(x - expected) <= rtol * abs(expected):
        return passed(tr("{what} is right.", what=what))
    for wrong, message in mistakes:
        if abs(x - wrong) <= rtol * abs(wrong):
            raise ExerciseError(tr("Not yet: {message}", message=message))
    if not np.isfinite(x):
        size = tr("{what} is {got}, not a finite number", what=what, got=x)
    elif x * expected < 0:
        size = tr("{what} has the wrong sign", what=what)
    elif x == 0 or expected == 0:  # no ratio to describe
        size = tr("{what} is too large", what=what) if x > expected else tr("{what} is too small", what=what)
    else:
        ratio = max(x / expected, expected / x)
        band = (tr("by less than 10%") if ratio < 1.1 else tr("by less than a factor of 2") if ratio < 2
                else tr("by a factor between 2 and 10") if ratio < 10 else tr("by more than a factor of 10"))
        if expected > 0:
            size = (tr("{what} is too large, {band}", what=what, band=band) if x > expected
                    else tr("{what} is too small, {band}", what=what, band=band))
        else:
            size = (tr("{what} is too large in absolute value, {band}", what=what, band=band) if x < expected
                    else tr("{what} is too small in absolute value, {band}", what=what, band=band))
    message = tr("Not yet: {size}", size=size)
    if hint:
        message = tr("{message}. {hint}", message=message, hint=hint)
    raise ExerciseError(message)


def passed(message: str) -> str:
    """Print and return the success line a checker ends with; message arrives translated."""
    line = tr("Correct: {message}", message=message)
    print(line)
    return line


def random_spd(rng: np.random.Generator, n: int, eigenvalues: tuple = (0.1, 10.0)):
    """H [n, n] symmetric positive definite with log-uniform eigenvalues in eigenvalues = (low, high),
    and b [n] ~ N(0, I), as float64 tensors."""
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    H = q @ np.diag(np.exp(rng.uniform(*np.log(eigenvalues), size=n))) @ q.T
    return torch.as_tensor((H + H.T) / 2), torch.as_tensor(rng.normal(size=n))


def quadratic_params(H, theta_old):
    """A stand-in policy for line-search checkers: params [W (2, 2), b (2,)] at theta_old [6], and
    q() -> (1/2 d^T H d, d) with d = theta - theta_old, read from the params' current values."""
    weight, bias = theta_old[:4].reshape(2, 2), theta_old[4:]
    params = [torch.nn.Parameter(weight.clone()), torch.nn.Parameter(bias.clone())]

    def q():
        d = torch.cat([p.detach().reshape(-1) for p in params]) - theta_old
        return 0.5 * d @ H @ d, d

    return params, q
