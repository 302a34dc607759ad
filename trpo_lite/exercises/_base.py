"""What every exercise checker shares."""

import numpy as np
import torch


class ExerciseError(AssertionError):
    """The learner's answer is wrong; the message says how."""


def expect_shape(name: str, got, expected: tuple) -> np.ndarray:
    """Turn the learner's result into an array of the expected shape, or explain the mismatch."""
    if isinstance(got, torch.Tensor):
        got = got.detach()
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ExerciseError(f"{name} should be an array of numbers; got {type(got).__name__}") from exc
    if got.shape != tuple(expected):
        raise ExerciseError(f"{name} has shape {got.shape}, expected {tuple(expected)}")
    return got


def name_the_mistake(got, mistakes, rtol: float, atol: float) -> None:
    """Raise ExerciseError with the message of the first (wrong answer, message) pair that got matches
    (``np.allclose`` with rtol, atol: numbers and arrays alike); return if it matches none."""
    for wrong, message in mistakes:
        if np.allclose(got, wrong, rtol=rtol, atol=atol):
            raise ExerciseError(message)


def passed(message: str) -> str:
    """Print and return the success line a checker ends with."""
    line = f"Correct: {message}"
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
